//! JSON Schemas of the request types and the property map, as written to `schemas/` by
//! [`SCHEMAS_COMMAND`]. Generation is deterministic so a test can prove the files are current.

use std::io;
use std::path::{Path, PathBuf};

use schemars::{JsonSchema, Schema, schema_for};

use crate::connection::ConnectionRequest;
use crate::property::PropertyMap;
use crate::requests::{
    BatchOperation, ResetRequest, RestartRequest, RestoreRequest, StopRequest, StorageRequest,
    UpdatePropertyRequest,
};

/// The command that regenerates `schemas/` (run from the workspace root).
pub const SCHEMAS_COMMAND: &str = "cargo run -p cph-types --example write-schemas";

/// One generated schema file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDocument {
    /// File name inside `schemas/`, e.g. `reset-request.json`.
    pub file_name: &'static str,
    /// The schema itself.
    pub schema: serde_json::Value,
    /// The file's exact contents: pretty JSON and a final newline.
    pub contents: String,
}

fn document<T: JsonSchema>(file_name: &'static str) -> SchemaDocument {
    let schema: Schema = schema_for!(T);
    // A schema is a JSON value; rendering one cannot fail, but never panic on it.
    let mut contents = serde_json::to_string_pretty(&schema).unwrap_or_default();
    contents.push('\n');
    SchemaDocument {
        file_name,
        schema: schema.to_value(),
        contents,
    }
}

impl BatchOperation {
    /// The file `schemas/` publishes the operation's request schema in, e.g. `reset-request.json`.
    pub fn schema_file(self) -> &'static str {
        match self {
            BatchOperation::Reset => "reset-request.json",
            BatchOperation::Restart => "restart-request.json",
            BatchOperation::Stop => "stop-request.json",
            BatchOperation::UpdateProperty => "update-property-request.json",
            BatchOperation::Restore => "restore-request.json",
            BatchOperation::Storage => "storage-request.json",
        }
    }

    /// The JSON Schema of the operation's request body, exactly as `schemas/` publishes it: what
    /// a server checks a received body against (the simulator does).
    pub fn request_schema(self) -> SchemaDocument {
        let file = self.schema_file();
        match self {
            BatchOperation::Reset => document::<ResetRequest>(file),
            BatchOperation::Restart => document::<RestartRequest>(file),
            BatchOperation::Stop => document::<StopRequest>(file),
            BatchOperation::UpdateProperty => document::<UpdatePropertyRequest>(file),
            BatchOperation::Restore => document::<RestoreRequest>(file),
            BatchOperation::Storage => document::<StorageRequest>(file),
        }
    }
}

impl ConnectionRequest {
    /// The JSON Schema of the body, exactly as `schemas/` publishes it in [`Self::SCHEMA_FILE`].
    pub fn request_schema() -> SchemaDocument {
        document::<ConnectionRequest>(ConnectionRequest::SCHEMA_FILE)
    }
}

/// Every schema `schemas/` holds: one per request body (each batch operation's
/// [`BatchOperation::request_schema`], then [`ConnectionRequest`]'s), plus the property map.
pub fn schema_documents() -> Vec<SchemaDocument> {
    let mut documents: Vec<SchemaDocument> = BatchOperation::ALL
        .into_iter()
        .map(BatchOperation::request_schema)
        .collect();
    documents.push(document::<ConnectionRequest>(
        ConnectionRequest::SCHEMA_FILE,
    ));
    documents.push(document::<PropertyMap>("property-map.json"));
    documents
}

/// Writes every [`schema_documents`] file into `dir` (created if missing); returns the paths.
pub fn write_schemas(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    schema_documents()
        .into_iter()
        .map(|doc| {
            let path = dir.join(doc.file_name);
            std::fs::write(&path, doc.contents)?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(schema_documents(), schema_documents());
    }

    #[test]
    fn file_names_are_distinct_json_files() {
        let docs = schema_documents();
        for doc in &docs {
            assert!(doc.file_name.ends_with(".json"));
            assert_eq!(
                docs.iter().filter(|d| d.file_name == doc.file_name).count(),
                1
            );
            assert!(doc.contents.ends_with("}\n"));
        }
    }
}
