//! The `cph` provider: its configuration (every attribute falling back to the environment variable
//! Huawei Cloud users already set), the API client it builds, and the one list of resources and data
//! sources it serves.

use std::num::NonZeroUsize;
use std::time::Duration;

use cph_http::{Client, Credentials, Endpoint};
use cph_types::ProjectId;
use tfplugin::{
    Attribute, AttributePath, Block, ConfigureRequest, Diagnostic, Diagnostics, Provider, Registry,
    Schema, Type, Value,
};

use crate::action::ActionResource;
use crate::common::parse_duration;
use crate::data_sources::phones::Phones;
use crate::resources::phone_property::PhoneProperty;
use crate::resources::phone_reset::PhoneReset;
use crate::resources::phone_restart::PhoneRestart;
use crate::resources::phone_restore::PhoneRestore;

/// The provider's registry address.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/cph-community/cph";

/// The largest `batch_size` accepted.
const MAX_BATCH_SIZE: i64 = 1000;

/// The `cph` provider.
#[derive(Debug, Default, Clone, Copy)]
pub struct CphProvider;

/// What configure produces and every resource uses.
#[derive(Debug)]
pub struct ProviderData {
    /// The API client.
    pub(crate) client: Client,
}

/// A provider argument, its environment fallback and whether it is secret.
struct Setting {
    name: &'static str,
    env: &'static str,
    ty: Type,
    sensitive: bool,
    description: &'static str,
}

const SETTINGS: &[Setting] = &[
    Setting {
        name: "region",
        env: "HW_REGION_NAME",
        ty: Type::String,
        sensitive: false,
        description: "Region of the endpoint `https://cph.{region}.myhuaweicloud.com`, e.g. `cn-north-4`. Required unless `endpoint` is set.",
    },
    Setting {
        name: "project_id",
        env: "HW_PROJECT_ID",
        ty: Type::String,
        sensitive: false,
        description: "Project id used in every API path. Required.",
    },
    Setting {
        name: "access_key",
        env: "HW_ACCESS_KEY",
        ty: Type::String,
        sensitive: false,
        description: "Access key id for AK/SK signing.",
    },
    Setting {
        name: "secret_key",
        env: "HW_SECRET_KEY",
        ty: Type::String,
        sensitive: true,
        description: "Secret access key for AK/SK signing.",
    },
    Setting {
        name: "security_token",
        env: "HW_SECURITY_TOKEN",
        ty: Type::String,
        sensitive: true,
        description: "Security token of temporary AK/SK credentials.",
    },
    Setting {
        name: "auth_token",
        env: "HW_AUTH_TOKEN",
        ty: Type::String,
        sensitive: true,
        description: "IAM token sent as `X-Auth-Token`, used when no AK/SK is given.",
    },
    Setting {
        name: "endpoint",
        env: "CPH_ENDPOINT",
        ty: Type::String,
        sensitive: false,
        description: "Base URL overriding the regional endpoint (private cloud, local simulator). Plain `http://` only for loopback addresses.",
    },
    Setting {
        name: "max_retries",
        env: "CPH_MAX_RETRIES",
        ty: Type::Number,
        sensitive: false,
        description: "Retries of a request that failed transiently, with exponential backoff and jitter. Default 5.",
    },
    Setting {
        name: "poll_interval",
        env: "CPH_POLL_INTERVAL",
        ty: Type::String,
        sensitive: false,
        description: "Interval between polling rounds while waiting on jobs, e.g. `5s`. Default `5s`.",
    },
    Setting {
        name: "batch_size",
        env: "CPH_BATCH_SIZE",
        ty: Type::Number,
        sensitive: false,
        description: "Phones per batch request, 1 to 1000. Default 100.",
    },
];

