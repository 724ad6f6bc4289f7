//! `cph_phones`: lists phones (every page of ListCloudPhones), optionally filtered by server, status
//! or name, so configurations can act on "every phone of server X" without pasting ids. The service's
//! name filter matches substrings: `name` keeps the exact matches of it, `name_contains` is the
//! service's own filter.

use cph_http::PhoneFilter;
use cph_types::PhoneStatus;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tfplugin::{
    Attribute, Block, Context, DataSource, Diagnostic, Diagnostics, Schema, Type, Validator, Value,
};

use crate::config::ProviderData;
use crate::model::{self, names};

/// The `cph_phones` data source.
pub(crate) struct Phones;

/// The data source as Terraform holds it.
#[derive(Debug, Default, Deserialize, Serialize)]
struct PhonesModel {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    server_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_contains: Option<String>,
    #[serde(default)]
    phones: Option<Vec<PhoneSummary>>,
}

/// One phone as the data source lists it.
#[derive(Debug, Default, Deserialize, Serialize)]
struct PhoneSummary {
    phone_id: String,
    phone_name: String,
    server_id: String,
    status: String,
    image_id: String,
    image_version: String,
}

/// The phone filters of the data source and the list resources, as configured (`None`: any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct Filters {
    #[serde(default)]
    pub(crate) server_id: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) name_contains: Option<String>,
}

impl Filters {
    /// The matching phones, sorted by id (every page of ListCloudPhones, through the client's
    /// guarded pager and rate cap, bounded by `options`); a failure is one diagnostic saying what
    /// to check.
    pub(crate) async fn list(
        &self,
        data: &ProviderData,
        options: &cph_http::WaitOptions,
    ) -> Result<Vec<cph_types::PhoneSummary>, Diagnostic> {
        let exact = self.name.clone();
        let contains = self.name_contains.clone();
        // The service matches substrings: ask it for the narrower text, keep what truly matches.
        let filter = PhoneFilter {
            phone_name: exact.clone().or_else(|| contains.clone()),
            server_id: self.server_id.clone(),
            status: self.status.as_deref().and_then(PhoneStatus::from_name),
            ..PhoneFilter::default()
        };
        let mut phones = data
            .client
            .list_phones_within(&filter, options)
            .await
            .map_err(|e| crate::report::listing_failed(&e, data))?;
        phones.retain(|p| {
            let name = p.phone_name.as_deref().unwrap_or_default();
            exact.as_deref().is_none_or(|e| name == e)
                && contains.as_deref().is_none_or(|c| name.contains(c))
        });
        // Sorted by id, so that plans do not churn with the service's listing order.
        phones.sort_by(|a, b| a.phone_id.cmp(&b.phone_id));
        Ok(phones)
    }
}

/// The names of the statuses a phone can be filtered by.
pub(crate) fn status_names() -> Vec<&'static str> {
    PhoneStatus::KNOWN.iter().map(|s| s.name()).collect()
}

/// The phone filters this data source (and the list resources) take: a filter left empty is
/// refused at its attribute.
pub(crate) fn filter_attributes() -> Vec<Attribute> {
    let non_empty = |name: &'static str| {
        Validator::string("Empty Filter", "not empty", move |v| {
            if v.is_empty() {
                Err(format!(
                    "`{name}` is empty; leave it out to list phones of any {name}"
                ))
            } else {
                Ok(())
            }
        })
    };
    let statuses: &'static [&'static str] = Box::leak(status_names().into_boxed_slice());
    vec![
        Attribute::optional(names::SERVER_ID, Type::String)
            .description("Only phones of this server.")
            .validator(non_empty(names::SERVER_ID)),
        Attribute::optional(names::STATUS, Type::String)
            .description(format!(
                "Only phones in this status: one of {}.",
                statuses
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .validator(non_empty(names::STATUS))
            .validator(Validator::one_of("Invalid Phone Status", statuses)),
        Attribute::optional(names::NAME, Type::String)
            .description(
                "Only the phones named exactly this. (The service's name filter matches any part of a name; the \
                 provider keeps the exact matches, so `sim-phone-0001` does not also select `sim-phone-00012`.)",
            )
            .validator(non_empty(names::NAME)),
        Attribute::optional(names::NAME_CONTAINS, Type::String)
            .description("Only phones whose name contains this text anywhere (the service's own name filter).")
            .validator(non_empty(names::NAME_CONTAINS)),
    ]
}

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

impl DataSource<ProviderData> for Phones {
    fn type_name(&self) -> String {
        "cph_phones".into()
    }

    fn schema(&self) -> Schema {
        let mut block = Block::new()
            .description(
                "Lists the project's cloud phones, optionally filtered by server, status or name.",
            )
            .attribute(
                Attribute::computed(names::ID, Type::String)
                    .description("A digest of the filters."),
            );
        for filter in filter_attributes() {
            block = block.attribute(filter);
        }
        Schema::new(
            0,
            block.attribute(
                Attribute::computed(names::PHONES, Type::list(phone_type())).description(
                    "The matching phones, sorted by phone id: `phone_id`, `phone_name`, `server_id`, \
                     `status` (a name as in the `status` filter), `image_id`, `image_version` (the image's AOSP \
                     version, e.g. `AOSP11`: a backup restores only onto the same or a newer version).",
                ),
            ),
        )
    }

    async fn read(&self, ctx: &Context<ProviderData>, config: Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        let data = match ctx.data() {
            Ok(d) => d,
            Err(d) => return (config, d.into()),
        };
        let mut state: PhonesModel = match model::decode(&config, "the configuration") {
            Ok(m) => m,
            Err(d) => return (config, d.into()),
        };
        let filters = Filters {
            server_id: state.server_id.clone(),
            status: state.status.clone(),
            name: state.name.clone(),
            name_contains: state.name_contains.clone(),
        };
        let options = cph_http::WaitOptions::new().cancel(ctx.cancellation().clone());
        let phones = match filters.list(data, &options).await {
            Ok(p) => p,
            Err(diag) => {
                diags.push(diag);
                return (config, diags);
            }
        };
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        state.phones = Some(
            phones
                .iter()
                .map(|p| PhoneSummary {
                    phone_id: text(&p.phone_id),
                    phone_name: text(&p.phone_name),
                    server_id: text(&p.server_id),
                    status: p.status.map(|s| s.name().to_string()).unwrap_or_default(),
                    image_id: text(&p.image_id),
                    image_version: text(&p.image_version),
                })
                .collect(),
        );
        let mut digest = Sha256::new();
        for filter in [
            &state.server_id,
            &state.status,
            &state.name,
            &state.name_contains,
        ] {
            digest.update(filter.as_deref().unwrap_or_default().as_bytes());
            digest.update([0]);
        }
        state.id = Some(hex::encode(&digest.finalize()[..8]));
        match model::encode(&state, &self.schema().value_type()) {
            Ok(value) => (value, diags),
            Err(d) => (config, d.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_agrees_with_the_model() {
        let fields = tfplugin::field_names::<PhonesModel>();
        for attr in &Phones.schema().block.attributes {
            assert!(fields.contains(&attr.name.as_str()), "{}", attr.name);
        }
    }
}
