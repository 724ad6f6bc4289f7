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
  # The phone a support engineer connects to, by name.
  support = { for p in data.cph_phones.fleet.phones : p.phone_id => p.phone_name if p.phone_name == "sim-phone-0007" }
}

# Fresh access to the phone (Terraform 1.10 or newer): read while Terraform runs, never kept in state
# or in a plan file.
ephemeral "cph_phone_connection" "support" {
  phone_ids   = keys(local.support)
  client_type = "H5_PC"
}

# Hand each phone's access to the client when the session is created: the ticket reaches connect.sh
# through its environment alone (Terraform hides the output of a command given sensitive values).
resource "terraform_data" "support_session" {
  for_each = local.support

  input = each.value

  provisioner "local-exec" {
    command = "sh ${path.module}/connect.sh"
    environment = {
      PHONE_ID      = each.key
      PHONE_ADDRESS = "${ephemeral.cph_phone_connection.support.connections[each.key].access_ip}:${ephemeral.cph_phone_connection.support.connections[each.key].access_port}"
      PHONE_SESSION = ephemeral.cph_phone_connection.support.connections[each.key].session_id
      PHONE_TICKET  = ephemeral.cph_phone_connection.support.connections[each.key].ticket
      EXPIRES_AT    = ephemeral.cph_phone_connection.support.connections[each.key].expires_at
    }
  }
}
