//! The schema the provider serves, as Terraform sees it (`terraform providers schema -json`): a golden file per
//! Terraform version, and a check that `docs/` documents every attribute and block of every resource, data source
//! and the provider itself.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;
use terraform_provider_cph::PROVIDER_ADDRESS;
use test_support::terraform::{TerraformBinary, Workdir, binaries};

const UPDATE_VAR: &str = "UPDATE_GOLDEN";

/// Each kind of schema in `terraform providers schema -json` and the folder of `docs/` with a page per type.
const SCHEMA_KINDS: [(&str, &str); 5] = [
    ("resource_schemas", "resources"),
    ("data_source_schemas", "data-sources"),
    ("action_schemas", "actions"),
    ("list_resource_schemas", "list-resources"),
    ("ephemeral_resource_schemas", "ephemeral-resources"),
];

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

/// The schema the newest Terraform is served, read once for the tests of this file that check the docs
/// against it.
fn served_to_the_newest_terraform() -> &'static Value {
    static SERVED: OnceLock<Value> = OnceLock::new();
    SERVED.get_or_init(|| served_schema(&binaries().pop().unwrap()))
}

/// The golden file of a Terraform version: one per minor series (`1.0`, `1.11`, `1.15`).
fn golden_path(tf: &TerraformBinary) -> PathBuf {
    let series = tf.version.rsplit_once('.').map_or(&*tf.version, |(s, _)| s);
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
    let schema = served_to_the_newest_terraform();
    let provider = &schema["provider_schemas"][PROVIDER_ADDRESS];
    let mut problems = Vec::new();
    let mut check = |doc_path: String, block: &Value| {
        let missing = undocumented(&read_doc(&doc_path), block);
        if !missing.is_empty() {
            problems.push(format!("docs/{doc_path} does not document {missing:?}"));
        }
    };
    check("index.md".into(), &provider["provider"]["block"]);
    let mut strays = Vec::new();
    for (key, dir) in SCHEMA_KINDS {
        let mut served = BTreeSet::new();
        for (name, schema) in provider[key].as_object().into_iter().flatten() {
            let page = format!("{dir}/{}.md", name.trim_start_matches("cph_"));
            served.insert(page.clone());
            check(page, &schema["block"]);
        }
        // No page documents something the provider does not serve.
        let Ok(entries) = std::fs::read_dir(test_support::workspace_root().join("docs").join(dir))
        else {
            continue;
        };
        for entry in entries {
            let page = format!("{dir}/{}", entry.unwrap().file_name().to_string_lossy());
            if !served.contains(&page) {
                strays.push(format!("docs/{page} documents nothing the provider serves"));
            }
        }
    }
    problems.extend(strays);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The pages' argument and attribute lists are what `write-reference-docs` renders from the schemas.
#[test]
fn reference_lists_in_docs_are_rendered_from_the_schemas() {
    let mut stale = Vec::new();
    for page in terraform_provider_cph::reference_docs::reference_pages() {
        let text =
            std::fs::read_to_string(test_support::workspace_root().join(&page.path)).unwrap();
        match page.render(&text) {
            Ok(rendered) if rendered == text => {}
            Ok(_) => stale.push(page.path.clone()),
            Err(e) => stale.push(e),
        }
    }
    assert!(
        stale.is_empty(),
        "these pages' generated lists differ from the schemas: {stale:?}; run `cargo run -p terraform-provider-cph \
         --example write-reference-docs` and review the diff"
    );
}

/// One line per description, as the generated lists write them.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `(name, required, optional, description)` of every attribute and nested block of `block` (as Terraform
/// serves it), with the block's own path prefix.
fn served_items(block: &Value, out: &mut Vec<(String, bool, bool, String)>) {
    if let Some(attrs) = block["attributes"].as_object() {
        for (name, attr) in attrs {
            out.push((
                name.clone(),
                attr["required"].as_bool().unwrap_or(false),
                attr["optional"].as_bool().unwrap_or(false),
                one_line(attr["description"].as_str().unwrap_or("")),
            ));
            if attr["nested_type"].is_object() {
                served_items(&attr["nested_type"], out);
            }
        }
    }
    if let Some(blocks) = block["block_types"].as_object() {
        for (name, nested) in blocks {
            out.push((
                name.clone(),
                nested["min_items"].as_u64().unwrap_or(0) > 0,
                nested["min_items"].as_u64().unwrap_or(0) == 0,
                one_line(nested["block"]["description"].as_str().unwrap_or("")),
            ));
            served_items(&nested["block"], out);
        }
    }
}

/// What the newest Terraform is served (the golden file `served_schema_matches_the_golden_files` checks) is what each
/// page's lists say: for every attribute and block, a line with its name, `Required` or `Optional` (neither for
/// what only the provider sets), and its served description, whose last sentence gives the default.
#[test]
fn each_page_gives_every_served_attribute_its_presence_description_and_default() {
    let schema = served_to_the_newest_terraform();
    let provider = &schema["provider_schemas"][PROVIDER_ADDRESS];
    let mut pages = vec![("index.md".to_owned(), &provider["provider"]["block"])];
    for (kind, dir) in SCHEMA_KINDS {
        for (name, s) in provider[kind].as_object().into_iter().flatten() {
            pages.push((
                format!("{dir}/{}.md", name.trim_start_matches("cph_")),
                &s["block"],
            ));
        }
    }
    let mut problems = Vec::new();
    for (page, block) in pages {
        let doc = read_doc(&page);
        let mut items = Vec::new();
        served_items(block, &mut items);
        for (name, required, optional, description) in items {
            let presence = if required {
                "Required, "
            } else if optional {
                "Optional, "
            } else {
                ""
            };
            let found = doc.lines().any(|line| {
                let Some(rest) = line.trim_start().strip_prefix(&format!("* `{name}` (")) else {
                    return false;
                };
                // An argument's line says Required or Optional; a computed attribute's says neither.
                let says_presence =
                    rest.starts_with("Required, ") || rest.starts_with("Optional, ");
                rest.starts_with(presence)
                    && says_presence != presence.is_empty()
                    && rest.ends_with(&description)
            });
            if !found {
                problems.push(format!(
                    "docs/{page}: no line `* `{name}` ({presence}...) {description}`"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The ```` ```terraform ```` and ```` ```shell ```` blocks of README.md and docs/: configurations and
/// `terraform import` lines a user copies. (```` ```sh ```` blocks are commands of this repository's scripts,
/// ```` ```hcl ```` blocks Terraform CLI configuration.)
fn user_snippets() -> Vec<(String, String)> {
    let root = test_support::workspace_root();
    let mut files = vec![root.join("README.md")];
    files.extend(
        test_support::files_under(&root.join("docs"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    let mut snippets = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let fence = line.trim_start();
            if fence == "```terraform" || fence == "```shell" {
                let indent = line.len() - fence.len();
                let body: Vec<&str> = lines
                    .by_ref()
                    .take_while(|l| l.trim_start() != "```")
                    .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
                    .collect();
                let name = file.strip_prefix(&root).unwrap().display().to_string();
                snippets.push((name, body.join("\n") + "\n"));
            }
        }
    }
    snippets
}

/// Every configuration and import line shown in README.md and docs/ is copied from a file of `examples/`
/// (whole, or a run of whole lines), and `tests/examples.rs` applies every folder of `examples/` against the
/// simulator: so what the documentation shows runs.
#[test]
fn readme_and_docs_snippets_are_copied_from_examples() {
    let root = test_support::workspace_root().join("examples");
    let examples: Vec<String> = test_support::files_under(&root)
        .into_iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "tf" || e == "sh" || e == "hcl")
        })
        .map(|p| "\n".to_owned() + &std::fs::read_to_string(&p).unwrap())
        .collect();
    let snippets = user_snippets();
    assert!(
        snippets.len() >= 10,
        "expected the snippets of README.md and docs/, found {}",
        snippets.len()
    );
    let strays: Vec<String> = snippets
        .into_iter()
        .filter(|(_, body)| !examples.iter().any(|e| e.contains(&format!("\n{body}"))))
        .map(|(file, body)| format!("{file}:\n{body}"))
        .collect();
    assert!(
        strays.is_empty(),
        "snippets that are not copied from a file of examples/ (copy them from one, or add them to one that \
         tests/examples.rs applies):\n{}",
        strays.join("\n")
    );
}

/// The first column of a page's "How this resource converges" table.
fn convergence_table_changes(doc: &str) -> String {
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with("How this resource converges"))
        .unwrap_or("");
    section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("|---"))
        .filter_map(|l| l.split(" | ").next())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each resource page says, in its "How this resource converges" table, what a change to each argument does: every
/// argument a configuration sets (nested attributes included) and every block is named in the table's first column.
#[test]
fn each_resource_page_says_what_a_change_to_each_argument_does() {
    let schema = served_to_the_newest_terraform();
    let provider = &schema["provider_schemas"][PROVIDER_ADDRESS];
    let mut problems = Vec::new();
    for (name, resource) in provider["resource_schemas"].as_object().unwrap() {
        let page = format!("resources/{}.md", name.trim_start_matches("cph_"));
        let changes = convergence_table_changes(&read_doc(&page));
        // Attributes, nested ones included; a nested block is covered by its own name (what a change inside
        // `rollout` or `timeouts` does is said for the whole block).
        let mut attributes = resource["block"].clone();
        let blocks = attributes["block_types"].take();
        let mut items = Vec::new();
        served_items(&attributes, &mut items);
        let block_names = blocks
            .as_object()
            .into_iter()
            .flat_map(|b| b.keys().cloned());
        let arguments = items
            .into_iter()
            .filter(|(_, required, optional, _)| *required || *optional)
            .map(|(name, ..)| name)
            .chain(block_names);
        for argument in arguments {
            if !changes.contains(&format!("`{argument}`")) {
                problems.push(format!(
                    "docs/{page}: the \"How this resource converges\" table does not say what a change to `{argument}` does"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
