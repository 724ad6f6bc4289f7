//! The schema the provider serves, as Terraform sees it (`terraform providers schema -json`): a golden file per
//! Terraform version, and a check that `docs/` documents every attribute and block of every resource, data source
//! and the provider itself.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use terraform_provider_cph::PROVIDER_ADDRESS;
use test_support::terraform::{TerraformBinary, Workdir, binaries};

const UPDATE_VAR: &str = "UPDATE_GOLDEN";

fn served_schema(tf: &TerraformBinary) -> Value {
    let dir = Workdir::new(
        tf,
        PROVIDER_ADDRESS,
        env!("CARGO_BIN_EXE_terraform-provider-cph"),
    );
    dir.write(
        "main.tf",
        &format!("terraform {{\n  required_providers {{\n    cph = {{ source = \"{PROVIDER_ADDRESS}\" }}\n  }}\n}}\n"),
    );
    let run = dir.run(&["providers", "schema", "-json"]);
    run.assert_success();
    serde_json::from_str(&run.stdout).unwrap()
}

fn golden_path(tf: &TerraformBinary) -> PathBuf {
    let series = if tf.version.starts_with("1.0.") {
        "1.0"
    } else {
        "1.11"
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/golden/providers-schema-terraform-{series}.json"
    ))
}

#[test]
fn served_schema_matches_the_golden_files() {
    for tf in binaries() {
        let actual = serde_json::to_string_pretty(&served_schema(&tf)).unwrap() + "\n";
        let path = golden_path(&tf);
        if std::env::var_os(UPDATE_VAR).is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            expected == actual,
            "`terraform providers schema -json` ({tf}) differs from {}.\nIf the change is intended, regenerate with \
             `{UPDATE_VAR}=1 cargo test -p terraform-provider-cph --test schema` and review the diff.\nServed:\n{actual}",
            path.display()
        );
    }
}

/// The attribute names of the object types inside a type in Terraform's JSON type syntax
/// (`["list", ["object", {"phone_id": "string"}]]`).
fn object_keys(ty: &Value, out: &mut BTreeSet<String>) {
    match ty {
        Value::Array(parts) if parts.first() == Some(&Value::from("object")) => {
            if let Some(attrs) = parts.get(1).and_then(Value::as_object) {
                for (name, inner) in attrs {
                    out.insert(name.clone());
                    object_keys(inner, out);
                }
            }
        }
        Value::Array(parts) => parts.iter().skip(1).for_each(|p| object_keys(p, out)),
        _ => {}
    }
}

/// Every attribute and nested block name of a schema block, nested attributes and the attributes of
/// object-typed values included.
fn names(block: &Value, out: &mut BTreeSet<String>) {
    if let Some(attrs) = block["attributes"].as_object() {
        for (name, attr) in attrs {
            out.insert(name.clone());
            if attr["nested_type"].is_object() {
                names(&attr["nested_type"], out);
            }
            object_keys(&attr["type"], out);
        }
    }
    if let Some(blocks) = block["block_types"].as_object() {
        for (name, nested) in blocks {
            out.insert(name.clone());
            names(&nested["block"], out);
        }
    }
}

fn undocumented(doc: &str, block: &Value) -> Vec<String> {
    let mut all = BTreeSet::new();
    names(block, &mut all);
    all.into_iter()
        .filter(|n| !doc.contains(&format!("`{n}`")))
        .collect()
}

fn read_doc(relative: &str) -> String {
    let path = test_support::workspace_root().join("docs").join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{} is missing ({e})", path.display()))
}

#[test]
fn docs_document_every_served_attribute_and_block() {
    let tf = binaries().pop().unwrap();
    let schema = served_schema(&tf);
    let provider = &schema["provider_schemas"][PROVIDER_ADDRESS];
    let mut problems = Vec::new();
    let mut check = |doc_path: String, block: &Value| {
        let missing = undocumented(&read_doc(&doc_path), block);
        if !missing.is_empty() {
            problems.push(format!("docs/{doc_path} does not document {missing:?}"));
        }
    };
    check("index.md".into(), &provider["provider"]["block"]);
    let mut resource_docs = BTreeSet::new();
    for (name, resource) in provider["resource_schemas"].as_object().unwrap() {
        let page = format!("resources/{}.md", name.trim_start_matches("cph_"));
        resource_docs.insert(page.clone());
        check(page, &resource["block"]);
    }
    let mut data_docs = BTreeSet::new();
    for (name, data) in provider["data_source_schemas"].as_object().unwrap() {
        let page = format!("data-sources/{}.md", name.trim_start_matches("cph_"));
        data_docs.insert(page.clone());
        check(page, &data["block"]);
    }
    // No page documents something the provider does not serve.
    for (dir, served) in [("resources", &resource_docs), ("data-sources", &data_docs)] {
        for entry in
            std::fs::read_dir(test_support::workspace_root().join("docs").join(dir)).unwrap()
        {
            let page = format!("{dir}/{}", entry.unwrap().file_name().to_string_lossy());
            if !served.contains(&page) {
                problems.push(format!("docs/{page} documents nothing the provider serves"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
