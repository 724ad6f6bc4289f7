//! The API gateway's checks, written from the protocol and independently of any client signer:
//! SDK-HMAC-SHA256 signatures (the canonical request rebuilt from what was received), IAM tokens,
//! and the project id of the path and of `X-Project-Id`. Secrets are compared in constant time
//! and never appear in errors or logs.

use std::fmt;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::clock::parse_sdk_date;
use crate::config::SimConfig;
use crate::error::SimError;

/// The signing algorithm's name, first word of `Authorization` and of the string to sign.
pub(crate) const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The most a request's `X-Sdk-Date` may differ from the gateway's clock.
pub(crate) const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// Everything but RFC 3986's unreserved characters `A-Za-z0-9-._~` is percent-encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A secret string: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What the gateway accepts.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub(crate) access_key: String,
    pub(crate) secret_key: Secret,
    pub(crate) project_id: String,
    pub(crate) auth_token: Option<Secret>,
}

impl Credentials {
    pub(crate) fn from_config(config: &SimConfig) -> Self {
        Credentials {
            access_key: config.access_key.clone(),
            secret_key: Secret::new(config.secret_key.clone()),
            project_id: config.project_id.clone(),
            auth_token: config.auth_token.clone().map(Secret::new),
        }
    }
}

/// A request as received, before any decoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received<'a> {
    /// `GET`, `POST`, ...
    pub(crate) method: &'a str,
    /// The path exactly as sent (still percent-encoded).
    pub(crate) path: &'a str,
    /// The query exactly as sent, without `?`.
    pub(crate) query: Option<&'a str>,
    /// Header names (any case) and values.
    pub(crate) headers: &'a [(String, String)],
    /// The body bytes.
    pub(crate) body: &'a [u8],
}

impl Received<'_> {
    /// Every value of header `name` (case-insensitive), joined with `,`; `None` when absent.
    fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }
}

/// Checks the credentials (signature or token), then that the path's project is the configured
/// one and `X-Project-Id`, when sent, names the same project.
pub(crate) fn authenticate(
    request: &Received<'_>,
    credentials: &Credentials,
    path_project: &str,
    now: SystemTime,
) -> Result<(), SimError> {
    if let Some(authorization) = request.header("authorization") {
        verify_signature(request, &authorization, credentials, now)?;
    } else if let Some(token) = request.header("x-auth-token") {
        let accepted = credentials.auth_token.as_ref().is_some_and(|expected| {
            constant_time_eq(expected.expose().as_bytes(), token.as_bytes())
        });
        if !accepted {
            return Err(SimError::AuthFailed {
                reason: "the token is invalid or expired".to_owned(),
            });
        }
    } else {
        return Err(SimError::AuthFailed {
            reason: "neither an Authorization nor an X-Auth-Token header was sent".to_owned(),
        });
    }
    if path_project != credentials.project_id {
        return Err(SimError::ProjectMismatch {
            project_id: path_project.to_owned(),
        });
    }
    if let Some(header_project) = request.header("x-project-id") {
        if header_project.trim() != path_project {
            return Err(SimError::ProjectMismatch {
                project_id: header_project.trim().to_owned(),
            });
        }
    }
    Ok(())
}

/// Fuzzing entry point, not API: runs the gateway's checks on a raw request exactly as the `/v1`
/// routes do (the project is the path's second segment), against the credentials of `config`.
///
/// `headers` are names (any case) and values as received; `query` is without `?`. Used by the
/// `fuzz/` targets, which need to reach the verifier without a server.
#[doc(hidden)]
pub fn fuzz_authenticate(
    config: &SimConfig,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
    now: SystemTime,
) -> Result<(), SimError> {
    let project = path.split('/').nth(2).unwrap_or_default();
    let request = Received {
        method,
        path,
        query,
        headers,
        body,
    };
    authenticate(&request, &Credentials::from_config(config), project, now)
}

