//! `terraform-provider-tfexample`: a small provider built on tfplugin, used by the launcher and
//! Terraform end-to-end tests and as a template. Provider address `example.com/test/tfexample`.
//!
//! - `tfexample_thing`: a resource held in state only. `name` forces replacement; `size`, `labels`
//!   and `items` (nested attributes) update in place; `id` is computed once, `digest` on every change;
//!   `create_delay_ms` makes create wait (ended early by StopProvider); importable by id.
//! - `tfexample_echo`: a data source returning `text` upper-cased (`text = "__panic__"` panics, which
//!   exercises the runtime's panic guard).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, ConfigureRequest, Context,
    DataSource, Diagnostic, Diagnostics, ImportResponse, NestedBlock, ObjectNesting, Presence,
    Provider, Registry, Resource, Schema, Type, Value,
};

/// What configure produces: the id prefix.
struct Settings {
    prefix: String,
}

struct Example;

impl Provider for Example {
    type Data = Settings;

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new().attribute(
                Attribute::optional("prefix", Type::String).description("Prefix of thing ids."),
            ),
        )
    }

    fn register(&self, registry: &mut Registry<Settings>) {
        registry.resource(Thing).data_source(Echo);
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Some(prefix) = config.get("prefix").and_then(Value::as_str)
            && prefix.is_empty()
        {
            diags.attribute_error(
                AttributePath::root("prefix"),
                "Invalid Prefix",
                "prefix must not be empty",
            );
        }
        diags
    }

    async fn configure(&self, req: ConfigureRequest, _diags: &mut Diagnostics) -> Option<Settings> {
        let prefix = req
            .config
            .get("prefix")
            .and_then(Value::as_str)
            .unwrap_or("thing")
            .to_owned();
        Some(Settings { prefix })
    }
}

/// The inputs of `tfexample_thing`, read through the serde bridge.
#[derive(Debug, Serialize, Deserialize)]
struct ThingInputs {
    name: String,
    size: Option<i64>,
    labels: Option<BTreeMap<String, String>>,
    items: Option<Vec<Item>>,
    create_delay_ms: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Item {
    key: String,
    value: Option<String>,
}

struct Thing;

impl Thing {
    fn digest(inputs: &ThingInputs) -> String {
        // FNV-1a over a canonical rendering of the inputs that can change in place.
        let text = format!("{:?}|{:?}|{:?}", inputs.size, inputs.labels, inputs.items);
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}")
    }

    fn finish(planned: Value, id: String) -> ApplyResponse {
        let inputs: ThingInputs = match tfplugin::from_value(&strip_unknown(&planned)) {
            Ok(i) => i,
            Err(e) => return ApplyResponse::failed(Value::Null, Diagnostics::from(e)),
        };
        let mut state = planned;
        state.set_path(&AttributePath::root("id"), Value::from(id));
        state.set_path(
            &AttributePath::root("digest"),
            Value::from(Thing::digest(&inputs)),
        );
        ApplyResponse::ok(state)
    }
}

/// The planned state with its unknowns (the computed attributes about to be set) made null.
fn strip_unknown(v: &Value) -> Value {
    match v {
        Value::Unknown => Value::Null,
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), strip_unknown(v)))
                .collect(),
        ),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), strip_unknown(v)))
                .collect(),
        ),
        Value::List(items) => Value::List(items.iter().map(strip_unknown).collect()),
        Value::Set(items) => Value::Set(items.iter().map(strip_unknown).collect()),
        other => other.clone(),
    }
}

