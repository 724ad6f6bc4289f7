//! BatchShowPhoneConnectInfos (`POST phones/batch-connection`): the access information a client
//! SDK needs to connect to phones. [`ConnectionRequest`] asks for at most
//! [`CONNECTION_MAX_PHONES`] phones and one [`ClientType`]; [`ConnectionResponse`] answers each
//! phone with a [`ConnectInfo`] (its [`AccessInfo`], whose session id and ticket are
//! [`Secret`]s) or a [`ConnectError`]. Shapes as the official SDKs define them
//! (`ConnectionRequestBody`, `BatchShowPhoneConnectInfosResponse`, `ConnectInfo`,
//! `ConnectInfoAccessInfo`, `ConnectErrorInfo`). A ticket is valid for [`TICKET_LIFETIME`] after
//! its issue ([`AccessInfo::issued_at`], [`AccessInfo::expires_at`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::Error;
use crate::ids::{PhoneId, ProjectId};
use crate::requests::cloud_phone_path;
use crate::responses::{lenient_int, lenient_list, lenient_string};
use crate::secret::Secret;

/// The most phones one BatchShowPhoneConnectInfos request may name.
pub const CONNECTION_MAX_PHONES: usize = 10;

/// How long a ticket stays valid after its issue. The API documents no validity for a ticket:
/// this is the validity the simulator enforces (its stand-in for the phone's access gateway
/// refuses a ticket from then on), and the expiry the provider reports for each ticket is its
/// issue time plus this lifetime ([`AccessInfo::expires_at`]).
pub const TICKET_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The route below `/v1/{project_id}/cloud-phone/`.
pub const CONNECTION_PATH_SUFFIX: &str = "phones/batch-connection";

/// `/v1/{project_id}/cloud-phone/phones/batch-connection` (BatchShowPhoneConnectInfos, POST).
pub fn connection_path(project_id: &ProjectId) -> String {
    cloud_phone_path(project_id, CONNECTION_PATH_SUFFIX)
}

/// The kind of client SDK that will connect to the phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClientType {
    /// `ANDROID`: the Android SDK.
    Android,
    /// `WINDOWS`: the Windows SDK.
    Windows,
    /// `H5_MOBILE`: the H5 SDK on mobile terminals.
    H5Mobile,
    /// `H5_PC`: the H5 SDK on PCs.
    H5Pc,
    /// `IOS`: the iOS SDK.
    Ios,
}

/// Body of BatchShowPhoneConnectInfos (`phones/batch-connection`): at most 10 phones and the
/// client type. Build it with [`ConnectionRequest::new`], or [`ConnectionRequest::chunks`] for
/// any number of phones; decoding refuses more than 10.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "ConnectionRequest",
    description = "Body of BatchShowPhoneConnectInfos (`phones/batch-connection`): at most 10 phones and the client type."
)]
pub struct ConnectionRequest {
    /// The phones to connect to (at most 10).
    #[serde(deserialize_with = "at_most_ten")]
    #[schemars(length(max = 10))]
    phone_ids: Vec<PhoneId>,
    /// The kind of client that will connect.
    client_type: ClientType,
}

fn too_many(count: usize) -> Error {
    Error::InvalidValue {
        what: "phone id count",
        value: count.to_string(),
        rule: format!("at most {CONNECTION_MAX_PHONES} phones per request"),
    }
}

fn at_most_ten<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<PhoneId>, D::Error> {
    let phone_ids = Vec::<PhoneId>::deserialize(deserializer)?;
    if phone_ids.len() > CONNECTION_MAX_PHONES {
        return Err(serde::de::Error::custom(too_many(phone_ids.len())));
    }
    Ok(phone_ids)
}

impl ConnectionRequest {
    /// The file `schemas/` publishes this body's JSON Schema in.
    pub const SCHEMA_FILE: &'static str = "connection-request.json";

    /// A request for `phone_ids` (at most [`CONNECTION_MAX_PHONES`]).
    pub fn new(phone_ids: Vec<PhoneId>, client_type: ClientType) -> Result<Self, Error> {
        if phone_ids.len() > CONNECTION_MAX_PHONES {
            return Err(too_many(phone_ids.len()));
        }
        Ok(ConnectionRequest {
            phone_ids,
            client_type,
        })
    }

