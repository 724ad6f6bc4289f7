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

# The fleet as the service lists it.
data "cph_phones" "fleet" {}

locals {
  phones = data.cph_phones.fleet.phones
}

# 1. Restart every phone of the fleet in a few batch requests, waiting on all jobs together.
resource "cph_phone_restart" "fleet" {
  phone_ids = local.phones[*].phone_id

  triggers = {
    reason = "quickstart"
  }
}

# 2. Give three phones, by name, their own numbers and a common Wi-Fi SSID, once the restart is done.
#    Each phone keeps its number whatever other phones join or leave the fleet.
locals {
  numbers = {
    "sim-phone-0001" = "13800000001"
    "sim-phone-0002" = "13800000002"
    "sim-phone-0003" = "13800000003"
  }
}

resource "cph_phone_property" "numbers" {
  phones = [for p in local.phones : {
    phone_id = p.phone_id
    properties = {
      "sys.prop.writephonenum" = local.numbers[p.phone_name]
      "sys.prop.writewifissid" = "quickstart-wifi"
    }
  } if contains(keys(local.numbers), p.phone_name)]

  depends_on = [cph_phone_restart.fleet]
}

output "restart_results" {
  description = "Each phone's restart job and outcome."
  value       = [for j in cph_phone_restart.fleet.jobs : "${j.phone_id}  ${j.status}  job ${j.job_id}"]
}

output "property_results" {
  description = "Each phone's property update outcome."
  value       = [for j in cph_phone_property.numbers.jobs : "${j.phone_id}  ${j.status}"]
}
