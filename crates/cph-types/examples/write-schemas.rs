//! Regenerates the workspace's `schemas/` directory from the cph-types request types:
//! `cargo run -p cph-types --example write-schemas`.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    match cph_types::write_schemas(&dir) {
        Ok(paths) => {
            for path in paths {
                eprintln!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cannot write schemas to {}: {err}", dir.display());
            ExitCode::FAILURE
        }
    }
}
