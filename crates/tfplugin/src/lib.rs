//! tfplugin: see Cargo.toml description.
