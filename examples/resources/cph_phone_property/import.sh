# Import the properties of one or more phones (comma-separated ids) into a cph_phone_property resource, with
# the keys the configuration manages after a "/" (only those are recorded, so the first plan compares them alone).
# These ids are sim-phone-0006 and sim-phone-0012 of cph-sim's default fixture, the two resource.tf manages;
# the cph_phones data source lists the ids of yours (`data.cph_phones.fleet.phones[*].phone_id`).
terraform import cph_phone_property.lab 0f8482503f90ca4303aecc3ef99b8df2,10f2b237fa7ebeb060940ec967656330/sys.prop.writephonenum,sys.prop.writewifissid,persist.sys.locale,ro.install.auto
