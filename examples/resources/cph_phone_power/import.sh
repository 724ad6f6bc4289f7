# Import the power state of one or more phones (comma-separated ids) into a cph_phone_power resource;
# `state` is read from the service (`stopped` when every phone is stopped, else `running`).
terraform import cph_phone_power.night 0123456789abcdef0123456789abcdef,fedcba9876543210fedcba9876543210
