# Import the power state of one or more phones (comma-separated ids) into a cph_phone_power resource;
# `state` is read from the service (`stopped` when every phone is stopped, else `running`).
# These ids are sim-phone-0017, sim-phone-0010 and sim-phone-0006 of cph-sim's default fixture, the three
# resource.tf manages;
# the cph_phones data source lists the ids of yours (`data.cph_phones.lab.phones[*].phone_id`).
terraform import cph_phone_power.night 0be582eb7d2c652a66da5b396b1d6188,0d203864053903a33296d34c42b9e830,0f8482503f90ca4303aecc3ef99b8df2
