//! `cph_phone_connection` (an ephemeral resource, Terraform 1.10+): how a client reaches phones, from
//! BatchShowPhoneConnectInfos, each with a fresh session id and ticket. Its value lives only while
//! Terraform runs (it may flow into provider blocks, provisioners and write-only arguments), never
//! into state or a saved plan: the tickets the official provider keeps in state as a data source stay
//! out of it here.
//!
//! Terraform opens it during plan and again during apply: each open asks the service again (one
//! request per ten phones) and gets new tickets. The API has no way to renew a ticket or to revoke
//! one, so there is nothing to renew or close: a ticket expires on its own.

use std::collections::BTreeMap;
use std::time::SystemTime;

use cph_types::{AccessInfo, ClientType, ConnectionResponse, PhoneId};
use serde::{Deserialize, Serialize};
use tfplugin::{
    Attribute, Block, Context, Diagnostic, Diagnostics, EphemeralResource, ObjectNesting,
    OpenResponse, Presence, Schema, Type, Validator, Value,
};

use crate::attributes;
use crate::config::ProviderData;
use crate::engine::READ_TIMEOUT;
use crate::model;

/// The names of `client_type`'s values, as the API spells them.
const CLIENT_TYPES: [&str; 5] = ["ANDROID", "WINDOWS", "H5_MOBILE", "H5_PC", "IOS"];

/// The `cph_phone_connection` ephemeral resource.
pub(crate) struct PhoneConnection;

/// Its configuration and result.
#[derive(Debug, Default, Deserialize, Serialize)]
struct ConnectionModel {
    #[serde(default)]
    phone_ids: Vec<PhoneId>,
    #[serde(default)]
    client_type: String,
    #[serde(default)]
    connections: Option<BTreeMap<String, Connection>>,
}

/// How a client reaches one phone.
#[derive(Debug, Default, Deserialize, Serialize)]
struct Connection {
    phone_id: String,
    access_ip: Option<String>,
    intranet_ip: Option<String>,
    access_ipv6: Option<String>,
    access_port: Option<i64>,
    session_id: Option<String>,
    ticket: Option<String>,
    issued_at: Option<String>,
    expires_at: Option<String>,
}

fn rfc3339(time: Option<SystemTime>) -> Option<String> {
    time.map(|t| humantime::format_rfc3339_seconds(t).to_string())
}

impl Connection {
    fn of(phone_id: String, access: &AccessInfo) -> Connection {
        Connection {
            phone_id,
            access_ip: access.access_ip.clone(),
            intranet_ip: access.intranet_ip.clone(),
            access_ipv6: access.access_ipv6.clone(),
            access_port: access.access_port,
            session_id: access.session_id.as_ref().map(|s| s.expose().to_owned()),
            ticket: access.ticket.as_ref().map(|s| s.expose().to_owned()),
            issued_at: rfc3339(access.issued_at()),
            expires_at: rfc3339(access.expires_at()),
        }
    }
}

/// The schema of each entry of `connections`.
fn connection_attributes() -> Vec<Attribute> {
    let text = |name: &str, description: &str| {
        Attribute::computed(name, Type::String).description(description)
    };
    vec![
        text(model::names::PHONE_ID, "The phone."),
        text("access_ip", "The phone's public access address (EIP)."),
        text("intranet_ip", "The phone's address inside the VPC."),
        text("access_ipv6", "The IPv6 address of the phone's server, when it has one."),
        Attribute::computed("access_port", Type::Number).description("The port to connect to."),
        text(
            "session_id",
            "The id of the session this access opens.",
        )
        .sensitive(),
        text(
            "ticket",
            "The signed token the client presents: valid for a limited time, and never written to state or a \
             plan.",
        )
        .sensitive(),
        text(
            "issued_at",
            "When the service issued the ticket, UTC `YYYY-MM-DDTHH:MM:SSZ`.",
        ),
        text(
            "expires_at",
            &format!(
                "When the ticket stops being accepted: `issued_at` plus {} (the API documents no lifetime; this is \
                 the one the provider assumes and the simulator enforces).",
                humantime::format_duration(cph_types::TICKET_LIFETIME)
            ),
        ),
    ]
}

/// The error of phones the service would not give access to, each with its code and message.
fn refused(answer: &ConnectionResponse) -> Option<Diagnostic> {
    if answer.errors.is_empty() {
        return None;
    }
    let lines: Vec<String> = answer
        .errors
        .iter()
        .map(|e| {
            format!(
                "  phone {}: {} {}",
                e.phone_id.as_deref().unwrap_or("(no id)"),
                e.error_code.as_deref().unwrap_or("refused"),
                e.error_msg.as_deref().unwrap_or_default()
            )
        })
        .collect();
    Some(Diagnostic::error(
        if answer.errors.len() == 1 {
            "No Access to 1 Phone".to_owned()
        } else {
            format!("No Access to {} Phones", answer.errors.len())
        },
        format!(
            "The service gave no access information for these phones (a phone must be running to be connected \
             to):\n{}",
            lines.join("\n")
        ),
    ))
}

