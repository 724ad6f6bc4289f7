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
  # Two phones with their own numbers and a shared Wi-Fi and locale.
  numbers = {
    (data.cph_phones.fleet.phones[2].phone_id) = "13900000001"
    (data.cph_phones.fleet.phones[3].phone_id) = "13900000002"
  }
}

# Properties are kept: a value changed outside Terraform shows up in the next plan, and changing one
# phone's map updates only that phone.
resource "cph_phone_property" "lab" {
  phones = [for id, number in local.numbers : {
    phone_id = id
    properties = {
      "sys.prop.writephonenum" = number
      "sys.prop.writewifissid" = "lab-wifi"
      "persist.sys.locale"     = "en-US"
      "ro.install.auto"        = "1"
    }
  }]
}

output "property_results" {
  value = { for j in cph_phone_property.lab.jobs : j.phone_id => j.status }
}
