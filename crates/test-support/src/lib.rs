//! Helpers shared by the workspace's tests, never shipped: locating (and, when missing, installing) the
//! Terraform binaries the end-to-end tests drive, throw-away Terraform working directories wired to a
//! locally built provider through `dev_overrides`, and an in-process simulator on its own runtime.
//!
//! ```no_run
//! use test_support::terraform::{binaries, Workdir};
//! for tf in binaries() {
//!     let dir = Workdir::new(&tf, "registry.terraform.io/example/example", "/path/to/terraform-provider-example");
//!     dir.write("main.tf", "resource \"example_thing\" \"a\" {}");
//!     dir.run(&["apply", "-auto-approve"]).assert_success();
//! }
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout)]

pub mod sim;
pub mod terraform;

use std::path::{Path, PathBuf};

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(here)
}

/// Every file under `dir`, in its subdirectories too, sorted by path.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        None => workspace_root().join("target"),
    }
}
