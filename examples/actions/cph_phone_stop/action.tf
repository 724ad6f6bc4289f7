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

data "cph_phones" "fleet" {}

# Stop the phones named "sim-phone-0011" to "sim-phone-0013" now, for example ahead of maintenance.
# cph_phone_power keeps phones stopped as declared state instead; this action only stops them once.
action "cph_phone_stop" "maintenance" {
  config {
    phone_ids = [for p in data.cph_phones.fleet.phones : p.phone_id if contains(["sim-phone-0011", "sim-phone-0012", "sim-phone-0013"], p.phone_name)]
  }
}
