//! The list resources (`terraform query`, Terraform 1.14+) `cph_phone_property` and
//! `cph_phone_power`: the phones a fleet already has, found by the filters of `cph_phones`, as
//! objects of the managed resource of the same name, ready to adopt (`-generate-config-out` writes a
//! resource and an `import` block by identity for each).
//!
//! One result is one resource to adopt, so results are grouped: by default one per server (for
//! `cph_phone_power`, one per server and power state, so that each declares the state its phones
//! are in and the adoption plans no change); `group_by = "phone"` gives one per phone. A 10,000-phone
//! fleet on 100 servers becomes 100 resources, each planned in time that grows with its own size.

use std::collections::BTreeMap;

use cph_types::{PhoneStatus, PhoneSummary};
use serde::{Deserialize, Serialize};
use tfplugin::{
    Attribute, Block, Context, Diagnostics, ListRequest, ListResource, ListResult, ListResults,
    Resource, Schema, Type, Validator,
};

use crate::config::ProviderData;
use crate::data_sources::phones::{Filters, filter_attributes};
use crate::engine::READ_TIMEOUT;
use crate::identity::PhonesIdentity;
use crate::model;

/// How many phones a display name names before it counts the rest.
const NAMED_IN_DISPLAY: usize = 5;

/// The `group_by` values.
const GROUP_BY: [&str; 2] = ["server", "phone"];

/// What a list resource groups by besides the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grouping {
    /// Nothing more (`cph_phone_property`).
    Server,
    /// The power state, stopped or not (`cph_phone_power`: a resource declares one state).
    ServerAndPower,
}

/// The list resource of managed resource `R`, listing phones grouped by `grouping`.
pub(crate) struct FleetList<R> {
    resource: R,
    grouping: Grouping,
}

impl<R> FleetList<R> {
    pub(crate) fn new(resource: R, grouping: Grouping) -> Self {
        FleetList { resource, grouping }
    }
}

/// The `config` block of a `list` block.
#[derive(Debug, Default, Deserialize, Serialize)]
struct ListModel {
    #[serde(default)]
    server_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_contains: Option<String>,
    #[serde(default)]
    group_by: Option<String>,
}

/// One group of phones: one result, one resource to adopt.
#[derive(Debug, Default)]
struct Group {
    /// `(server, "stopped" or "running")`: the group's key (the state is empty when not grouped
    /// by it).
    key: (String, String),
    phones: Vec<PhoneSummary>,
}

impl Group {
    /// A name a person recognises: the phones' names and ids (the first few, then a count), their
    /// server and, when grouped by it, their power state.
    fn display_name(&self) -> String {
        let named: Vec<String> = self
            .phones
            .iter()
            .take(NAMED_IN_DISPLAY)
            .map(|p| {
                format!(
                    "{} ({})",
                    p.phone_name.as_deref().unwrap_or("unnamed"),
                    p.phone_id.as_deref().unwrap_or_default()
                )
            })
            .collect();
        let more = self.phones.len().saturating_sub(NAMED_IN_DISPLAY);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let (server, power) = &self.key;
        let power = if power.is_empty() {
            String::new()
        } else {
            format!(", {power}")
        };
        format!("{}{more} (server {server}{power})", named.join(", "))
    }

    fn identity(&self) -> PhonesIdentity {
        PhonesIdentity {
            phone_ids: self
                .phones
                .iter()
                .filter_map(|p| p.phone_id.as_deref())
                .filter_map(|id| cph_types::PhoneId::new(id).ok())
                .collect(),
        }
    }
}

/// The phones of `phones` (sorted by id) in groups: by server (and power state), one per phone
/// when `per_phone`; groups sorted by key, phones by id within each.
fn groups(phones: Vec<PhoneSummary>, grouping: Grouping, per_phone: bool) -> Vec<Group> {
    let power = |p: &PhoneSummary| match grouping {
        Grouping::Server => String::new(),
        Grouping::ServerAndPower if p.status == Some(PhoneStatus::Stopped) => "stopped".into(),
        Grouping::ServerAndPower => "running".into(),
    };
    if per_phone {
        return phones
            .into_iter()
            .map(|p| Group {
                key: (p.server_id.clone().unwrap_or_default(), power(&p)),
                phones: vec![p],
            })
            .collect();
    }
    let mut by_key: BTreeMap<(String, String), Vec<PhoneSummary>> = BTreeMap::new();
    for p in phones {
        by_key
            .entry((p.server_id.clone().unwrap_or_default(), power(&p)))
            .or_default()
            .push(p);
    }
    by_key
        .into_iter()
        .map(|(key, phones)| Group { key, phones })
        .collect()
}

impl<R: Resource<ProviderData>> ListResource<ProviderData> for FleetList<R> {
    fn type_name(&self) -> String {
        self.resource.type_name()
    }

