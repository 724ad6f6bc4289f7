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

# Restore a phone's data from its OBS backup on demand; it is restarted afterwards
# (restart_after_restore defaults to true, as the vendor advises).
action "cph_phone_restore" "rollback" {
  config {
    phones = [
      {
        phone_id    = local.phone["sim-phone-0014"]
        bucket_name = "phone-backups"
        object_path = "2026-11-20/sim-phone-0014.tar"
      },
    ]
  }
}
