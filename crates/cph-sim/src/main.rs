//! The `cph-sim` binary: parses flags into a [`SimConfig`], starts the simulator, prints the one
//! line `cph-sim listening on http://HOST:PORT` on stdout and, on stderr, a line to paste into the
//! shell that runs Terraform (`export CPH_ENDPOINT=... HW_PROJECT_ID=... HW_ACCESS_KEY=...
//! HW_SECRET_KEY=...`, with the secret key configured), logs to stderr, and exits 0 on SIGINT or
//! SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cph_sim::{
    DEFAULT_ACCESS_KEY, DEFAULT_AUTH_TOKEN, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY, Faults,
    SimConfig, Simulator,
};

/// A local simulator of the Huawei Cloud CPH API (phones, jobs, signatures, faults).
#[derive(Debug, Parser)]
#[command(name = "cph-sim", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Number of phones in the fixture.
    #[arg(long, default_value_t = 20)]
    phones: usize,
    /// Seed of ids, job failures and fault injection.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How long each job runs, e.g. 2s, 500ms, 1m.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    job_duration: Duration,
    /// How long a finished job stays known (ShowJob, ListJobs) after its end, e.g. 24h, 10m.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    job_retention: Duration,
    /// Access key (AK) accepted for SDK-HMAC-SHA256 signatures.
    #[arg(long, default_value = DEFAULT_ACCESS_KEY)]
    access_key: String,
    /// Secret key (SK) of the access key.
    #[arg(long, default_value = DEFAULT_SECRET_KEY)]
    secret_key: String,
    /// The project id served.
    #[arg(long, default_value = DEFAULT_PROJECT_ID)]
    project_id: String,
    /// Token accepted in X-Auth-Token; an empty value disables token authentication.
    #[arg(long, default_value = DEFAULT_AUTH_TOKEN)]
    auth_token: String,
    /// Probability (0..=1) that a phone's job ends failed.
    #[arg(long, default_value_t = 0.0)]
    job_failure_rate: f64,
    /// Probability (0..=1) that a request is answered 429 APIG.0308.
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// Probability (0..=1) that a request is answered with --server-error-status.
    #[arg(long, default_value_t = 0.0)]
    server_error_rate: f64,
    /// HTTP status of injected server errors (5xx).
    #[arg(long, default_value_t = 503)]
    server_error_status: u16,
    /// Probability (0..=1) that a batch operation the service performed is answered 500
    /// CPS.0003 (under the request id of its jobs) instead of 200.
    #[arg(long, default_value_t = 0.0)]
    acted_error_rate: f64,
    /// Probability (0..=1) that a batch operation the service performed gets no answer: the
    /// connection is closed without a status line.
    #[arg(long, default_value_t = 0.0)]
    acted_drop_rate: f64,
    /// Latency added to every /v1 request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Plus a uniformly random 0..=N milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_jitter_ms: u64,
}

/// Parses `500ms`, `2s`, `1.5s`, `3m`, `1h`; a bare number is seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected e.g. 2s or 500ms"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "invalid duration unit {other:?} in {text:?}: use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("invalid duration {text:?}: {e}"))
}

impl Args {
    fn into_config(self) -> SimConfig {
        SimConfig {
            listen: self.listen,
            phones: self.phones,
            seed: self.seed,
            job_duration: self.job_duration,
            job_retention: self.job_retention,
            access_key: self.access_key,
            secret_key: self.secret_key,
            project_id: self.project_id,
            auth_token: Some(self.auth_token).filter(|t| !t.is_empty()),
            faults: Faults {
                job_failure_rate: self.job_failure_rate,
                throttle_rate: self.throttle_rate,
                server_error_rate: self.server_error_rate,
                server_error_status: self.server_error_status,
                latency_ms: self.latency_ms,
                latency_jitter_ms: self.latency_jitter_ms,
                acted_error_rate: self.acted_error_rate,
                acted_drop_rate: self.acted_drop_rate,
            },
        }
    }
}