/// The provider configuration after environment fallbacks.
#[derive(Debug, Default)]
struct Resolved {
    values: Vec<(&'static str, Option<String>)>,
}

impl Resolved {
    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Reads each setting from `config`, falling back to its environment variable (`env` looks it up).
fn resolve(config: &Value, env: impl Fn(&str) -> Option<String>) -> Resolved {
    let values = SETTINGS
        .iter()
        .map(|s| {
            let configured = match config.get(s.name) {
                Some(Value::String(v)) => Some(v.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            let value = configured
                .or_else(|| env(s.env))
                .filter(|v| !v.trim().is_empty());
            (s.name, value)
        })
        .collect();
    Resolved { values }
}

fn attribute_error(name: &str, summary: &str, detail: impl Into<String>) -> Diagnostic {
    Diagnostic::error(summary, detail).with_attribute(AttributePath::root(name))
}

fn env_name(name: &str) -> &'static str {
    SETTINGS
        .iter()
        .find(|s| s.name == name)
        .map_or("", |s| s.env)
}

/// Builds the client settings from resolved values, reporting every problem.
fn build_client(resolved: &Resolved, diags: &mut Diagnostics) -> Option<Client> {
    let endpoint = match (resolved.get("endpoint"), resolved.get("region")) {
        (Some(url), _) => Some(Endpoint::url(url)),
        (None, Some(region)) => Some(Endpoint::region(region)),
        (None, None) => {
            diags.push(attribute_error(
                "region",
                "Missing Region",
                "set `region` (or HW_REGION_NAME), or `endpoint` (or CPH_ENDPOINT) to reach the CPH API",
            ));
            None
        }
    };
    let project_id = match resolved.get("project_id") {
        None => {
            diags.push(attribute_error(
                "project_id",
                "Missing Project Id",
                "set `project_id` or HW_PROJECT_ID",
            ));
            None
        }
        Some(p) => match ProjectId::new(p) {
            Ok(p) => Some(p),
            Err(e) => {
                diags.push(attribute_error(
                    "project_id",
                    "Invalid Project Id",
                    e.to_string(),
                ));
                None
            }
        },
    };
    let credentials = match (
        resolved.get("access_key"),
        resolved.get("secret_key"),
        resolved.get("auth_token"),
    ) {
        (Some(ak), Some(sk), _) => Some(match resolved.get("security_token") {
            Some(token) => Credentials::temporary(ak, sk, token),
            None => Credentials::ak_sk(ak, sk),
        }),
        (Some(_), None, _) => {
            diags.push(attribute_error(
                "secret_key",
                "Missing Secret Key",
                "`access_key` is set but `secret_key` (HW_SECRET_KEY) is not; AK/SK signing needs both",
            ));
            None
        }
        (None, Some(_), _) => {
            diags.push(attribute_error(
                "access_key",
                "Missing Access Key",
                "`secret_key` is set but `access_key` (HW_ACCESS_KEY) is not; AK/SK signing needs both",
            ));
            None
        }
        (None, None, Some(token)) => Some(Credentials::token(token)),
        (None, None, None) => {
            diags.push(Diagnostic::error(
                "Missing Credentials",
                "no credentials for the CPH API: set `access_key` and `secret_key` (HW_ACCESS_KEY, HW_SECRET_KEY), \
                 optionally with `security_token` (HW_SECURITY_TOKEN), or `auth_token` (HW_AUTH_TOKEN)",
            ));
            None
        }
    };
    let max_retries = number_setting(resolved, "max_retries", 0, 100, diags);
    let batch_size = number_setting(resolved, "batch_size", 1, MAX_BATCH_SIZE, diags);
    let poll_interval = match resolved.get("poll_interval") {
        None => None,
        Some(text) => match parse_duration(text) {
            Ok(d) => Some(d),
            Err(detail) => {
                diags.push(attribute_error(
                    "poll_interval",
                    "Invalid Poll Interval",
                    detail,
                ));
                None
            }
        },
    };
    if diags.has_errors() {
        return None;
    }
    let (endpoint, project_id, credentials) = (endpoint?, project_id?, credentials?);
    let mut builder = Client::builder(endpoint, project_id, credentials);
    if let Some(n) = max_retries {
        builder = builder.max_retries(u32::try_from(n).unwrap_or(u32::MAX));
    }
    if let Some(n) = batch_size
        .and_then(|n| usize::try_from(n).ok())
        .and_then(NonZeroUsize::new)
    {
        builder = builder.batch_size(n);
    }
    if let Some(interval) = poll_interval {
        builder = builder
            .poll_interval(interval)
            .first_poll_delay(first_poll_delay(interval));
    }
    match builder.build() {
        Ok(client) => Some(client),
        Err(e) => {
            diags.push(Diagnostic::error(
                "Invalid Provider Configuration",
                e.to_string(),
            ));
            None
        }
    }
}

/// The first poll comes soon after submitting: a fifth of the interval, at most a second.
fn first_poll_delay(interval: Duration) -> Duration {
    (interval / 5).min(Duration::from_secs(1))
}

fn number_setting(
    resolved: &Resolved,
    name: &str,
    min: i64,
    max: i64,
    diags: &mut Diagnostics,
) -> Option<i64> {
    let text = resolved.get(name)?;
    match text.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            diags.push(attribute_error(
                name,
                "Invalid Provider Setting",
                format!(
                    "`{name}` (or {}) must be a whole number from {min} to {max}, got {text:?}",
                    env_name(name)
                ),
            ));
            None
        }
    }
}

impl Provider for CphProvider {
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        let mut block = Block::new().description(
            "Batch operations on Huawei Cloud Cloud Phone Host phones. Every argument falls back to an environment \
             variable.",
        );
        for s in SETTINGS {
            let mut attr = Attribute::optional(s.name, s.ty.clone())
                .description(format!("{} Environment: `{}`.", s.description, s.env));
            if s.sensitive {
                attr = attr.sensitive();
            }
            block = block.attribute(attr);
        }
        Schema::new(0, block)
    }

