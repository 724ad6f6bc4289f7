//! The seam between the client and the network: one signed request in, status + headers + body
//! out. [`ReqwestTransport`] is the real one (rustls); tests substitute a scripted transport.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use url::Url;

use crate::error::TransportKind;
use crate::signer::Headers;

/// The HTTP method of a CPH call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    /// A POST that only reads (BatchShowPhoneConnectInfos: asking again only issues new
    /// tickets), so re-sending it is as harmless as a GET.
    PostQuery,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post | Method::PostQuery => "POST",
        }
    }

    /// Whether the request carries a body (every POST does).
    pub(crate) fn has_body(self) -> bool {
        self != Method::Get
    }

    /// Whether re-sending is harmless.
    pub(crate) fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::PostQuery)
    }
}

/// A fully built, signed request; its `Debug` redacts the credential headers (see [`Headers`]).
#[derive(Debug, Clone)]
pub(crate) struct WireRequest {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: Headers,
    pub(crate) body: Vec<u8>,
    pub(crate) timeout: Duration,
}

/// An HTTP answer, whatever its status.
#[derive(Debug, Clone, Default)]
pub(crate) struct WireResponse {
    pub(crate) status: u16,
    /// The `X-Request-Id` header.
    pub(crate) request_id: Option<String>,
    /// The `Retry-After` header.
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// A request that got no HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct WireError {
    pub(crate) kind: TransportKind,
    pub(crate) message: String,
}

pub(crate) type WireFuture<'a> =
    Pin<Box<dyn Future<Output = Result<WireResponse, WireError>> + Send + 'a>>;

/// Sends one request.
pub(crate) trait Transport: Send + Sync + std::fmt::Debug {
    fn send(&self, request: WireRequest) -> WireFuture<'_>;
}

/// The production transport.
#[derive(Debug, Clone)]
pub(crate) struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    pub(crate) fn new(connect_timeout: Duration, user_agent: &str) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .user_agent(user_agent)
            .build()?;
        Ok(ReqwestTransport { client })
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: WireRequest) -> WireFuture<'_> {
        Box::pin(async move {
            let method = match request.method {
                Method::Get => reqwest::Method::GET,
                Method::Post | Method::PostQuery => reqwest::Method::POST,
            };
            let mut builder = self
                .client
                .request(method, request.url)
                .timeout(request.timeout);
            for (name, value) in request.headers {
                builder = builder.header(name, value);
            }
            if request.method.has_body() {
                builder = builder.body(request.body);
            }
            let response = builder.send().await.map_err(wire_error)?;
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let status = response.status().as_u16();
            let request_id = header("x-request-id");
            let retry_after = header("retry-after");
            let body = response.bytes().await.map_err(wire_error)?.to_vec();
            Ok(WireResponse {
                status,
                request_id,
                retry_after,
                body,
            })
        })
    }
}

fn wire_error(error: reqwest::Error) -> WireError {
    let kind = if error.is_connect() {
        TransportKind::Connect
    } else if error.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    };
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    WireError { kind, message }
}
