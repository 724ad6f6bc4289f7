//! cph-sim: see Cargo.toml description.
