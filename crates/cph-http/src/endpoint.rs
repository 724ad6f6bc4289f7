//! Where the API lives: [`Endpoint`], a region or an explicit URL, resolved to a base URL that
//! must use https unless it is a loopback host (or the builder's `danger` door was opened).

use std::net::IpAddr;

use url::Url;

use crate::error::Error;

/// Where the API lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A Huawei Cloud region: `https://cph.{region}.myhuaweicloud.com`.
    Region(String),
    /// An explicit base URL (simulator, private cloud). Plain `http://` only for loopback hosts,
    /// unless [`crate::ClientBuilder::danger_allow_insecure_http`] is called.
    Url(String),
}

impl Endpoint {
    /// The regional endpoint of `region`, e.g. `cn-north-4`.
    pub fn region(region: impl Into<String>) -> Self {
        Endpoint::Region(region.into())
    }

    /// An explicit base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(url: impl Into<String>) -> Self {
        Endpoint::Url(url.into())
    }

    pub(crate) fn resolve(&self, allow_insecure_http: bool) -> Result<Url, Error> {
        let text = match self {
            Endpoint::Region(region) => {
                let valid = !region.is_empty()
                    && region.len() <= 64
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !valid {
                    return Err(Error::invalid(
                        "region",
                        format!("{region:?} must be lower-case letters, digits and `-`"),
                    ));
                }
                format!("https://cph.{region}.myhuaweicloud.com")
            }
            Endpoint::Url(url) => url.clone(),
        };
        let url = Url::parse(&text)
            .map_err(|e| Error::invalid("endpoint", format!("{text:?} is not a URL: {e}")))?;
        if url.host().is_none() {
            return Err(Error::invalid("endpoint", format!("{text:?} has no host")));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(Error::invalid(
                "endpoint",
                format!("{text:?} must not carry a query, fragment or user info"),
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if allow_insecure_http || is_loopback(&url) => {}
            "http" => {
                return Err(Error::invalid(
                    "endpoint",
                    format!(
                        "{text:?} uses plain http to a host that is not a loopback address: the endpoint \
                         must use https (plain http is accepted only for 127.0.0.1, ::1 and localhost, such as \
                         a local simulator)"
                    ),
                ));
            }
            other => {
                return Err(Error::invalid(
                    "endpoint",
                    format!("{text:?} has scheme {other:?}; expected https or http"),
                ));
            }
        }
        Ok(url)
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}
