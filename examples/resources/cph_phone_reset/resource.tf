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
  # Phones by name: each keeps its settings whatever other phones join or leave the fleet.
  phone = { for p in data.cph_phones.fleet.phones : p.phone_name => p.phone_id }
}

# Reset two phones: the first to factory state (which also wipes properties set earlier),
# the second keeping its data but getting a new phone number.
resource "cph_phone_reset" "lab" {
  phones = [
    {
      phone_id      = local.phone["sim-phone-0017"]
      factory_reset = true
    },
    {
      phone_id = local.phone["sim-phone-0010"]
      properties = {
        "sys.prop.writephonenum" = "13800000001"
      }
    },
  ]

  allow_partial_failure = false
}

output "reset_results" {
  value = { for j in cph_phone_reset.lab.jobs : j.phone_id => j.status }
}
