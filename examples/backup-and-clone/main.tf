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
  # A backup restores only onto a phone of the same or a newer Android version: clone within AOSP 11.
  aosp11  = [for p in data.cph_phones.fleet.phones : p.phone_id if p.image_version == "AOSP11"]
  sources = slice(local.aosp11, 0, 2)
  targets = slice(local.aosp11, 2, 4)
  # Each source's backup goes to the target at the same position.
  target_of = zipmap(local.sources, local.targets)
}

# Back the two source phones up ...
resource "cph_phone_backup" "golden" {
  phones = [for id in local.sources : {
    phone_id      = id
    bucket_name   = "fleet-backups"
    object_path   = "golden/${id}.tar"
    include_files = ["/data/media", "/data/app/*"]
  }]
}

# ... and restore each backup onto its target, which is then restarted (restart_after_restore).
resource "cph_phone_restore" "clone" {
  phones = [for p in cph_phone_backup.golden.phones : {
    phone_id    = local.target_of[p.phone_id]
    bucket_name = p.bucket_name
    object_path = p.object_path
  }]
}

output "clones" {
  value = { for j in cph_phone_restore.clone.jobs : j.phone_id => j.status }
}
