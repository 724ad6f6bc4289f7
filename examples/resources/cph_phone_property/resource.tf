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

locals {
  # Two phones, by name, with their own numbers and a shared Wi-Fi and locale: each phone keeps its
  # number whatever other phones join or leave the fleet.
  numbers = {
    "sim-phone-0006" = "13900000001"
    "sim-phone-0012" = "13900000002"
  }
}

# Properties are kept: a value changed outside Terraform shows up in the next plan, and changing one
# phone's map updates only that phone. The phones are listed in the data source's order (by id).
resource "cph_phone_property" "lab" {
  phones = [for p in data.cph_phones.fleet.phones : {
    phone_id = p.phone_id
    properties = {
      "sys.prop.writephonenum" = local.numbers[p.phone_name]
      "sys.prop.writewifissid" = "lab-wifi"
      "persist.sys.locale"     = "en-US"
      "ro.install.auto"        = "1"
    }
  } if contains(keys(local.numbers), p.phone_name)]
}

output "property_results" {
  value = { for j in cph_phone_property.lab.jobs : j.phone_id => j.status }
}
