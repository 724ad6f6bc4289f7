terraform {
  required_providers {
    cph = {
      source = "registry.terraform.io/cph-community/cph"
    }
  }
}

# Endpoint, project and credentials come from the environment:
# CPH_ENDPOINT (or HW_REGION_NAME), HW_PROJECT_ID, HW_ACCESS_KEY + HW_SECRET_KEY (or HW_AUTH_TOKEN).
provider "cph" {}

# How many phones the fleet has, to compare with what `terraform query` finds.
data "cph_phones" "fleet" {}

output "phones" {
  value = length(data.cph_phones.fleet.phones)
}
