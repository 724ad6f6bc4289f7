//! `cph_phones`: lists phones (every page of ListCloudPhones), optionally filtered by server, status
//! or name, so configurations can act on "every phone of server X" without pasting ids. The service's
//! name filter matches substrings: `name` keeps the exact matches of it, `name_contains` is the
//! service's own filter.

use cph_http::PhoneFilter;
use cph_types::PhoneStatus;
use sha2::{Digest, Sha256};
use tfplugin::{
    Attribute, AttributePath, Block, Context, DataSource, Diagnostic, Diagnostics, Schema, Type,
    Value,
};

use crate::config::ProviderData;

/// The `cph_phones` data source.
pub(crate) struct Phones;

fn phone_type() -> Type {
    Type::object([
        ("phone_id", Type::String),
        ("phone_name", Type::String),
        ("server_id", Type::String),
        ("status", Type::String),
        ("image_id", Type::String),
        ("image_version", Type::String),
    ])
}

fn status_names() -> String {
    PhoneStatus::KNOWN
        .iter()
        .map(|s| format!("`{}`", s.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_status(name: &str) -> Result<PhoneStatus, Diagnostic> {
    PhoneStatus::from_name(name)
        .filter(|s| !matches!(s, PhoneStatus::Unknown(_)))
        .ok_or_else(|| {
            Diagnostic::error(
                "Invalid Phone Status",
                format!(
                    "{name:?} is not a phone status; use one of {}",
                    status_names()
                ),
            )
            .with_attribute(AttributePath::root("status"))
        })
}

fn filter_string(config: &Value, name: &str) -> Option<String> {
    config.get(name).and_then(Value::as_str).map(str::to_owned)
}

impl DataSource<ProviderData> for Phones {
    fn type_name(&self) -> String {
        "cph_phones".into()
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .description("Lists the project's cloud phones, optionally filtered by server, status or name.")
                .attribute(Attribute::computed("id", Type::String).description("A digest of the filters."))
                .attribute(Attribute::optional("server_id", Type::String).description("Only phones of this server."))
                .attribute(
                    Attribute::optional("status", Type::String)
                        .description(format!("Only phones in this status: one of {}.", status_names())),
                )
                .attribute(Attribute::optional("name", Type::String).description(
                    "Only the phones named exactly this. (The service's name filter matches any part of a name; the \
                     provider keeps the exact matches, so `sim-phone-0001` does not also select `sim-phone-00012`.)",
                ))
                .attribute(Attribute::optional("name_contains", Type::String).description(
                    "Only phones whose name contains this text anywhere (the service's own name filter).",
                ))
                .attribute(Attribute::computed("phones", Type::list(phone_type())).description(
                    "The matching phones, sorted by phone id: `phone_id`, `phone_name`, `server_id`, \
                     `status` (a name as in the `status` filter), `image_id`, `image_version` (the image's AOSP \
                     version, e.g. `AOSP11`: a backup restores only onto the same or a newer version).",
                )),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Some(name) = filter_string(config, "status") {
            if let Err(d) = parse_status(&name) {
                diags.push(d);
            }
        }
        for attribute in ["name", "name_contains", "server_id"] {
            if filter_string(config, attribute).is_some_and(|v| v.is_empty()) {
                diags.push(
                    Diagnostic::error(
                        "Empty Filter",
                        format!(
                            "`{attribute}` is empty; leave it out to list phones of any {attribute}"
                        ),
                    )
                    .with_attribute(AttributePath::root(attribute)),
                );
            }
        }
        diags
    }

    async fn read(&self, ctx: &Context<ProviderData>, config: Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        let data = match ctx.data() {
            Ok(d) => d,
            Err(d) => return (config, d.into()),
        };
        let status = match filter_string(&config, "status")
            .map(|s| parse_status(&s))
            .transpose()
        {
            Ok(s) => s,
            Err(d) => return (config, d.into()),
        };
        let exact = filter_string(&config, "name");
        let contains = filter_string(&config, "name_contains");
        // The service matches substrings: ask it for the narrower text, keep what truly matches.
        let filter = PhoneFilter {
            phone_name: exact.clone().or_else(|| contains.clone()),
            server_id: filter_string(&config, "server_id"),
            status,
            ..PhoneFilter::default()
        };
        let mut phones = match data.client.list_phones(&filter).await {
            Ok(p) => p,
            Err(e) => {
                diags.error("Cannot List Phones", e.to_string());
                return (config, diags);
            }
        };
        phones.retain(|p| {
            let name = p.phone_name.as_deref().unwrap_or_default();
            exact.as_deref().is_none_or(|e| name == e)
                && contains.as_deref().is_none_or(|c| name.contains(c))
        });
        // Sorted by id, so that plans do not churn with the service's listing order.
        phones.sort_by(|a, b| a.phone_id.cmp(&b.phone_id));
        let text = |s: &Option<String>| Value::from(s.clone().unwrap_or_default());
        let list: Vec<Value> = phones
            .iter()
            .map(|p| {
                Value::object([
                    ("phone_id", text(&p.phone_id)),
                    ("phone_name", text(&p.phone_name)),
                    ("server_id", text(&p.server_id)),
                    (
                        "status",
                        Value::from(p.status.map(|s| s.name().to_string()).unwrap_or_default()),
                    ),
                    ("image_id", text(&p.image_id)),
                    ("image_version", text(&p.image_version)),
                ])
            })
            .collect();
        let mut digest = Sha256::new();
        for name in ["server_id", "status", "name", "name_contains"] {
            digest.update(name.as_bytes());
            digest.update([0]);
            digest.update(filter_string(&config, name).unwrap_or_default().as_bytes());
            digest.update([0]);
        }
        let id = hex::encode(&digest.finalize()[..8]);
        let mut state = config;
        state.set_path(&AttributePath::root("id"), Value::from(id));
        state.set_path(&AttributePath::root("phones"), Value::List(list));
        (state, diags)
    }
}
