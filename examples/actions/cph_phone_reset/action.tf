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
  # Phones by name.
  phone = { for p in data.cph_phones.fleet.phones : p.phone_name => p.phone_id }
}

# Reset two phones on demand: the first to factory state, the second keeping its data but getting a
# new phone number.
action "cph_phone_reset" "lab" {
  config {
    phones = [
      {
        phone_id      = local.phone["sim-phone-0004"]
        factory_reset = true
      },
      {
        phone_id = local.phone["sim-phone-0005"]
        properties = {
          "sys.prop.writephonenum" = "13800000002"
        }
      },
    ]
  }
}
