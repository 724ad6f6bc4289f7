//! cph-types: see Cargo.toml description.