    fn register(&self, registry: &mut Registry<ProviderData>) {
        registry
            .resource(ActionResource::<PhoneRestart>::new())
            .resource(ActionResource::<PhoneReset>::new())
            .resource(ActionResource::<PhoneRestore>::new())
            .resource(PhoneProperty)
            .data_source(Phones);
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        // Only what the configuration itself says can be judged here: the environment belongs to configure.
        let mut diags = Diagnostics::new();
        let known = resolve(config, |_| None);
        let _ = number_setting(&known, "max_retries", 0, 100, &mut diags);
        let _ = number_setting(&known, "batch_size", 1, MAX_BATCH_SIZE, &mut diags);
        if let Some(text) = known.get("poll_interval") {
            if let Err(detail) = parse_duration(text) {
                diags.push(attribute_error(
                    "poll_interval",
                    "Invalid Poll Interval",
                    detail,
                ));
            }
        }
        diags
    }

    async fn configure(
        &self,
        req: ConfigureRequest,
        diags: &mut Diagnostics,
    ) -> Option<ProviderData> {
        if !req.config.is_wholly_known() {
            diags.push(Diagnostic::error(
                "Provider Configuration Not Known",
                "the provider configuration depends on values known only after apply; configure the provider from \
                 variables or the environment instead",
            ));
            return None;
        }
        let resolved = resolve(&req.config, |name| std::env::var(name).ok());
        let client = build_client(&resolved, diags)?;
        tracing::debug!(endpoint = %client.endpoint(), "configured the CPH client");
        Some(ProviderData { client })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Value {
        let mut fields: tfplugin::Fields = SETTINGS
            .iter()
            .map(|s| (s.name.to_string(), Value::Null))
            .collect();
        for (k, v) in pairs {
            fields.insert(k.to_string(), Value::string(*v));
        }
        Value::Object(fields)
    }

    fn build(cfg: &Value, env: &[(&str, &str)]) -> (Option<Client>, Diagnostics) {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let resolved = resolve(cfg, |name| env.get(name).cloned());
        let mut diags = Diagnostics::new();
        (build_client(&resolved, &mut diags), diags)
    }

    const PROJECT: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn every_provider_schema_passes_terraforms_rules() {
        assert_eq!(tfplugin::check_provider_schemas(&CphProvider), Ok(()));
    }

    #[test]
    fn environment_variables_fill_unset_attributes() {
        let (client, diags) = build(
            &config(&[]),
            &[
                ("CPH_ENDPOINT", "http://127.0.0.1:9"),
                ("HW_PROJECT_ID", PROJECT),
                ("HW_ACCESS_KEY", "AK"),
                ("HW_SECRET_KEY", "SK"),
                ("CPH_BATCH_SIZE", "250"),
            ],
        );
        assert!(diags.is_empty(), "{diags:?}");
        let client = client.unwrap();
        assert_eq!(client.settings().batch_size.get(), 250);
        assert_eq!(client.project_id().as_str(), PROJECT);
    }

    #[test]
    fn configuration_wins_over_the_environment() {
        let (client, _) = build(
            &config(&[
                ("endpoint", "http://127.0.0.1:7"),
                ("project_id", PROJECT),
                ("auth_token", "t"),
            ]),
            &[
                ("CPH_ENDPOINT", "http://127.0.0.1:9"),
                ("HW_PROJECT_ID", "ffff"),
            ],
        );
        assert_eq!(client.unwrap().endpoint().port(), Some(7));
    }

    #[test]
    fn missing_credentials_are_one_clear_error() {
        let (client, diags) = build(
            &config(&[("endpoint", "http://127.0.0.1:7"), ("project_id", PROJECT)]),
            &[],
        );
        assert!(client.is_none());
        let errors: Vec<_> = diags.iter().collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].summary, "Missing Credentials");
        assert!(
            errors[0].detail.contains("HW_ACCESS_KEY")
                && errors[0].detail.contains("HW_AUTH_TOKEN")
        );
    }

    #[test]
    fn half_an_aksk_pair_names_the_missing_half() {
        let (_, diags) = build(
            &config(&[
                ("region", "cn-north-4"),
                ("project_id", PROJECT),
                ("access_key", "AK"),
            ]),
            &[],
        );
        let d = diags.iter().next().unwrap();
        assert_eq!(d.attribute.as_ref().unwrap().to_string(), "secret_key");
    }

    #[test]
    fn bad_numbers_and_durations_point_at_their_attribute() {
        let cfg = config(&[
            ("max_retries", "-1"),
            ("batch_size", "0"),
            ("poll_interval", "often"),
        ]);
        let diags = CphProvider.validate(&cfg);
        let paths: Vec<String> = diags
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(paths, vec!["max_retries", "batch_size", "poll_interval"]);
    }

    #[test]
    fn secrets_never_appear_in_diagnostics() {
        let (_, diags) = build(
            &config(&[
                ("endpoint", "ftp://example"),
                ("project_id", PROJECT),
                ("access_key", "AK"),
                ("secret_key", "s3cr3t-value"),
            ]),
            &[("HW_SECURITY_TOKEN", "t0ken-value")],
        );
        for d in diags.iter() {
            assert!(
                !d.detail.contains("s3cr3t-value") && !d.detail.contains("t0ken-value"),
                "{d:?}"
            );
        }
    }
}
