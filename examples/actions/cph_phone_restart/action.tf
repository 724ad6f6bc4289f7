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

# Restart every running phone whose name starts with "sim-phone-00", ten at a time, stopping once
# more than two have failed. Nothing is kept in state: invoke it again to restart them again.
action "cph_phone_restart" "fleet" {
  config {
    phone_ids = [for p in data.cph_phones.running.phones : p.phone_id if startswith(p.phone_name, "sim-phone-00")]

    rollout {
      max_in_flight = "10"
      max_failures  = "2"
    }

    timeout = "30m"
  }
}
