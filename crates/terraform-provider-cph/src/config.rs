//! The provider configuration: one declaration per setting (name, environment fallback, type,
//! description, default and check side by side), how the configuration and the environment resolve
//! into settings, and the API client built from them ([`ProviderData`], what every resource uses).

use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use cph_http::{Client, Credentials, Endpoint, Settings};
use cph_types::ProjectId;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use tfplugin::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, Type, Validator, Value};

use crate::journal::{self, Journal};
use crate::timeouts::parse_duration;

/// What configure produces and every resource and data source uses.
#[derive(Debug)]
pub struct ProviderData {
    /// The API client.
    pub(crate) client: Client,
    /// The failures already reported in full by this provider process (one run of Terraform):
    /// the same failure of another data source is then said in one line.
    reported: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Where the submission journal lives, and the journal once opened.
    journal_dir: PathBuf,
    journal: OnceLock<Result<Arc<Journal>, String>>,
}

impl ProviderData {
    /// The submission journal, opened (its directory created) on first use.
    pub(crate) fn journal(&self) -> Result<Arc<Journal>, String> {
        self.journal
            .get_or_init(|| {
                Journal::open(self.journal_dir.clone())
                    .map(Arc::new)
                    .map_err(|e| {
                        format!(
                            "the submission journal cannot be created in {} ({e}); make the directory writable, or set \
                             `journal_dir` (CPH_JOURNAL_DIR) to one that is",
                            self.journal_dir.display()
                        )
                    })
            })
            .clone()
    }

    /// The submission journal when its directory exists already (what a plan prunes: a plan never
    /// creates it).
    pub(crate) fn existing_journal(&self) -> Option<Arc<Journal>> {
        if let Some(Ok(journal)) = self.journal.get() {
            return Some(Arc::clone(journal));
        }
        self.journal_dir
            .is_dir()
            .then(|| self.journal().ok())
            .flatten()
    }

    /// Whether `failure` is reported here for the first time (and remembers it).
    pub(crate) fn first_report(&self, failure: &str) -> bool {
        self.reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(failure.to_owned())
    }
}

/// The largest `batch_size` accepted.
const MAX_BATCH_SIZE: u64 = 1000;
/// The most retries accepted.
const MAX_RETRIES: u64 = 100;
/// The highest request rate accepted.
const MAX_REQUEST_RATE: u64 = 10_000;
/// The request rate when none is set: Huawei Cloud's API gateway commonly allows 10 requests a
/// second per API and user, so one provider process making at most that many in all stays under it.
const DEFAULT_REQUEST_RATE: u32 = 10;

/// The check of a setting's value in its text form; `Err` says why it is wrong.
type Check = fn(&str) -> Result<(), String>;

/// A provider setting: its attribute, environment fallback, description, check, and its field of
/// [`Resolved`].
struct Setting {
    name: &'static str,
    env: &'static str,
    ty: Type,
    sensitive: bool,
    description: String,
    /// The check of a configured or environment value.
    check: Option<Check>,
    /// Its value in the resolved configuration.
    slot: fn(&mut Resolved) -> &mut Option<Text>,
}

/// A setting's value as text: HCL gives numbers for some settings, strings for others.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The provider configuration after environment fallbacks: one field per setting, named as the
/// attribute (decoded from the `provider` block, then filled from the environment).
#[derive(Debug, Default, Deserialize)]
struct Resolved {
    #[serde(default)]
    region: Option<Text>,
    #[serde(default)]
    project_id: Option<Text>,
    #[serde(default)]
    access_key: Option<Text>,
    #[serde(default)]
    secret_key: Option<Text>,
    #[serde(default)]
    security_token: Option<Text>,
    #[serde(default)]
    auth_token: Option<Text>,
    #[serde(default)]
    endpoint: Option<Text>,
    #[serde(default)]
    max_retries: Option<Text>,
    #[serde(default)]
    poll_interval: Option<Text>,
    #[serde(default)]
    max_requests_per_second: Option<Text>,
    #[serde(default)]
    batch_size: Option<Text>,
    #[serde(default)]
    unreachable_timeout: Option<Text>,
    #[serde(default)]
    journal_dir: Option<Text>,
}