    fn schema(&self) -> Schema {
        let what = match self.grouping {
            Grouping::Server => "one per server",
            Grouping::ServerAndPower => "one per server and power state (stopped, or not)",
        };
        let mut block = Block::new().description(format!(
            "Finds phones to adopt as `{}` resources, {what} by default: each result's identity is its phones' \
             ids, and `terraform query -generate-config-out=FILE` writes a resource with their current values \
             and an `import` block for each.",
            self.resource.type_name()
        ));
        for filter in filter_attributes() {
            block = block.attribute(filter);
        }
        block = block.attribute(
            Attribute::optional("group_by", Type::String)
                .description(format!(
                    "`server`: {what}; `phone`: one per phone (for small fleets, or to adopt phones one by one). \
                     Default `server`."
                ))
                .validator(Validator::one_of("Invalid Grouping", &GROUP_BY)),
        );
        Schema::new(0, block)
    }

    async fn list(
        &self,
        ctx: &Context<ProviderData>,
        req: ListRequest,
        results: ListResults,
    ) -> Diagnostics {
        let data = match ctx.data() {
            Ok(d) => d,
            Err(d) => return d.into(),
        };
        let config: ListModel = match model::decode(&req.config, "the list's configuration") {
            Ok(c) => c,
            Err(d) => return d.into(),
        };
        let filters = Filters {
            server_id: config.server_id,
            status: config.status,
            name: config.name,
            name_contains: config.name_contains,
        };
        let options = cph_http::WaitOptions::new()
            .deadline(std::time::Instant::now() + READ_TIMEOUT)
            .cancel(ctx.cancellation().clone());
        let phones = match filters.list(data, &options).await {
            Ok(p) => p,
            Err(diag) => return diag.into(),
        };
        let per_phone = config.group_by.as_deref() == Some("phone");
        let mut diags = Diagnostics::new();
        for (i, group) in groups(phones, self.grouping, per_phone)
            .into_iter()
            .enumerate()
        {
            if req.limit > 0 && i as u64 >= req.limit {
                break;
            }
            let identity = group.identity();
            let Some(identity_value) = identity.to_value() else {
                continue;
            };
            // The object as an import by this identity gives it, so that the generated
            // configuration declares exactly what the phones have.
            let resource_object = if req.include_resource_object {
                let id = identity
                    .phone_ids
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                let imported = self.resource.import(ctx, id).await;
                let failed = imported.diagnostics.has_errors();
                diags.extend(imported.diagnostics);
                if failed {
                    continue;
                }
                Some(imported.state)
            } else {
                None
            };
            let sent = results.push(ListResult {
                display_name: group.display_name(),
                identity: identity_value,
                resource_object,
            });
            if !sent {
                break;
            }
        }
        diags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(id: &str, name: &str, server: &str, status: PhoneStatus) -> PhoneSummary {
        serde_json::from_value(serde_json::json!({
            "phone_id": id, "phone_name": name, "server_id": server, "status": status.code(),
        }))
        .unwrap()
    }

    #[test]
    fn phones_are_grouped_by_server_and_power_state_with_names_a_person_recognises() {
        let phones = vec![
            phone("a1", "lab-1", "s1", PhoneStatus::Running),
            phone("a2", "lab-2", "s2", PhoneStatus::Running),
            phone("a3", "lab-3", "s1", PhoneStatus::Stopped),
            phone("a4", "lab-4", "s1", PhoneStatus::Running),
        ];
        let by_server = groups(phones.clone(), Grouping::Server, false);
        let shown: Vec<String> = by_server.iter().map(Group::display_name).collect();
        assert_eq!(
            shown,
            [
                "lab-1 (a1), lab-3 (a3), lab-4 (a4) (server s1)",
                "lab-2 (a2) (server s2)"
            ]
        );
        let by_power = groups(phones.clone(), Grouping::ServerAndPower, false);
        let ids: Vec<Vec<&str>> = by_power
            .iter()
            .map(|g| {
                g.phones
                    .iter()
                    .filter_map(|p| p.phone_id.as_deref())
                    .collect()
            })
            .collect();
        assert_eq!(ids, [vec!["a1", "a4"], vec!["a3"], vec!["a2"]]);
        assert_eq!(
            by_power[1].display_name(),
            "lab-3 (a3) (server s1, stopped)"
        );
        assert_eq!(groups(phones, Grouping::Server, true).len(), 4);
        let many: Vec<PhoneSummary> = (0..8)
            .map(|i| {
                phone(
                    &format!("p{i}"),
                    &format!("n{i}"),
                    "s",
                    PhoneStatus::Running,
                )
            })
            .collect();
        let group = &groups(many, Grouping::Server, false)[0];
        assert_eq!(
            group.display_name(),
            "n0 (p0), n1 (p1), n2 (p2), n3 (p3), n4 (p4) and 3 more (server s)"
        );
        assert_eq!(group.identity().phone_ids.len(), 8);
    }
}
