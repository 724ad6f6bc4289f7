# Every phone of the project as the resources that would manage it: one cph_phone_property per
# server (the phones' current properties), and one cph_phone_power per server and power state.
list "cph_phone_property" "fleet" {
  provider = cph
}

list "cph_phone_power" "fleet" {
  provider = cph
}

# Narrower lists take the filters of the cph_phones data source, e.g. one server's phones, one per phone:
#
# list "cph_phone_power" "lab" {
#   provider = cph
#   config {
#     server_id = "dac948325ac18f6dd32564371735f32c"
#     group_by  = "phone"
#   }
# }
