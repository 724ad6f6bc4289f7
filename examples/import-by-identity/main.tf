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

# Adopt three running phones by identity (Terraform 1.12 or newer): the identity is the phones' ids,
# here sim-phone-0017, sim-phone-0010 and sim-phone-0006 of cph-sim's default fixture. The plan
# imports them and changes nothing, since they are running as declared.
import {
  to = cph_phone_power.day
  identity = {
    phone_ids = ["0be582eb7d2c652a66da5b396b1d6188", "0d203864053903a33296d34c42b9e830", "0f8482503f90ca4303aecc3ef99b8df2"]
  }
}

resource "cph_phone_power" "day" {
  phone_ids = ["0be582eb7d2c652a66da5b396b1d6188", "0d203864053903a33296d34c42b9e830", "0f8482503f90ca4303aecc3ef99b8df2"]
  state     = "running"
}
