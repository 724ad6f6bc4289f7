//! Regenerates the property catalogue table of `docs/resources/phone_property.md` (between its
//! `property-catalogue` markers) from the one catalogue in cph-types:
//! `cargo run -p cph-types --example write-catalogue-docs`. A contract test fails while the page differs.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/resources/phone_property.md");
    let text = match std::fs::read_to_string(&page) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("cannot read {}: {e}", page.display());
            return ExitCode::FAILURE;
        }
    };
    let Some(updated) = cph_types::with_catalogue(&text) else {
        eprintln!(
            "{} has no {} ... {} markers",
            page.display(),
            cph_types::CATALOGUE_BEGIN,
            cph_types::CATALOGUE_END
        );
        return ExitCode::FAILURE;
    };
    if let Err(e) = std::fs::write(&page, updated) {
        eprintln!("cannot write {}: {e}", page.display());
        return ExitCode::FAILURE;
    }
    eprintln!("wrote the property catalogue into {}", page.display());
    ExitCode::SUCCESS
}
