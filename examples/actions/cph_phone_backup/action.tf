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

# Back two phones' media up to OBS on demand, one object per phone.
action "cph_phone_backup" "before_upgrade" {
  config {
    phones = [for p in data.cph_phones.fleet.phones : {
      phone_id      = p.phone_id
      bucket_name   = "fleet-backups"
      object_path   = "before-upgrade/${p.phone_name}.tar"
      include_files = ["/data/media"]
    } if contains(["sim-phone-0015", "sim-phone-0016"], p.phone_name)]
  }
}
