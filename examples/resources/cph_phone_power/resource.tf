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

data "cph_phones" "lab" {}

locals {
  # The phones to keep off at night, by name.
  night = ["sim-phone-0006", "sim-phone-0010", "sim-phone-0017"]
}

# Keep three phones of the lab powered off: a refresh reads their statuses, and a phone powered on
# outside Terraform shows in the next plan and is stopped again, alone.
resource "cph_phone_power" "night" {
  phone_ids = [for p in data.cph_phones.lab.phones : p.phone_id if contains(local.night, p.phone_name)]
  state     = "stopped"

  rollout {
    max_in_flight = "50%"
  }
}

output "power_statuses" {
  value = cph_phone_power.night.statuses
}