    /// Requests of at most [`CONNECTION_MAX_PHONES`] phones each, in order, covering `phone_ids`
    /// (none for none).
    pub fn chunks(phone_ids: &[PhoneId], client_type: ClientType) -> Vec<Self> {
        phone_ids
            .chunks(CONNECTION_MAX_PHONES)
            .map(|chunk| ConnectionRequest {
                phone_ids: chunk.to_vec(),
                client_type,
            })
            .collect()
    }

    /// The phones, in order.
    pub fn phone_ids(&self) -> &[PhoneId] {
        &self.phone_ids
    }

    /// The client type.
    pub fn client_type(&self) -> ClientType {
        self.client_type
    }
}

/// Reads an optional secret as [`lenient_string`] reads a string.
fn lenient_secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    Ok(lenient_string(deserializer)?.map(Secret::new))
}

/// Writes an optional secret as its plain string (the simulator answers with it).
fn plain_secret<S: Serializer>(secret: &Option<Secret>, serializer: S) -> Result<S::Ok, S::Error> {
    secret.as_ref().map(Secret::expose).serialize(serializer)
}

/// How a client reaches one phone (`ConnectInfoAccessInfo`). Every field optional and tolerant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessInfo {
    /// The phone's public access address (EIP).
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_ip: Option<String>,
    /// The phone's address inside the VPC.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub intranet_ip: Option<String>,
    /// The server's IPv6 address.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_ipv6: Option<String>,
    /// The port to connect to.
    #[serde(
        default,
        deserialize_with = "lenient_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_port: Option<i64>,
    /// The id of the session this access opens (secret).
    #[serde(
        default,
        deserialize_with = "lenient_secret",
        serialize_with = "plain_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub session_id: Option<Secret>,
    /// When the ticket was issued, as the service writes it (the simulator: Unix milliseconds).
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<String>,
    /// The signed token the client presents (secret).
    #[serde(
        default,
        deserialize_with = "lenient_secret",
        serialize_with = "plain_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub ticket: Option<Secret>,
}

impl AccessInfo {
    /// When the ticket was issued: `timestamp` read as Unix milliseconds (what the simulator
    /// writes). `None` when `timestamp` is missing or is not a whole number of milliseconds (only
    /// ASCII digits), so a service writing another form is never misread as some other instant.
    pub fn issued_at(&self) -> Option<SystemTime> {
        let text = self.timestamp.as_deref()?;
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let millis: u64 = text.parse().ok()?;
        UNIX_EPOCH.checked_add(Duration::from_millis(millis))
    }

    /// When the ticket stops being valid: [`AccessInfo::issued_at`] plus [`TICKET_LIFETIME`].
    /// `None` when the issue time is unknown (or the sum is not a representable instant).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.issued_at()?.checked_add(TICKET_LIFETIME)
    }
}

/// One phone's access information (`ConnectInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectInfo {
    /// The phone.
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_id: Option<String>,
    /// How to reach it.
    #[serde(default, deserialize_with = "lenient_access_info")]
    pub access_info: Option<AccessInfo>,
}

/// Reads `access_info`: `null`, missing or not an object is `None`.
fn lenient_access_info<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<AccessInfo>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        object @ Value::Object(_) => serde_json::from_value(object).ok(),
        _ => None,
    })
}

/// One phone the service could not give access to (`ConnectErrorInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectError {
    /// The phone.
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_id: Option<String>,
    /// Why, e.g. `CPS.0005`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_code: Option<String>,
    /// Why, in words.
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_msg: Option<String>,
}