/// Listens for SIGINT (Ctrl-C) and, on Unix, SIGTERM from the moment it is called; the future ends at the first
/// of them. Called before the simulator says it is listening: a signal sent as soon as that line is read (as
/// scripts and tests do) must stop it cleanly, not kill it by the default action of a signal nobody handles yet.
fn terminated() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listeners = signal(SignalKind::interrupt())
            .and_then(|int| Ok((int, signal(SignalKind::terminate())?)));
        async move {
            match listeners {
                Ok((mut int, mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the simulator");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The one line stdout carries.
#[allow(clippy::print_stdout)]
fn announce(base_url: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "cph-sim listening on {base_url}")?;
    out.flush()
}

/// `value` as one shell word: as it is when it holds only characters no shell treats specially,
/// else single-quoted (a `'` inside written `'\''`).
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'-' | b'.' | b'/' | b':' | b'@' | b'%' | b'+' | b',' | b'='
                )
        });
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The line that points the provider at this simulator, ready to paste into a shell: the variables
/// the provider reads, with the endpoint, the project and the access key and secret key configured
/// (the secret too: it is what the provider needs to sign; the default one is a public test value).
fn export_line(base_url: &str, config: &SimConfig) -> String {
    format!(
        "export CPH_ENDPOINT={} HW_PROJECT_ID={} HW_ACCESS_KEY={} HW_SECRET_KEY={}",
        shell_word(base_url),
        shell_word(&config.project_id),
        shell_word(&config.access_key),
        shell_word(&config.secret_key)
    )
}

/// The ready-to-paste line on stderr, after a comment line saying what it is for, written at once
/// so that no log line comes between them.
fn announce_exports(line: &str) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "# To point terraform-provider-cph at this simulator, paste into the shell that runs Terraform:\n{line}"
    )?;
    err.flush()
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .init();
    let config = Args::parse().into_config();
    tracing::info!(
        phones = config.phones,
        seed = config.seed,
        job_duration_ms = config.job_duration.as_millis() as u64,
        job_retention_s = config.job_retention.as_secs(),
        project_id = %config.project_id,
        access_key = %config.access_key,
        "starting cph-sim"
    );
    let exports = config.clone();
    let stop = terminated();
    let sim = match Simulator::start(config).await {
        Ok(sim) => sim,
        Err(error) => {
            tracing::error!(%error, "cannot start the simulator");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = announce(&sim.base_url()) {
        tracing::error!(%error, "cannot write the listening line to stdout");
        return ExitCode::FAILURE;
    }
    if let Err(error) = announce_exports(&export_line(&sim.base_url(), &exports)) {
        tracing::error!(%error, "cannot write the export line to stderr");
        return ExitCode::FAILURE;
    }
    stop.await;
    tracing::info!("signal received, shutting down");
    sim.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_line_quotes_only_values_a_shell_would_misread() {
        let config = Args::parse_from(["cph-sim"]).into_config();
        assert_eq!(
            export_line("http://127.0.0.1:41619", &config),
            "export CPH_ENDPOINT=http://127.0.0.1:41619 HW_PROJECT_ID=0123456789abcdef0123456789abcdef \
             HW_ACCESS_KEY=SIMACCESSKEY00000001 HW_SECRET_KEY=simsecretkey"
        );
        assert_eq!(shell_word("it's a $ecret"), r"'it'\''s a $ecret'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a+b/c=d"), "a+b/c=d");
    }

    #[test]
    fn durations_parse_in_humantime_style() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("3m"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("2 weeks").is_err());
    }

    #[test]
    fn flags_default_to_the_documented_config() {
        let config = Args::parse_from(["cph-sim"]).into_config();
        let default = SimConfig::default();
        assert_eq!(config.listen, default.listen);
        assert_eq!(config.phones, default.phones);
        assert_eq!(config.job_duration, default.job_duration);
        assert_eq!(config.job_retention, default.job_retention);
        // the flag spells out 503 where the library's default says 0 (meaning 503)
        let default_faults = Faults {
            server_error_status: default.faults.effective_server_error_status(),
            ..default.faults.clone()
        };
        assert_eq!(config.faults, default_faults);
        assert_eq!(config.auth_token, default.auth_token);
        assert_eq!(config.secret_key, default.secret_key);
        assert_eq!(config.faults.effective_server_error_status(), 503);
    }

    #[test]
    fn empty_token_disables_token_auth() {
        let config = Args::parse_from(["cph-sim", "--auth-token", "", "--job-duration", "250ms"])
            .into_config();
        assert_eq!(config.auth_token, None);
        assert_eq!(config.job_duration, Duration::from_millis(250));
    }

    #[test]
    fn acted_fault_and_retention_flags_reach_the_config() {
        let config = Args::parse_from([
            "cph-sim",
            "--acted-error-rate",
            "0.25",
            "--acted-drop-rate",
            "0.5",
            "--job-retention",
            "10m",
        ])
        .into_config();
        assert_eq!(config.faults.acted_error_rate, 0.25);
        assert_eq!(config.faults.acted_drop_rate, 0.5);
        assert_eq!(config.job_retention, Duration::from_secs(600));
        assert!(Args::try_parse_from(["cph-sim", "--job-retention", "soon"]).is_err());
    }
}
