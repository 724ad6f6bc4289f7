terraform {
  required_providers {
    cph = {
      source = "registry.terraform.io/cph-community/cph"
    }
  }
}

# Every argument may come from the environment instead (see docs/index.md). An endpoint (CPH_ENDPOINT, as the
# simulator's export line sets) wins over `region`.
provider "cph" {
  region     = "cn-north-4"                       # or HW_REGION_NAME
  project_id = "0123456789abcdef0123456789abcdef" # or HW_PROJECT_ID
  # access_key / secret_key from HW_ACCESS_KEY / HW_SECRET_KEY: keep secrets out of .tf files.

  batch_size    = 100  # phones per batch request
  poll_interval = "5s" # the longest wait between polling rounds on jobs
  max_retries   = 5    # transient failures (throttling, 5xx) are retried with backoff
}

# The phones of one server (this id is the first server of cph-sim's default fixture), restarted in one batch.
data "cph_phones" "fleet" {
  server_id = "dac948325ac18f6dd32564371735f32c"
}

resource "cph_phone_restart" "fleet" {
  phones = [for p in data.cph_phones.fleet.phones : { phone_id = p.phone_id }]
}

output "restarted" {
  value = { for j in cph_phone_restart.fleet.jobs : j.phone_id => j.status }
}
