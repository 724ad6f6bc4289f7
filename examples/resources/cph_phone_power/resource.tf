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

# Keep the first three phones of the lab powered off: a refresh reads their statuses, and a phone
# powered on outside Terraform shows in the next plan and is stopped again, alone.
resource "cph_phone_power" "night" {
  phone_ids = slice(data.cph_phones.lab.phones[*].phone_id, 0, 3)
  state     = "stopped"

  rollout {
    max_in_flight = "50%"
  }
}

output "power_statuses" {
  value = cph_phone_power.night.statuses
}
