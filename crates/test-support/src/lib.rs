//! test-support: see Cargo.toml description.
