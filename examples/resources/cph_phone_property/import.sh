# Import the properties of one or more phones (comma-separated ids) into a cph_phone_property resource.
terraform import cph_phone_property.lab 0123456789abcdef0123456789abcdef,fedcba9876543210fedcba9876543210