/// The text of a resolved setting.
fn text(value: &Option<Text>) -> Option<&str> {
    value.as_ref().map(|t| t.0.as_str())
}

fn whole_number(text: &str, min: u64, max: u64) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from {min} to {max}, got {text:?}"
        )),
    }
}

fn parse_max_retries(text: &str) -> Result<u32, String> {
    whole_number(text, 0, MAX_RETRIES).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn parse_request_rate(text: &str) -> Result<NonZeroU32, String> {
    whole_number(text, 1, MAX_REQUEST_RATE)
        .map(|n| NonZeroU32::new(u32::try_from(n).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN))
}

/// The shortest `poll_interval` accepted: shorter would only spend the request rate on polls.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

fn parse_poll_interval(text: &str) -> Result<Duration, String> {
    let interval = parse_duration(text)?;
    if interval < MIN_POLL_INTERVAL {
        return Err(format!(
            "must be at least {}, got {text:?}",
            humantime::format_duration(MIN_POLL_INTERVAL)
        ));
    }
    Ok(interval)
}

fn parse_batch_size(text: &str) -> Result<NonZeroUsize, String> {
    whole_number(text, 1, MAX_BATCH_SIZE)
        .map(|n| NonZeroUsize::new(usize::try_from(n).unwrap_or(1)).unwrap_or(NonZeroUsize::MIN))
}

/// Every provider setting, in the order the schema and the docs list them.
fn settings() -> Vec<Setting> {
    let defaults = Settings::default();
    let setting = |name, env, ty, description: String, slot| Setting {
        name,
        env,
        ty,
        sensitive: false,
        description,
        check: None,
        slot,
    };
    vec![
        setting(
            "region",
            "HW_REGION_NAME",
            Type::String,
            "Region of the endpoint `https://cph.{region}.myhuaweicloud.com`, e.g. `cn-north-4`. Required unless \
             `endpoint` is set."
                .into(),
            |r| &mut r.region,
        ),
        setting(
            "project_id",
            "HW_PROJECT_ID",
            Type::String,
            "Project id (32 hex characters) used in every API path. Required.".into(),
            |r| &mut r.project_id,
        ),
        setting(
            "access_key",
            "HW_ACCESS_KEY",
            Type::String,
            "Access key id for AK/SK signing.".into(),
            |r| &mut r.access_key,
        ),
        Setting {
            sensitive: true,
            ..setting(
                "secret_key",
                "HW_SECRET_KEY",
                Type::String,
                "Secret access key for AK/SK signing.".into(),
                |r| &mut r.secret_key,
            )
        },
        Setting {
            sensitive: true,
            ..setting(
                "security_token",
                "HW_SECURITY_TOKEN",
                Type::String,
                "Security token of temporary AK/SK credentials.".into(),
                |r| &mut r.security_token,
            )
        },
        Setting {
            sensitive: true,
            ..setting(
                "auth_token",
                "HW_AUTH_TOKEN",
                Type::String,
                "IAM token sent as `X-Auth-Token`, used when no AK/SK is given.".into(),
                |r| &mut r.auth_token,
            )
        },
        setting(
            "endpoint",
            "CPH_ENDPOINT",
            Type::String,
            "Base URL overriding the regional endpoint, e.g. a private cloud or the local simulator \
             `http://127.0.0.1:41619`. It must use `https://`; plain `http://` is accepted only for the loopback \
             addresses `127.0.0.1`, `::1` and `localhost`."
                .into(),
            |r| &mut r.endpoint,
        ),
        Setting {
            check: Some(|t| parse_max_retries(t).map(drop)),
            ..setting(
                "max_retries",
                "CPH_MAX_RETRIES",
                Type::Number,
                format!(
                    "Retries of a request that failed transiently (throttling, 5xx, connection errors), with \
                     exponential backoff and jitter, honouring `Retry-After`, 0 to {MAX_RETRIES}. A batch \
                     submission is retried only when the service certainly did not act on it. Default {}.",
                    defaults.retry.max_retries
                ),
                |r| &mut r.max_retries,
            )
        },
        Setting {
            check: Some(|t| parse_poll_interval(t).map(drop)),
            ..setting(
                "poll_interval",
                "CPH_POLL_INTERVAL",
                Type::String,
                format!(
                    "The longest wait between polling rounds while waiting on jobs, e.g. `5s` (at least `100ms`, at most \
                     7 days). \
                     Rounds come sooner while the jobs are young: the first about a second after submitting, then \
                     after half the time elapsed since, growing to this interval (jittered). Default `{}`.",
                    humantime::format_duration(defaults.poll_interval)
                ),
                |r| &mut r.poll_interval,
            )
        },
        Setting {
            check: Some(|t| parse_request_rate(t).map(drop)),
            ..setting(
                "max_requests_per_second",
                "CPH_MAX_REQUESTS_PER_SECOND",
                Type::Number,
                format!(
                    "The most API requests per second of the whole provider process (every resource, refresh and \
                     poll, retries included), 1 to {MAX_REQUEST_RATE}: a token bucket they all share, and a 429's \
                     `Retry-After` holds them all back. The default stays under the API gateway's usual limit of 10 \
                     requests a second per API and user; raise it when your account's quota allows. Default \
                     {DEFAULT_REQUEST_RATE}."
                ),
                |r| &mut r.max_requests_per_second,
            )
        },
        Setting {
            check: Some(|t| parse_batch_size(t).map(drop)),
            ..setting(
                "batch_size",
                "CPH_BATCH_SIZE",
                Type::Number,
                format!(
                    "Phones per batch request, 1 to {MAX_BATCH_SIZE}. Default {}.",
                    defaults.batch_size
                ),
                |r| &mut r.batch_size,
            )
        },
        Setting {
            check: Some(|t| parse_duration(t).map(drop)),
            ..setting(
                "unreachable_timeout",
                "CPH_UNREACHABLE_TIMEOUT",
                Type::String,
                format!(
                    "How long every call to the endpoint may fail (no answer, or a server error) before an apply or \
                     a refresh gives up, e.g. `3m` (at most 7 days). The error then names the endpoint, the last \
                     failure and how long calls have failed; phones whose jobs were submitted are recorded \
                     `running` (or `unknown`), and the next apply resumes them. `max_retries` bounds the retries \
                     of one call; this bounds a whole run against an endpoint that stopped answering. Default \
                     `{}`.",
                    humantime::format_duration(cph_http::DEFAULT_UNREACHABLE_AFTER)
                ),
                |r| &mut r.unreachable_timeout,
            )
        },
        setting(
            "journal_dir",
            "CPH_JOURNAL_DIR",
            Type::String,
            "Where the provider writes down each batch request before it goes out, so that an apply after a \
             crash (of Terraform or the provider) or an interrupted apply never acts twice on a phone for one \
             intent. Default: `cph-journal` in Terraform's data directory (`TF_DATA_DIR`, by default \
             `.terraform` in the working directory)."
                .into(),
            |r| &mut r.journal_dir,
        ),
    ]
}

/// The `provider` block: one attribute per setting, each checked where it is written.
pub(crate) fn provider_block() -> Block {
    let mut block = Block::new().description(
        "Batch operations on Huawei Cloud Cloud Phone Host phones. Every argument falls back to an environment \
         variable.",
    );
    for s in settings() {
        let mut attr = Attribute::optional(s.name, s.ty.clone())
            .description(format!("{} Environment: `{}`.", s.description, s.env));
        if s.sensitive {
            attr = attr.sensitive();
        }
        if let Some(check) = s.check {
            let name = s.name;
            attr = attr.validator(Validator::new(
                "a valid value of the setting",
                move |value, _path, diags| {
                    if let Some(text) = text_of(value) {
                        if let Err(reason) = check(&text) {
                            diags.error("Invalid Provider Setting", format!("`{name}` {reason}"));
                        }
                    }
                },
            ));
        }
        block = block.attribute(attr);
    }
    block
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(v) => Some(v.clone()),
        Value::Number(n) => Some(n.as_str().to_owned()),
        _ => None,
    }
}

