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
  phone = { for p in data.cph_phones.fleet.phones : p.phone_name => p }
  # Which phone is cloned onto which, by name. A backup restores only onto a phone of the same or a
  # newer Android version: these four are all AOSP 11.
  clones = {
    "sim-phone-0001" = "sim-phone-0004"
    "sim-phone-0007" = "sim-phone-0010"
  }
  # Each source's backup goes to its target.
  target_of = { for source, target in local.clones : local.phone[source].phone_id => local.phone[target].phone_id }
}

# Back the two source phones up ...
resource "cph_phone_backup" "golden" {
  phones = [for source in keys(local.clones) : {
    phone_id      = local.phone[source].phone_id
    bucket_name   = "fleet-backups"
    object_path   = "golden/${source}.tar"
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