/// The parts of an `Authorization: SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..`.
#[derive(Debug, PartialEq, Eq)]
struct AuthorizationHeader<'a> {
    access: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<AuthorizationHeader<'_>> {
    let rest = value.trim().strip_prefix(ALGORITHM)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (mut access, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key.trim() {
            "Access" => access = Some(val.trim()),
            "SignedHeaders" => signed_headers = Some(val.trim()),
            "Signature" => signature = Some(val.trim()),
            _ => {}
        }
    }
    Some(AuthorizationHeader {
        access: access.filter(|s| !s.is_empty())?,
        signed_headers: signed_headers.filter(|s| !s.is_empty())?,
        signature: signature.filter(|s| !s.is_empty())?,
    })
}

fn verify_signature(
    request: &Received<'_>,
    authorization: &str,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<(), SimError> {
    let fail = |reason: &str| SimError::AuthFailed {
        reason: reason.to_owned(),
    };
    let header = parse_authorization(authorization)
        .ok_or_else(|| fail("the Authorization header is not an SDK-HMAC-SHA256 signature"))?;
    if header.access != credentials.access_key {
        return Err(SimError::AuthFailed {
            reason: format!("access key {} is unknown", header.access),
        });
    }
    let date_text = request
        .header("x-sdk-date")
        .ok_or_else(|| fail("the X-Sdk-Date header is missing"))?;
    let date = parse_sdk_date(date_text.trim()).ok_or_else(|| SimError::AuthFailed {
        reason: format!("X-Sdk-Date {date_text:?} is not YYYYMMDDTHHMMSSZ"),
    })?;
    let skew = now.duration_since(date).unwrap_or_else(|e| e.duration());
    if skew > MAX_CLOCK_SKEW {
        return Err(SimError::AuthFailed {
            reason: format!(
                "the signature expired: X-Sdk-Date {date_text} is more than 15 minutes off"
            ),
        });
    }
    let canonical = canonical_request(request, header.signed_headers)
        .ok_or_else(|| fail("a signed header is missing from the request"))?;
    let to_sign = string_to_sign(date_text.trim(), &canonical);
    let provided = hex::decode(header.signature).map_err(|_| fail("verify aksk signature fail"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(credentials.secret_key.expose().as_bytes())
        .map_err(|_| fail("verify aksk signature fail"))?;
    mac.update(to_sign.as_bytes());
    mac.verify_slice(&provided)
        .map_err(|_| fail("verify aksk signature fail"))
}

/// The canonical request rebuilt from what was received; `None` when a signed header is absent.
fn canonical_request(request: &Received<'_>, signed_headers: &str) -> Option<String> {
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let value = request.header(name)?;
        headers.push_str(&name.to_ascii_lowercase());
        headers.push(':');
        headers.push_str(value.trim());
        headers.push('\n');
    }
    Some(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        canonical_uri(request.path),
        canonical_query(request.query.unwrap_or_default()),
        headers,
        signed_headers,
        hex::encode(Sha256::digest(request.body)),
    ))
}

fn string_to_sign(date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn rfc3986(bytes: &[u8]) -> String {
    percent_encoding::percent_encode(bytes, RFC3986).to_string()
}

/// Each segment percent-decoded then RFC 3986-encoded, with a trailing `/`.
fn canonical_uri(path: &str) -> String {
    let mut uri = path
        .split('/')
        .map(|segment| rfc3986(&percent_decode_str(segment).collect::<Vec<u8>>()))
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Decodes a raw query into `(key, value)` pairs: `+` is a space (as Go's `url.ParseQuery`,
/// which the official Go SDK signs with), `%XX` escapes are decoded, a key without `=` has an
/// empty value.
pub(crate) fn decode_query(query: &str) -> Vec<(String, String)> {
    let decode = |text: &str| -> String {
        let spaced = text.replace('+', " ");
        percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (decode(key), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// The pairs sorted by key then value, each RFC 3986-encoded, joined with `&`.
fn canonical_query(query: &str) -> String {
    let mut pairs = decode_query(query);
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, RFC3986),
                utf8_percent_encode(v, RFC3986)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (da, db) = (Sha256::digest(a), Sha256::digest(b));
    da.iter()
        .zip(db.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::Value;

    const PROJECT: &str = "0123456789abcdef0123456789abcdef";

    struct Vector {
        name: String,
        access_key: String,
        secret_key: String,
        method: String,
        host: String,
        path: String,
        query: Option<String>,
        headers: Vec<(String, String)>,
        body: String,
        canonical_request: String,
        string_to_sign: String,
        authorization: String,
        date: String,
    }

    impl Vector {
        fn received_headers(&self) -> Vec<(String, String)> {
            let mut headers = self.headers.clone();
            headers.push(("Host".to_owned(), self.host.clone()));
            headers.push(("Authorization".to_owned(), self.authorization.clone()));
            headers
        }

        fn credentials(&self) -> Credentials {
            Credentials {
                access_key: self.access_key.clone(),
                secret_key: Secret::new(self.secret_key.clone()),
                project_id: PROJECT.to_owned(),
                auth_token: None,
            }
        }

        fn now(&self) -> SystemTime {
            parse_sdk_date(&self.date).unwrap()
        }

        fn check(
            &self,
            headers: &[(String, String)],
            body: &str,
            query: Option<&str>,
        ) -> Result<(), SimError> {
            let request = Received {
                method: &self.method,
                path: &self.path,
                query,
                headers,
                body: body.as_bytes(),
            };
            authenticate(&request, &self.credentials(), PROJECT, self.now())
        }
    }

    fn vectors() -> Vec<Vector> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/signer-vectors.json"
        );
        let text = std::fs::read_to_string(path)
            .expect("testdata/signer-vectors.json (a copy of the shared known-answer vectors)");
        let json: Value = serde_json::from_str(&text).unwrap();
        json["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let url = v["url"].as_str().unwrap();
                let rest = url.split_once("://").unwrap().1;
                let (host, path_query) = rest.split_at(rest.find('/').unwrap());
                let (path, query) = match path_query.split_once('?') {
                    Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
                    None => (path_query.to_owned(), None),
                };
                let headers: Vec<(String, String)> = v["headers"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect();
                let date = headers
                    .iter()
                    .find(|(k, _)| k == "X-Sdk-Date")
                    .unwrap()
                    .1
                    .clone();
                let s = |k: &str| v[k].as_str().unwrap().to_owned();
                Vector {
                    name: s("name"),
                    access_key: s("access_key"),
                    secret_key: s("secret_key"),
                    method: s("method"),
                    host: host.to_owned(),
                    path,
                    query,
                    headers,
                    body: s("body"),
                    canonical_request: s("canonical_request"),
                    string_to_sign: s("string_to_sign"),
                    authorization: s("authorization"),
                    date,
                }
            })
            .collect()
    }

    #[test]
    fn canonical_request_and_string_to_sign_match_the_vectors() {
        let vectors = vectors();
        assert!(vectors.len() >= 2);
        for v in &vectors {
            let headers = v.received_headers();
            let request = Received {
                method: &v.method,
                path: &v.path,
                query: v.query.as_deref(),
                headers: &headers,
                body: v.body.as_bytes(),
            };
            let signed = parse_authorization(&v.authorization)
                .unwrap()
                .signed_headers;
            let canonical = canonical_request(&request, signed).unwrap();
            assert_eq!(canonical, v.canonical_request, "{}", v.name);
            assert_eq!(
                string_to_sign(&v.date, &canonical),
                v.string_to_sign,
                "{}",
                v.name
            );
        }
    }

    #[test]
    fn vector_authorizations_are_accepted_at_their_date() {
        for v in vectors() {
            let result = v.check(&v.received_headers(), &v.body, v.query.as_deref());
            assert_eq!(result, Ok(()), "{}", v.name);
        }
    }

    fn assert_auth_failed(result: Result<(), SimError>, needle: &str) {
        match result {
            Err(SimError::AuthFailed { reason }) => assert!(reason.contains(needle), "{reason}"),
            other => panic!("expected an authentication failure, got {other:?}"),
        }
    }

    #[test]
    fn wrong_secret_key_is_rejected() {
        for v in vectors() {
            let request = Received {
                method: &v.method,
                path: &v.path,
                query: v.query.as_deref(),
                headers: &v.received_headers(),
                body: v.body.as_bytes(),
            };
            let mut credentials = v.credentials();
            credentials.secret_key = Secret::new("not-the-secret");
            assert_auth_failed(
                authenticate(&request, &credentials, PROJECT, v.now()),
                "signature fail",
            );
        }
    }

    #[test]
    fn tampered_body_is_rejected() {
        let v = &vectors()[0];
        let tampered = v.body.replace("ffff", "fffe");
        assert_ne!(tampered, v.body);
        assert_auth_failed(
            v.check(&v.received_headers(), &tampered, None),
            "signature fail",
        );
    }

    #[test]
    fn tampered_query_is_rejected() {
        let v = &vectors()[1];
        assert_auth_failed(
            v.check(&v.received_headers(), &v.body, Some("limit=100&offset=0")),
            "signature fail",
        );
    }

    #[test]
    fn reordered_query_is_still_accepted() {
        let v = &vectors()[1];
        assert_eq!(
            v.check(&v.received_headers(), &v.body, Some("offset=0&limit=10")),
            Ok(())
        );
    }

    #[test]
    fn date_more_than_15_minutes_off_is_rejected_either_way() {
        let v = &vectors()[0];
        let headers = v.received_headers();
        let request = Received {
            method: &v.method,
            path: &v.path,
            query: None,
            headers: &headers,
            body: v.body.as_bytes(),
        };
        let creds = v.credentials();
        let at = v.now();
        let minute = Duration::from_secs(60);
        assert_eq!(
            authenticate(&request, &creds, PROJECT, at + 15 * minute),
            Ok(())
        );
        assert_eq!(
            authenticate(&request, &creds, PROJECT, at - 15 * minute),
            Ok(())
        );
        assert_auth_failed(
            authenticate(&request, &creds, PROJECT, at + 16 * minute),
            "expired",
        );
        assert_auth_failed(
            authenticate(&request, &creds, PROJECT, at - 16 * minute),
            "expired",
        );
    }

    #[test]
    fn unknown_access_key_is_rejected_naming_it() {
        let v = &vectors()[0];
        let headers: Vec<(String, String)> = v
            .received_headers()
            .into_iter()
            .map(|(k, val)| (k, val.replace(&v.access_key, "AKUNKNOWN")))
            .collect();
        assert_auth_failed(
            v.check(&headers, &v.body, None),
            "access key AKUNKNOWN is unknown",
        );
    }

    #[test]
    fn project_mismatch_between_path_and_credentials_is_forbidden() {
        let v = &vectors()[0];
        let request = Received {
            method: &v.method,
            path: &v.path,
            query: None,
            headers: &v.received_headers(),
            body: v.body.as_bytes(),
        };
        let mut creds = v.credentials();
        creds.project_id = "ffffffffffffffffffffffffffffffff".to_owned();
        let result = authenticate(&request, &creds, PROJECT, v.now());
        assert!(
            matches!(result, Err(SimError::ProjectMismatch { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn project_header_differing_from_path_is_forbidden() {
        let headers = vec![
            ("X-Auth-Token".to_owned(), "tok".to_owned()),
            (
                "X-Project-Id".to_owned(),
                "ffffffffffffffffffffffffffffffff".to_owned(),
            ),
        ];
        let request = Received {
            method: "GET",
            path: "/v1/0123456789abcdef0123456789abcdef/cloud-phone/phones",
            query: None,
            headers: &headers,
            body: b"",
        };
        let creds = Credentials {
            access_key: "AK".to_owned(),
            secret_key: Secret::new("SK"),
            project_id: PROJECT.to_owned(),
            auth_token: Some(Secret::new("tok")),
        };
        let result = authenticate(&request, &creds, PROJECT, SystemTime::now());
        assert_eq!(
            result,
            Err(SimError::ProjectMismatch {
                project_id: "ffffffffffffffffffffffffffffffff".to_owned()
            })
        );
    }

    #[test]
    fn tokens_must_match_the_configured_one() {
        let creds = Credentials {
            access_key: "AK".to_owned(),
            secret_key: Secret::new("SK"),
            project_id: PROJECT.to_owned(),
            auth_token: Some(Secret::new("tok")),
        };
        let check = |headers: Vec<(String, String)>, creds: &Credentials| {
            let request = Received {
                method: "GET",
                path: "/v1/p/cloud-phone/phones",
                query: None,
                headers: &headers,
                body: b"",
            };
            authenticate(&request, creds, PROJECT, SystemTime::now())
        };
        let token = |t: &str| vec![("x-auth-token".to_owned(), t.to_owned())];
        assert_eq!(check(token("tok"), &creds), Ok(()));
        assert_auth_failed(check(token("tok2"), &creds), "token");
        assert_auth_failed(check(vec![], &creds), "neither");
        let mut no_tokens = creds.clone();
        no_tokens.auth_token = None;
        assert_auth_failed(check(token("tok"), &no_tokens), "token");
    }

    #[test]
    fn canonical_uri_reencodes_segments_and_adds_the_slash() {
        assert_eq!(canonical_uri("/v1/a%20b/c"), "/v1/a%20b/c/");
        assert_eq!(canonical_uri("/v1/a b/"), "/v1/a%20b/");
        assert_eq!(canonical_uri("/v1/%7Ex*"), "/v1/~x%2A/");
    }

    #[test]
    fn canonical_query_sorts_and_encodes() {
        assert_eq!(canonical_query("b=2&a=x%2Cy&a=1"), "a=1&a=x%2Cy&b=2");
        assert_eq!(
            canonical_query("request_ids=a,b&flag"),
            "flag=&request_ids=a%2Cb"
        );
        assert_eq!(canonical_query("q=a+b*"), "q=a%20b%2A");
        assert_eq!(canonical_query(""), "");
    }

    /// Pinned after the `cph_sim_auth` fuzz target found cph-http's signer sorting the encoded
    /// pairs: the official SDK signer sorts keys and values before encoding, and so does this one.
    #[test]
    fn canonical_query_sorts_before_encoding_like_the_official_sdk() {
        assert_eq!(canonical_query("%60&G"), "G=&%60=");
        assert_eq!(canonical_query("k=%3Dc&k=7"), "k=7&k=%3Dc");
    }

    #[test]
    fn malformed_authorization_headers_are_refused() {
        assert!(parse_authorization("SDK-HMAC-SHA256 Access=a, SignedHeaders=h").is_none());
        assert!(parse_authorization("AWS4 Access=a, SignedHeaders=h, Signature=s").is_none());
        assert!(
            parse_authorization("SDK-HMAC-SHA256Access=a, SignedHeaders=h, Signature=s").is_none()
        );
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 Access=a, SignedHeaders=h;i, Signature=s"),
            Some(AuthorizationHeader {
                access: "a",
                signed_headers: "h;i",
                signature: "s"
            })
        );
    }

    #[test]
    fn fuzz_entry_point_takes_the_project_from_the_path_like_the_routes() {
        let v = &vectors()[0];
        let config = SimConfig {
            access_key: v.access_key.clone(),
            secret_key: v.secret_key.clone(),
            project_id: PROJECT.to_owned(),
            auth_token: None,
            ..SimConfig::default()
        };
        let headers = v.received_headers();
        let check = |config: &SimConfig| {
            fuzz_authenticate(
                config,
                &v.method,
                &v.path,
                None,
                &headers,
                v.body.as_bytes(),
                v.now(),
            )
        };
        assert_eq!(check(&config), Ok(()));
        let other = SimConfig {
            project_id: "ffffffffffffffffffffffffffffffff".to_owned(),
            ..config.clone()
        };
        assert_eq!(
            check(&other),
            Err(SimError::ProjectMismatch {
                project_id: PROJECT.to_owned()
            })
        );
    }

    #[test]
    fn secret_debug_is_masked() {
        assert_eq!(format!("{:?}", Secret::new("sk")), "***");
        let creds = Credentials {
            access_key: "AK".to_owned(),
            secret_key: Secret::new("supersecret"),
            project_id: PROJECT.to_owned(),
            auth_token: Some(Secret::new("tokentoken")),
        };
        let text = format!("{creds:?}");
        assert!(!text.contains("supersecret") && !text.contains("tokentoken"));
    }
}
