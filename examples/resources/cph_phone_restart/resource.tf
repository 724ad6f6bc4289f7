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

data "cph_phones" "running" {
  status = "running"
}

locals {
  # The canary phones, by name.
  canaries = ["sim-phone-0006", "sim-phone-0010", "sim-phone-0017"]
}

# Restart the canaries that are running; bump "reason" to restart them again.
resource "cph_phone_restart" "canary" {
  phones = [for p in data.cph_phones.running.phones : { phone_id = p.phone_id } if contains(local.canaries, p.phone_name)]

  triggers = {
    reason = "weekly-restart-2026-47"
  }

  timeouts {
    create = "10m"
  }
}

output "restart_results" {
  value = { for j in cph_phone_restart.canary.jobs : j.phone_id => j.status }
}
