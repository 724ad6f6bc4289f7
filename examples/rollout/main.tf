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

# The phones of one server (this id is the first server of cph-sim's default fixture: four phones).
data "cph_phones" "fleet" {
  server_id = "dac948325ac18f6dd32564371735f32c"
}

# Restart them in waves: 10% of four phones rounds up to one phone at a time, and a third failed phone stops
# the rollout (the phones not yet submitted are recorded `not_submitted`; the next apply carries on).
resource "cph_phone_restart" "fleet" {
  phone_ids = data.cph_phones.fleet.phones[*].phone_id
  rollout {
    max_in_flight = "10%" # or "50": phones with an unfinished job at any moment
    max_failures  = "2"   # or "1%": more failed phones than this stops the rollout
  }
}

output "restart_results" {
  value = { for j in cph_phone_restart.fleet.jobs : j.phone_id => j.status }
}
