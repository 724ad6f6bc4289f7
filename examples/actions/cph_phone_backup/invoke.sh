# Back the two phones up now (Terraform 1.14 or newer).
terraform apply -invoke=action.cph_phone_backup.before_upgrade
