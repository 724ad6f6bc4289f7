# Restore the phone now, then restart it (Terraform 1.14 or newer).
terraform apply -invoke=action.cph_phone_restore.rollback
