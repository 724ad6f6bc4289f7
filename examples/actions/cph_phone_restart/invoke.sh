# Restart the phones now (Terraform 1.14 or newer); Terraform shows the progress as it goes, and the
# command fails naming every phone that did not restart.
terraform apply -invoke=action.cph_phone_restart.fleet
