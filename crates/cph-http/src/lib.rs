//! cph-http: see Cargo.toml description.
