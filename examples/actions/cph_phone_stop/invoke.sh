# Stop the three phones now (Terraform 1.14 or newer).
terraform apply -invoke=action.cph_phone_stop.maintenance