impl EphemeralResource<ProviderData> for PhoneConnection {
    fn type_name(&self) -> String {
        "cph_phone_connection".into()
    }

    fn schema(&self) -> Schema {
        let block = Block::new()
            .description(
                "How a client SDK reaches running cloud phones (BatchShowPhoneConnectInfos): each phone's access \
                 address and port and a fresh session id and ticket, read each time Terraform opens it and never \
                 kept in state or in a plan file.",
            )
            .attribute(attributes::phone_ids(
                Presence::Required,
                "The phones to connect to, at least one, each at most once (asked ten to a request).".to_owned(),
            ))
            .attribute(
                Attribute::required("client_type", Type::String)
                    .description(
                        "The client SDK that will connect: `ANDROID`, `WINDOWS`, `H5_MOBILE` (H5 on mobile \
                         terminals), `H5_PC` or `IOS`.",
                    )
                    .validator(Validator::one_of("Invalid Client Type", &CLIENT_TYPES)),
            )
            .attribute(
                Attribute::nested(
                    "connections",
                    ObjectNesting::Map,
                    Presence::Computed,
                    connection_attributes(),
                )
                .description(
                    "How to reach each phone, keyed by phone id, e.g. \
                     `ephemeral.cph_phone_connection.NAME.connections[\"<phone id>\"].ticket`.",
                ),
            );
        Schema::new(0, block)
    }

    async fn open(&self, ctx: &Context<ProviderData>, config: Value) -> OpenResponse {
        let failed = |diagnostics: Diagnostics| OpenResponse {
            diagnostics,
            ..OpenResponse::default()
        };
        let data = match ctx.data() {
            Ok(d) => d,
            Err(d) => return failed(d.into()),
        };
        let mut model: ConnectionModel = match model::decode(&config, "the configuration") {
            Ok(m) => m,
            Err(d) => return failed(d.into()),
        };
        let client_type: ClientType =
            match serde_json::from_value(serde_json::Value::String(model.client_type.clone())) {
                Ok(t) => t,
                Err(_) => {
                    return failed(
                        Diagnostic::error(
                            "Invalid Client Type",
                            format!("`client_type` must be one of {}", CLIENT_TYPES.join(", ")),
                        )
                        .with_attribute(model::path("client_type"))
                        .into(),
                    );
                }
            };
        let options = cph_http::WaitOptions::new()
            .deadline(std::time::Instant::now() + READ_TIMEOUT)
            .cancel(ctx.cancellation().clone());
        let answer = match data
            .client
            .connect_infos_within(&model.phone_ids, client_type, &options)
            .await
        {
            Ok(a) => a,
            Err(e) => {
                return failed(
                    Diagnostic::error(
                        "Cannot Read Connection Information",
                        crate::report::api_failure(&e),
                    )
                    .into(),
                );
            }
        };
        if let Some(diag) = refused(&answer) {
            return failed(diag.into());
        }
        let connections = answer
            .connect_infos
            .iter()
            .filter_map(|info| {
                let id = info.phone_id.clone()?;
                let access = info.access_info.as_ref()?;
                Some((id.clone(), Connection::of(id, access)))
            })
            .collect::<BTreeMap<_, _>>();
        let missing: Vec<&str> = model
            .phone_ids
            .iter()
            .map(PhoneId::as_str)
            .filter(|id| !connections.contains_key(*id))
            .collect();
        if !missing.is_empty() {
            return failed(
                Diagnostic::error(
                    "No Access Information",
                    format!(
                        "the service answered without access information for {}",
                        missing.join(", ")
                    ),
                )
                .into(),
            );
        }
        model.connections = Some(connections);
        match model::encode(&model, &self.schema().value_type()) {
            Ok(result) => OpenResponse {
                result,
                ..OpenResponse::default()
            },
            Err(d) => failed(d.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_carries_the_access_and_the_tickets_issue_and_expiry() {
        let access: AccessInfo = serde_json::from_value(serde_json::json!({
            "access_ip": "203.0.113.7", "access_port": 20001, "session_id": "s",
            "ticket": "t", "timestamp": "1700000000000"
        }))
        .unwrap();
        let c = Connection::of("p1".into(), &access);
        assert_eq!(c.issued_at.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(c.expires_at.as_deref(), Some("2023-11-14T22:23:20Z"));
        assert_eq!(
            (c.access_port, c.ticket.as_deref()),
            (Some(20001), Some("t"))
        );
        let answer: ConnectionResponse = serde_json::from_value(serde_json::json!({
            "errors": [{ "phone_id": "p2", "error_code": "CPS.0005", "error_msg": "Phone not found." }]
        }))
        .unwrap();
        let diag = refused(&answer).unwrap();
        assert_eq!(diag.summary, "No Access to 1 Phone");
        assert!(
            diag.detail.contains("phone p2: CPS.0005 Phone not found."),
            "{}",
            diag.detail
        );
    }
}
