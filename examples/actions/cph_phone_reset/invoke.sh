# Reset the two phones now (Terraform 1.14 or newer).
terraform apply -invoke=action.cph_phone_reset.lab
