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
  # Phones by name: each gets its own backup whatever other phones join or leave the fleet.
  phone = { for p in data.cph_phones.fleet.phones : p.phone_name => p.phone_id }
}

# Restore two phones from their OBS backups; each restored phone is restarted afterwards
# (restart_after_restore defaults to true, as the vendor advises).
resource "cph_phone_restore" "from_backup" {
  phones = [
    {
      phone_id    = local.phone["sim-phone-0008"]
      bucket_name = "phone-backups"
      object_path = "2026-11-20/sim-phone-0008.tar"
    },
    {
      phone_id    = local.phone["sim-phone-0019"]
      bucket_name = "phone-backups"
      object_path = "2026-11-20/sim-phone-0019.tar"
    },
  ]
}

output "restore_results" {
  value = { for j in cph_phone_restore.from_backup.jobs : j.phone_id => j.status }
}