impl Resource<Settings> for Thing {
    fn type_name(&self) -> String {
        "tfexample_thing".into()
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .description("A thing kept in Terraform state only.")
                .attribute(Attribute::computed("id", Type::String).use_state_for_unknown())
                .attribute(Attribute::required("name", Type::String).requires_replace())
                .attribute(Attribute::optional("size", Type::Number))
                .attribute(Attribute::optional("labels", Type::map(Type::String)))
                .attribute(Attribute::nested(
                    "items",
                    ObjectNesting::List,
                    Presence::Optional,
                    vec![
                        Attribute::required("key", Type::String),
                        Attribute::optional("value", Type::String),
                    ],
                ))
                .attribute(Attribute::optional("create_delay_ms", Type::Number))
                .attribute(Attribute::computed("digest", Type::String))
                .block(NestedBlock::single(
                    "timeouts",
                    Block::new().attribute(Attribute::optional("create", Type::String)),
                )),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Some(items) = config.get("items").and_then(Value::as_elements) {
            for (i, item) in items.iter().enumerate() {
                if item.get("key").and_then(Value::as_str) == Some("") {
                    diags.attribute_error(
                        AttributePath::root("items").index(i).attr("key"),
                        "Empty Item Key",
                        "each item needs a non-empty key",
                    );
                }
            }
        }
        diags
    }

    async fn create(&self, ctx: &Context<Settings>, req: ApplyRequest) -> ApplyResponse {
        let settings = match ctx.data() {
            Ok(s) => s,
            Err(d) => return ApplyResponse::failed(Value::Null, d),
        };
        let name = req
            .planned_state
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let delay = req
            .planned_state
            .get("create_delay_ms")
            .and_then(Value::as_number)
            .and_then(|n| n.as_u64());
        if let Some(ms) = delay {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                () = ctx.cancellation().cancelled() => {
                    return ApplyResponse::failed(
                        Value::Null,
                        Diagnostic::error("Interrupted", format!("creating thing {name:?} was stopped by the user")),
                    );
                }
            }
        }
        Thing::finish(req.planned_state, format!("{}-{name}", settings.prefix))
    }

    async fn update(&self, _ctx: &Context<Settings>, req: ApplyRequest) -> ApplyResponse {
        let id = req
            .prior_state
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Thing::finish(req.planned_state, id)
    }

    async fn import(&self, ctx: &Context<Settings>, id: String) -> ImportResponse {
        let prefix = ctx.data().map(|s| s.prefix.clone()).unwrap_or_default();
        let Some(name) = id.strip_prefix(&format!("{prefix}-")) else {
            return ImportResponse {
                diagnostics: Diagnostic::error(
                    "Invalid Import Id",
                    format!("id {id:?} does not start with {prefix:?}-"),
                )
                .into(),
                ..ImportResponse::default()
            };
        };
        let inputs = ThingInputs {
            name: name.to_owned(),
            size: None,
            labels: None,
            items: None,
            create_delay_ms: None,
        };
        let mut state = match tfplugin::to_value(&inputs, &Resource::schema(self).value_type()) {
            Ok(v) => v,
            Err(e) => {
                return ImportResponse {
                    diagnostics: e.into(),
                    ..ImportResponse::default()
                };
            }
        };
        state.set_path(&AttributePath::root("id"), Value::from(id));
        state.set_path(
            &AttributePath::root("digest"),
            Value::from(Thing::digest(&inputs)),
        );
        ImportResponse {
            state,
            ..ImportResponse::default()
        }
    }
}

struct Echo;

impl DataSource<Settings> for Echo {
    fn type_name(&self) -> String {
        "tfexample_echo".into()
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .attribute(Attribute::required("text", Type::String))
                .attribute(Attribute::computed("upper", Type::String)),
        )
    }

    async fn read(&self, _ctx: &Context<Settings>, config: Value) -> (Value, Diagnostics) {
        let text = config
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if text == "__panic__" {
            panic!("echo was asked to panic");
        }
        let mut state = config;
        state.set_path(
            &AttributePath::root("upper"),
            Value::from(text.to_uppercase()),
        );
        (state, Diagnostics::new())
    }
}

fn main() -> ExitCode {
    tfplugin::serve(
        Example,
        tfplugin::ServeConfig::from_args("example.com/test/tfexample"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_schema_follows_terraforms_rules() {
        assert_eq!(tfplugin::check_provider_schemas(&Example), Ok(()));
    }
}