/// BatchShowPhoneConnectInfos' answer (HTTP 200): each phone is in `connect_infos` or in
/// `errors`. Tolerant of missing, `null` and unknown fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionResponse {
    /// The request id.
    #[serde(default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    /// The phones that can be connected to.
    #[serde(default, deserialize_with = "lenient_list")]
    pub connect_infos: Vec<ConnectInfo>,
    /// The phones that cannot.
    #[serde(default, deserialize_with = "lenient_list")]
    pub errors: Vec<ConnectError>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn phones(n: usize) -> Vec<PhoneId> {
        (0..n)
            .map(|i| PhoneId::new(format!("p{i}")).unwrap())
            .collect()
    }

    #[test]
    fn a_request_names_at_most_ten_phones() {
        let ten = ConnectionRequest::new(phones(10), ClientType::H5Pc).unwrap();
        assert_eq!(
            serde_json::to_value(&ten).unwrap()["client_type"],
            serde_json::json!("H5_PC")
        );
        let err = ConnectionRequest::new(phones(11), ClientType::Ios).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid phone id count \"11\": must be at most 10 phones per request"
        );
        let eleven = serde_json::json!({ "phone_ids": phones(11), "client_type": "IOS" });
        assert!(serde_json::from_value::<ConnectionRequest>(eleven).is_err());
        let chunks = ConnectionRequest::chunks(&phones(23), ClientType::Android);
        let sizes: Vec<usize> = chunks.iter().map(|c| c.phone_ids().len()).collect();
        assert_eq!(sizes, [10, 10, 3]);
        assert!(ConnectionRequest::chunks(&[], ClientType::Android).is_empty());
    }

    #[test]
    fn client_types_use_the_wire_names() {
        let names: Vec<String> = [
            ClientType::Android,
            ClientType::Windows,
            ClientType::H5Mobile,
            ClientType::H5Pc,
            ClientType::Ios,
        ]
        .iter()
        .map(|t| serde_json::to_string(t).unwrap())
        .collect();
        assert_eq!(
            names,
            [
                "\"ANDROID\"",
                "\"WINDOWS\"",
                "\"H5_MOBILE\"",
                "\"H5_PC\"",
                "\"IOS\""
            ]
        );
        assert!(serde_json::from_str::<ClientType>("\"iOS\"").is_err());
    }

    fn issued(timestamp: Option<&str>) -> AccessInfo {
        AccessInfo {
            timestamp: timestamp.map(str::to_owned),
            ..AccessInfo::default()
        }
    }

    #[test]
    fn a_ticket_is_issued_at_its_timestamp_and_expires_one_lifetime_later() {
        assert_eq!(TICKET_LIFETIME, Duration::from_secs(600));
        let access = issued(Some("1700000000123"));
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(access.issued_at(), Some(at));
        assert_eq!(access.expires_at(), Some(at + Duration::from_secs(600)));
        assert_eq!(issued(Some("0")).issued_at(), Some(UNIX_EPOCH));
        // Read from the wire as the API writes it (a string), or as a number.
        let wire: AccessInfo =
            serde_json::from_value(serde_json::json!({ "timestamp": 1_700_000_000_123_u64 }))
                .unwrap();
        assert_eq!(wire.expires_at(), access.expires_at());
    }

    #[test]
    fn a_missing_or_malformed_timestamp_has_no_issue_time_nor_expiry() {
        for timestamp in [
            None,
            Some(""),
            Some(" 1700000000000"),
            Some("+1700000000000"),
            Some("-1"),
            Some("1.5"),
            Some("2023-11-14T22:13:20Z"),
            Some("99999999999999999999999"),
        ] {
            let access = issued(timestamp);
            assert_eq!(access.issued_at(), None, "{timestamp:?}");
            assert_eq!(access.expires_at(), None, "{timestamp:?}");
        }
    }

    #[test]
    fn secrets_never_show_in_debug_and_travel_plain_on_the_wire() {
        let answer: ConnectionResponse = serde_json::from_value(serde_json::json!({
            "request_id": "r1",
            "connect_infos": [{ "phone_id": "p1", "access_info": {
                "access_ip": "203.0.113.7", "intranet_ip": "10.0.0.7", "access_port": "8080",
                "session_id": "sess-secret", "timestamp": "1700000000000", "ticket": "tick-secret",
                "extra": true
            } }, { "phone_id": "p2", "access_info": "garbage" }],
            "errors": [{ "phone_id": "p3", "error_code": "CPS.0005", "error_msg": "Parameter: Phone not found." }, 7]
        }))
        .unwrap();
        let debug = format!("{answer:?}");
        assert!(!debug.contains("secret"), "{debug}");
        let access = answer.connect_infos[0].access_info.clone().unwrap();
        assert_eq!(access.access_port, Some(8080));
        assert_eq!(
            access.ticket.as_ref().map(Secret::expose),
            Some("tick-secret")
        );
        assert_eq!(answer.connect_infos[1].access_info, None);
        assert_eq!(answer.errors.len(), 1);
        let wire = serde_json::to_value(&answer).unwrap();
        assert_eq!(
            wire["connect_infos"][0]["access_info"]["ticket"],
            serde_json::json!("tick-secret")
        );
        let empty: ConnectionResponse = serde_json::from_str("{}").unwrap();
        assert!(empty.connect_infos.is_empty() && empty.errors.is_empty());
    }
}
