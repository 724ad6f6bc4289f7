//! Fuzzes the simulator's gateway checks (SDK-HMAC-SHA256 verifier, token and project checks)
//! through `cph_sim::fuzz_authenticate`, in two modes chosen by the input:
//!
//! - raw: arbitrary method, path, query, headers (`Authorization` and `X-Sdk-Date` included) and
//!   body: the verifier never panics and accepts nothing (the fuzzer never sees the secret key
//!   and token authentication is off);
//! - signed: the same parts, made well-formed for HTTP, signed by cph-http's signer (written
//!   independently): the verifier must accept the signature whatever the path, query, headers,
//!   body and clock skew (within the allowed 15 minutes).

#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arbitrary::Arbitrary;
use cph_http::{Secret, sdk_date, sign};
use cph_sim::{SimConfig, SimError, fuzz_authenticate};
use libfuzzer_sys::fuzz_target;
use url::Url;

const ACCESS_KEY: &str = "FUZZACCESSKEY";
const SECRET_KEY: &str = "fuzz-secret-key";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
/// The gateway's clock: 2024-05-01T12:00:00Z.
const NOW_SECS: u64 = 1_714_564_800;

#[derive(Debug, Arbitrary)]
struct Input {
    signed: bool,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Signed mode: seconds the signer's clock is off, folded into the allowed skew.
    skew: i16,
    /// Signed mode: whether the signer's URL carries a port.
    port: Option<u16>,
}

fn config() -> SimConfig {
    SimConfig {
        access_key: ACCESS_KEY.to_owned(),
        secret_key: SECRET_KEY.to_owned(),
        project_id: PROJECT.to_owned(),
        auth_token: None,
        ..SimConfig::default()
    }
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// A header name as HTTP carries it (token characters, lower-cased by the server).
fn header_name(raw: &str) -> Option<String> {
    let name: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect::<String>()
        .to_ascii_lowercase();
    let reserved = [
        "authorization",
        "x-sdk-date",
        "x-auth-token",
        "x-project-id",
        "host",
    ];
    (!name.is_empty() && !reserved.contains(&name.as_str())).then_some(name)
}

/// A header value as HTTP carries it: visible ASCII and spaces.
fn header_value(raw: &str) -> String {
    raw.chars().filter(|c| matches!(c, ' '..='~')).collect()
}

fn raw(input: &Input) {
    let result = fuzz_authenticate(
        &config(),
        &input.method,
        &input.path,
        input.query.as_deref(),
        &input.headers,
        &input.body,
        now(),
    );
    // The fuzzer cannot compute an HMAC with a key it never sees, and tokens are disabled:
    // whatever it sends must be refused.
    assert!(
        result.is_err(),
        "accepted a request the fuzzer forged: {input:?}"
    );
}

fn signed(input: &Input) {
    let method: String = input
        .method
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    let method = if method.is_empty() {
        "POST".to_owned()
    } else {
        method
    };
    let mut url = match Url::parse("https://cph.example.com/") {
        Ok(url) => url,
        Err(e) => panic!("base url: {e}"),
    };
    if let Some(port) = input.port {
        let _ = url.set_port(Some(port));
    }
    url.set_path(&format!("/v1/{PROJECT}/{}", input.path));
    url.set_query(input.query.as_deref());

    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in &input.headers {
        if let Some(name) = header_name(name) {
            if !headers.iter().any(|(n, _)| *n == name) {
                headers.push((name, header_value(value)));
            }
        }
    }
    let skew = i64::from(input.skew) % 900;
    let signer_clock = if skew >= 0 {
        now() + Duration::from_secs(skew.unsigned_abs())
    } else {
        now() - Duration::from_secs(skew.unsigned_abs())
    };
    headers.push(("x-sdk-date".to_owned(), sdk_date(signer_clock)));
    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let signature = match sign(
        &method,
        &url,
        &borrowed,
        &input.body,
        ACCESS_KEY,
        &Secret::new(SECRET_KEY),
    ) {
        Ok(signature) => signature,
        Err(e) => panic!("the signer refused {url}: {e}"),
    };
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => panic!("{url} has no host"),
    };
    headers.push(("host".to_owned(), host));
    headers.push(("authorization".to_owned(), signature.authorization.clone()));

    let result = fuzz_authenticate(
        &config(),
        &method,
        url.path(),
        url.query(),
        &headers,
        &input.body,
        now(),
    );
    match result {
        Ok(()) => {}
        // The URL parser may rewrite the path (dot segments) so that the project moves.
        Err(SimError::ProjectMismatch { .. }) => {}
        Err(e) => panic!(
            "signed request refused: {e}\nurl: {url}\nheaders: {headers:?}\ncanonical request:\n{}",
            signature.canonical_request
        ),
    }
}

fuzz_target!(|input: Input| {
    if input.signed {
        signed(&input);
    } else {
        raw(&input);
    }
});
