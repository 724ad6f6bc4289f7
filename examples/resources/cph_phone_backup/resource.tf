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
  # The phones to back up, by name.
  backed_up = ["sim-phone-0010", "sim-phone-0017"]
}

# Back the media and apps of two phones up to OBS, one object per phone; bump "day" to back them up
# again. A phone added to the list is backed up alone.
resource "cph_phone_backup" "nightly" {
  phones = [for p in data.cph_phones.fleet.phones : {
    phone_id      = p.phone_id
    bucket_name   = "fleet-backups"
    object_path   = "nightly/${p.phone_name}.tar"
    include_files = ["/data/media", "/data/app/*"]
    exclude_files = ["/data/app/com.example.cache"]
  } if contains(local.backed_up, p.phone_name)]

  triggers = {
    day = "2026-11-27"
  }
}

output "backup_results" {
  value = { for j in cph_phone_backup.nightly.jobs : j.phone_id => j.status }
}
