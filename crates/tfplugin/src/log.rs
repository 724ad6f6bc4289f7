//! A `tracing` layer writing hclog-style JSON lines to stderr, the format Terraform re-emits under `TF_LOG`.

use std::io::Write;

use serde_json::{Map, Value as J};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// The level from `TF_LOG_PROVIDER`, else `TF_LOG`; `off` when neither is set.
pub(crate) fn level_from_env() -> LevelFilter {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("TF_LOG").ok());
    parse_level(raw.as_deref())
}

fn parse_level(raw: Option<&str>) -> LevelFilter {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        Some("trace" | "json") => LevelFilter::TRACE,
        Some("debug") => LevelFilter::DEBUG,
        Some("info") => LevelFilter::INFO,
        Some("warn") => LevelFilter::WARN,
        Some("error") => LevelFilter::ERROR,
        Some("off") | None => LevelFilter::OFF,
        Some(_) => LevelFilter::TRACE,
    }
}

/// Installs the hclog JSON layer as the global subscriber (no-op if one is already set).
pub(crate) fn init() {
    let subscriber = tracing_subscriber::registry().with(HclogLayer.with_filter(level_from_env()));
    let _ = tracing::subscriber::set_global_default(subscriber);
}

struct HclogLayer;

struct Fields(Map<String, J>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), J::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), J::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), J::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), J::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), J::from(format!("{value:?}")));
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// go-hclog's timestamp layout: `2006-01-02T15:04:05.000000Z07:00`, in UTC.
fn timestamp(now: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    )
}

/// Renders one event as an hclog JSON line (without the newline).
fn render(
    level: &Level,
    module: &str,
    mut fields: Map<String, J>,
    now: time::OffsetDateTime,
) -> String {
    let message = match fields.remove("message") {
        Some(J::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let mut line = Map::new();
    line.insert("@level".into(), J::from(level_name(level)));
    line.insert("@message".into(), J::from(message));
    line.insert("@module".into(), J::from(module));
    line.insert("@timestamp".into(), J::from(timestamp(now)));
    for (k, v) in fields {
        // Never let a field overwrite the keys Terraform parses as strings.
        if !k.starts_with('@') {
            line.insert(k, v);
        }
    }
    J::Object(line).to_string()
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let meta = event.metadata();
        let line = render(
            meta.level(),
            meta.target(),
            fields.0,
            time::OffsetDateTime::now_utc(),
        );
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_string_level_message_and_timestamp() {
        let mut fields = Map::new();
        fields.insert("message".into(), J::from("hello"));
        fields.insert("count".into(), J::from(3));
        fields.insert("@level".into(), J::from(5));
        let now = time::OffsetDateTime::from_unix_timestamp(0).unwrap();
        let line = render(&Level::WARN, "tfplugin::serve", fields, now);
        let parsed: J = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["@level"], "warn");
        assert_eq!(parsed["@message"], "hello");
        assert_eq!(parsed["@timestamp"], "1970-01-01T00:00:00.000000Z");
        assert_eq!(parsed["count"], 3);
    }

    #[test]
    fn level_comes_from_terraform_names() {
        assert_eq!(parse_level(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(parse_level(Some("json")), LevelFilter::TRACE);
        assert_eq!(parse_level(None), LevelFilter::OFF);
    }
}