/// Reads each setting from `config`, falling back to its environment variable (`env` looks it up);
/// blank values count as unset.
fn resolve(config: &Value, env: impl Fn(&str) -> Option<String>) -> Resolved {
    let mut resolved: Resolved = tfplugin::from_value(config).unwrap_or_default();
    for s in settings() {
        let slot = (s.slot)(&mut resolved);
        if slot.is_none() {
            *slot = env(s.env).map(Text);
        }
        if slot.as_ref().is_some_and(|t| t.0.trim().is_empty()) {
            *slot = None;
        }
    }
    resolved
}

fn attribute_error(name: &str, summary: &str, detail: impl Into<String>) -> Diagnostic {
    Diagnostic::error(summary, detail).with_attribute(AttributePath::root(name))
}

/// Builds the client from `config` and the environment (`env` looks variables up), reporting every
/// problem; `None` when any is an error.
pub(crate) fn configure(
    config: &Value,
    terraform_version: &str,
    env: impl Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<ProviderData> {
    let mut resolved = resolve(config, &env);
    // Values from the environment were not seen by the schema's validators: check every value.
    for s in settings() {
        let value = (s.slot)(&mut resolved).clone();
        if let (Some(check), Some(text)) = (s.check, text(&value)) {
            if let Err(reason) = check(text) {
                diags.push(attribute_error(
                    s.name,
                    "Invalid Provider Setting",
                    format!("`{}` (or {}) {reason}", s.name, s.env),
                ));
            }
        }
    }
    let client = build_client(&resolved, terraform_version, diags)?;
    tracing::debug!(endpoint = %client.endpoint(), "configured the CPH client");
    let cwd = std::env::current_dir().unwrap_or_default();
    let journal_dir = match text(&resolved.journal_dir) {
        Some(dir) => cwd.join(dir),
        None => journal::default_dir(env("TF_DATA_DIR").as_deref(), &cwd),
    };
    Some(ProviderData {
        client,
        reported: std::sync::Mutex::default(),
        journal_dir,
        journal: OnceLock::new(),
    })
}

/// The user agent of every request: this provider's version, then Terraform's (when it said).
fn user_agent(terraform_version: &str) -> String {
    let version = crate::provider::PROVIDER_VERSION;
    let terraform: String = terraform_version
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        .collect();
    if terraform.is_empty() {
        format!("terraform-provider-cph/{version}")
    } else {
        format!("terraform-provider-cph/{version} terraform/{terraform}")
    }
}

fn build_client(
    resolved: &Resolved,
    terraform_version: &str,
    diags: &mut Diagnostics,
) -> Option<Client> {
    let endpoint = match (text(&resolved.endpoint), text(&resolved.region)) {
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
    let project_id = match text(&resolved.project_id) {
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
    let credentials = credentials(resolved, diags);
    if diags.has_errors() {
        return None;
    }
    let (endpoint, project_id, credentials) = (endpoint?, project_id?, credentials?);
    let mut builder = Client::builder(endpoint, project_id, credentials)
        .user_agent(user_agent(terraform_version));
    if let Some(n) = text(&resolved.max_retries).and_then(|t| parse_max_retries(t).ok()) {
        builder = builder.max_retries(n);
    }
    let rate = text(&resolved.max_requests_per_second)
        .and_then(|t| parse_request_rate(t).ok())
        .or(NonZeroU32::new(DEFAULT_REQUEST_RATE));
    if let Some(rate) = rate {
        builder = builder.max_requests_per_second(rate);
    }
    if let Some(n) = text(&resolved.batch_size).and_then(|t| parse_batch_size(t).ok()) {
        builder = builder.batch_size(n);
    }
    if let Some(bound) = text(&resolved.unreachable_timeout).and_then(|t| parse_duration(t).ok()) {
        builder = builder.give_up_after(bound);
    }
    if let Some(interval) = text(&resolved.poll_interval).and_then(|t| parse_poll_interval(t).ok())
    {
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

fn credentials(resolved: &Resolved, diags: &mut Diagnostics) -> Option<Credentials> {
    match (
        text(&resolved.access_key),
        text(&resolved.secret_key),
        text(&resolved.auth_token),
    ) {
        (Some(ak), Some(sk), _) => Some(match text(&resolved.security_token) {
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
    }
}

/// The first poll comes soon after submitting: a fifth of the interval, at most a second.
fn first_poll_delay(interval: Duration) -> Duration {
    (interval / 5).min(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Value {
        let mut fields: tfplugin::Fields = settings()
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
        let mut diags = Diagnostics::new();
        let data = configure(cfg, "1.11.4", |name| env.get(name).cloned(), &mut diags);
        (data.map(|d| d.client), diags)
    }

    const PROJECT: &str = "0123456789abcdef0123456789abcdef";

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
                ("CPH_POLL_INTERVAL", "2s"),
            ],
        );
        assert!(diags.is_empty(), "{diags:?}");
        let client = client.unwrap();
        assert_eq!(client.settings().batch_size.get(), 250);
        assert_eq!(client.settings().poll_interval, Duration::from_secs(2));
        assert_eq!(
            client.settings().max_requests_per_second,
            NonZeroU32::new(DEFAULT_REQUEST_RATE)
        );
        let (fast, _) = build(
            &config(&[("max_requests_per_second", "250")]),
            &[
                ("CPH_ENDPOINT", "http://127.0.0.1:9"),
                ("HW_PROJECT_ID", PROJECT),
                ("HW_AUTH_TOKEN", "t"),
            ],
        );
        assert_eq!(
            fast.unwrap().settings().max_requests_per_second,
            NonZeroU32::new(250)
        );
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
    fn bad_numbers_and_durations_point_at_their_attribute_in_config_and_environment() {
        let cfg = config(&[
            ("max_retries", "-1"),
            ("batch_size", "0"),
            ("poll_interval", "often"),
            ("max_requests_per_second", "0"),
        ]);
        let schema = tfplugin::Schema::new(0, provider_block());
        let diags = schema.validate(&cfg);
        let paths: Vec<String> = diags
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "max_retries",
                "poll_interval",
                "max_requests_per_second",
                "batch_size"
            ]
        );
        // The same checks apply to values from the environment, naming the variable.
        let (client, diags) = build(
            &config(&[
                ("endpoint", "http://127.0.0.1:7"),
                ("project_id", PROJECT),
                ("auth_token", "t"),
            ]),
            &[("CPH_POLL_INTERVAL", "30d"), ("CPH_BATCH_SIZE", "5000")],
        );
        assert!(client.is_none());
        let details: Vec<&str> = diags.iter().map(|d| d.detail.as_str()).collect();
        assert!(
            details[0].contains("CPH_POLL_INTERVAL") && details[0].contains("7days"),
            "{details:?}"
        );
        assert!(
            details[1].contains("CPH_BATCH_SIZE") && details[1].contains("1 to 1000"),
            "{details:?}"
        );
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

    #[test]
    fn the_user_agent_names_this_version_and_terraforms() {
        let (client, diags) = build(
            &config(&[]),
            &[
                ("CPH_ENDPOINT", "http://127.0.0.1:9"),
                ("HW_PROJECT_ID", PROJECT),
                ("HW_AUTH_TOKEN", "t"),
            ],
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            client.unwrap().settings().user_agent,
            format!(
                "terraform-provider-cph/{} terraform/1.11.4",
                env!("CARGO_PKG_VERSION")
            )
        );
        // Whatever Terraform says about itself cannot break the header.
        assert_eq!(
            user_agent("1.0.3\r\nX-Evil: 1"),
            format!(
                "terraform-provider-cph/{} terraform/1.0.3X-Evil1",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert_eq!(
            user_agent(""),
            format!("terraform-provider-cph/{}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn descriptions_state_the_client_defaults() {
        let block = provider_block();
        let describe = |name: &str| {
            block
                .attributes
                .iter()
                .find(|a| a.name == name)
                .unwrap()
                .description
                .clone()
        };
        assert!(describe("max_retries").contains("Default 5."));
        assert!(describe("batch_size").contains("Default 100."));
        assert!(describe("poll_interval").contains("Default `5s`."));
        assert!(describe("max_requests_per_second").contains("Default 10."));
    }
}
