# Adopt the fleet (Terraform 1.14 or newer): list it, write a resource block and an `import` block
# (by identity) for each group of phones found, check that the plan only imports, then import.
terraform query -generate-config-out=generated.tf
terraform plan
terraform apply
