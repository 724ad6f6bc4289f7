//! terraform-provider-cph: the provider binary.
fn main() {}
