//! Writes the generated parts of every page of `docs/` (between their `<!-- NAME:begin -->` and
//! `<!-- NAME:end -->` marker lines): the argument and attribute lists, from the schemas the
//! provider serves, and the property catalogue of the `cph_phone_property` page, from cph-types:
//! `cargo run -p terraform-provider-cph --example write-reference-docs`.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use terraform_provider_cph::reference_docs::reference_pages;

fn main() -> ExitCode {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for page in reference_pages() {
        let path = root.join(&page.path);
        let result = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: {e}", page.path))
            .and_then(|text| page.render(&text).map(|new| (text, new)))
            .and_then(|(text, new)| {
                if new == text {
                    println!("{}: up to date", page.path);
                    Ok(())
                } else {
                    println!("{}: written", page.path);
                    std::fs::write(&path, new).map_err(|e| format!("{}: {e}", page.path))
                }
            });
        if let Err(e) = result {
            eprintln!("write-reference-docs: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
