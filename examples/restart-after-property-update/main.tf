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
  # The phones of the lab, by name.
  lab = [for p in data.cph_phones.fleet.phones : p.phone_id if contains(["sim-phone-0002", "sim-phone-0003"], p.phone_name)]
}

# Give the lab phones their locale and Wi-Fi SSID and, each time the properties are set or changed, restart those
# phones once through the cph_phone_restart action (Terraform 1.14 or newer): the property resource
# keeps each phone's truth in state, and the restart keeps nothing.
resource "cph_phone_property" "lab" {
  phones = [for id in local.lab : {
    phone_id = id
    properties = {
      "persist.sys.locale"     = "en-GB"
      "sys.prop.writewifissid" = "lab-wifi"
    }
  }]

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.cph_phone_restart.lab]
    }
  }
}

action "cph_phone_restart" "lab" {
  config {
    phone_ids = local.lab
  }
}
