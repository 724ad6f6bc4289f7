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

# Every phone of the project.
data "cph_phones" "all" {}

# Only the phones stopped right now (none in cph-sim's fixture until something stops them). To keep phones
# powered on, give a fixed list such as data.cph_phones.all.phones[*].phone_id to a cph_phone_power with
# state = "running": a list filtered by status changes as the phones start and stop.
data "cph_phones" "stopped" {
  status = "stopped"
}

output "phone_count" {
  value = length(data.cph_phones.all.phones)
}

output "phones_by_server" {
  value = { for p in data.cph_phones.all.phones : p.phone_id => p.server_id }
}

output "stopped_phone_ids" {
  value = data.cph_phones.stopped.phones[*].phone_id
}
