//! The client's core: the [`ClientBuilder`] whose constructor takes every mandatory decision,
//! the signed request loop with retries (each attempt recorded in the operation's watch on the
//! endpoint), and one method per API call. Submission, reconciliation and the job waiter are built
//! on these calls in their own modules; nothing here knows of them.

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;

use cph_types::{
    BatchRequest, BatchResponse, CONNECTION_PATH_SUFFIX, ClientType, ConnectionRequest,
    ConnectionResponse, ErrorBody, Job, JobId, LIST_PHONES_MAX_LIMIT, ListCloudPhonesPage,
    ListJobsQuery, ListJobsResponse, ListPhonesQuery, PhoneDetail, PhoneId, PhoneStatus,
    PhoneSummary, ProjectId, RequestId, ShowJobResponse, cloud_phone_path,
};
use serde::de::DeserializeOwned;
use url::Url;

use crate::control::Control;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::flow::FlowControl;
use crate::options::WaitOptions;
use crate::paging::{PageFacts, Pager, Step};
use crate::reach::Reachability;
use crate::retry::{FailureClass, RetryPolicy, classify, parse_retry_after};
use crate::secret::Credentials;
use crate::signer::{Headers, auth_headers, canonical_query};
use crate::timer::{Timer, TokioTimer};
use crate::transport::{Method, ReqwestTransport, Transport, WireRequest, WireResponse};

#[cfg(test)]
mod tests;

/// How long the attempts of a run may all fail before it gives up on the endpoint, unless
/// [`ClientBuilder::give_up_after`] says otherwise: 3 minutes.
pub const DEFAULT_UNREACHABLE_AFTER: Duration = Duration::from_secs(180);

/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("terraform-provider-cph/", env!("CARGO_PKG_VERSION"));

/// The client's tunable settings (see the [`ClientBuilder`] methods for defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one attempt of one request, body included.
    pub request_timeout: Duration,
    /// Retries and backoff.
    pub retry: RetryPolicy,
    /// Phones per batch request.
    pub batch_size: NonZeroUsize,
    /// Time between polling rounds of the job waiter (jittered by +-10%).
    pub poll_interval: Duration,
    /// Time between submitting and the first polling round.
    pub first_poll_delay: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The most requests per second of the client and all its clones (a token bucket shared
    /// by every call); `None`: no cap.
    pub max_requests_per_second: Option<NonZeroU32>,
    /// How long every attempt of a run (a submit, a wait, a run of a batch, a polling round) may
    /// fail, with no answer between them, before the run gives up on the endpoint
    /// ([`crate::WaitEnd::Unreachable`]). `retry.max_retries` bounds the retries of one call;
    /// this bounds a run whose calls all keep failing, each within its own retries.
    pub unreachable_after: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            batch_size: NonZeroUsize::new(cph_types::DEFAULT_BATCH_SIZE)
                .unwrap_or(NonZeroUsize::MIN),
            poll_interval: Duration::from_secs(5),
            first_poll_delay: Duration::from_secs(1),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_requests_per_second: None,
            unreachable_after: DEFAULT_UNREACHABLE_AFTER,
        }
    }
}

/// Builds a [`Client`]. The mandatory decisions (endpoint, project, credentials) are the
/// arguments of [`Client::builder`]; everything here is optional.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    endpoint: Endpoint,
    project_id: ProjectId,
    credentials: Credentials,
    settings: Settings,
    first_poll_delay_set: bool,
    timer: Arc<dyn Timer>,
    allow_insecure_http: bool,
    transport: Option<Arc<dyn Transport>>,
}

impl ClientBuilder {
    /// Connection timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Per-attempt timeout of every request (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.settings.request_timeout = timeout;
        self
    }

    /// Retries after a failed attempt of one call (default 5). A run against an endpoint that
    /// stopped answering is bounded by [`ClientBuilder::give_up_after`] instead.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.settings.retry.max_retries = retries;
        self
    }

    /// Backoff of the first retry and the cap (defaults 500 ms and 30 s).
    pub fn retry_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.settings.retry.base_delay = base;
        self.settings.retry.max_delay = max.max(base);
        self
    }

    /// Phones per batch request (default 100).
    pub fn batch_size(mut self, size: NonZeroUsize) -> Self {
        self.settings.batch_size = size;
        self
    }

    /// Time between polling rounds (default 5 s, jittered by +-10%). Unless set explicitly,
    /// the first poll comes after the smaller of this and 1 s.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.settings.poll_interval = interval;
        if !self.first_poll_delay_set {
            self.settings.first_poll_delay = interval.min(Duration::from_secs(1));
        }
        self
    }

    /// Time between the last submit and the first polling round.
    pub fn first_poll_delay(mut self, delay: Duration) -> Self {
        self.settings.first_poll_delay = delay;
        self.first_poll_delay_set = true;
        self
    }

    /// The `User-Agent` header (default `terraform-provider-cph/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.settings.user_agent = user_agent.into();
        self
    }

    /// At most `rate` requests per second from this client and its clones, evenly spaced, every
    /// call counted (submits, polls, reads, retries). Default: no cap.
    pub fn max_requests_per_second(mut self, rate: NonZeroU32) -> Self {
        self.settings.max_requests_per_second = Some(rate);
        self
    }

    /// How long every attempt of a run may fail, with no answer between them (no HTTP answer, or
    /// a server error), before the run gives up on the endpoint (default 3 minutes, see
    /// [`Settings::unreachable_after`]). Any answer other than a server error resets the clock.
    pub fn give_up_after(mut self, bound: Duration) -> Self {
        self.settings.unreachable_after = bound;
        self
    }

    /// The clock, sleep and jitter source (default [`TokioTimer`]).
    pub fn timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = timer;
        self
    }

    /// Allows a plain `http://` endpoint on a non-loopback host: requests and their signatures
    /// (or token) then travel unencrypted.
    pub fn danger_allow_insecure_http(mut self) -> Self {
        self.allow_insecure_http = true;
        self
    }

    #[cfg(test)]
    pub(crate) fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let base = self.endpoint.resolve(self.allow_insecure_http)?;
        if let Some((what, reason)) = self.credentials.problem() {
            return Err(Error::invalid(what, reason));
        }
        let s = &self.settings;
        if s.request_timeout.is_zero() || s.connect_timeout.is_zero() {
            return Err(Error::invalid(
                "timeouts",
                "connect and request timeouts must be positive",
            ));
        }
        if s.poll_interval.is_zero() {
            return Err(Error::invalid("poll_interval", "must be positive"));
        }
        if s.unreachable_after.is_zero() {
            return Err(Error::invalid("unreachable_after", "must be positive"));
        }
        if reqwest::header::HeaderValue::from_str(&s.user_agent).is_err() {
            return Err(Error::invalid(
                "user_agent",
                format!("{:?} is not a valid header value", s.user_agent),
            ));
        }
        let transport = match self.transport {
            Some(transport) => transport,
            None => Arc::new(
                ReqwestTransport::new(s.connect_timeout, &s.user_agent)
                    .map_err(|e| Error::invalid("http client", e.to_string()))?,
            ),
        };
        let flow = FlowControl::new(self.timer.clone(), s.max_requests_per_second);
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                project_id: self.project_id,
                credentials: self.credentials,
                settings: self.settings,
                transport,
                timer: self.timer,
                flow,
            }),
        })
    }
}

/// The CPH API client. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base: Url,
    project_id: ProjectId,
    credentials: Credentials,
    settings: Settings,
    transport: Arc<dyn Transport>,
    timer: Arc<dyn Timer>,
    flow: FlowControl,
}

/// One API call before signing.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) operation: &'static str,
    pub(crate) method: Method,
    /// The path below `/v1/{project_id}/cloud-phone/`.
    pub(crate) suffix: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

/// A call that failed for good, and whether the service may have acted on it.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) may_have_acted: bool,
}

/// Filters of [`Client::list_phones`]; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneFilter {
    /// Phones with this name.
    pub phone_name: Option<String>,
    /// Phones of this server.
    pub server_id: Option<String>,
    /// Phones in this status.
    pub status: Option<PhoneStatus>,
    /// Phones of this type code.
    pub phone_type: Option<i64>,
}

impl Client {
    /// Starts building a client for `endpoint`, `project_id` and `credentials`.
    pub fn builder(
        endpoint: Endpoint,
        project_id: ProjectId,
        credentials: Credentials,
    ) -> ClientBuilder {
        ClientBuilder {
            endpoint,
            project_id,
            credentials,
            settings: Settings::default(),
            first_poll_delay_set: false,
            timer: Arc::new(TokioTimer),
            allow_insecure_http: false,
            transport: None,
        }
    }

    /// The resolved base URL.
    pub fn endpoint(&self) -> &Url {
        &self.inner.base
    }

    /// The project every path names.
    pub fn project_id(&self) -> &ProjectId {
        &self.inner.project_id
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn timer(&self) -> &dyn Timer {
        self.inner.timer.as_ref()
    }

    /// The base URL as errors name it (no trailing slash).
    fn endpoint_name(&self) -> String {
        self.inner.base.as_str().trim_end_matches('/').to_owned()
    }

    /// A fresh watch on the endpoint for one run, giving up after
    /// [`Settings::unreachable_after`].
    pub(crate) fn watch(&self) -> Reachability {
        Reachability::new(self.endpoint_name(), self.inner.settings.unreachable_after)
    }

    /// The deadline and cancellation of `options`, for one operation.
    pub(crate) fn control<'a>(&'a self, options: &'a WaitOptions) -> Control<'a> {
        Control::new(self.timer(), options.deadline, Some(&options.cancel))
            .logging(options.log.as_deref())
    }

    /// ShowJob: one job.
    pub async fn show_job(&self, job_id: &JobId) -> Result<Job, Error> {
        self.show_job_in(job_id, &Control::unbounded(self.timer()))
            .await
            .map_err(|f| f.error)
    }

    pub(crate) async fn show_job_in(
        &self,
        job_id: &JobId,
        ctl: &Control<'_>,
    ) -> Result<Job, Failure> {
        let call = Call {
            operation: "ShowJob",
            method: Method::Get,
            suffix: format!("jobs/{job_id}"),
            query: Vec::new(),
            body: Vec::new(),
        };
        let answer: ShowJobResponse = self.execute(&call, ctl).await?;
        Ok(answer.job)
    }

    /// ListJobs: one page of the jobs of up to 20 request ids (`limit` 1..=100).
    pub async fn list_jobs(
        &self,
        request_ids: &[RequestId],
        offset: u32,
        limit: u32,
    ) -> Result<ListJobsResponse, Error> {
        self.list_jobs_in(
            request_ids,
            offset,
            limit,
            &Control::unbounded(self.timer()),
        )
        .await
        .map_err(|f| f.error)
    }

    pub(crate) async fn list_jobs_in(
        &self,
        request_ids: &[RequestId],
        offset: u32,
        limit: u32,
        ctl: &Control<'_>,
    ) -> Result<ListJobsResponse, Failure> {
        // The query's rules (1 to 20 ids, a limit of 1 to 100) are cph-types', shared with the simulator.
        let query = ListJobsQuery::new(request_ids.to_vec())
            .and_then(|q| q.with_offset(offset).with_limit(limit))
            .map_err(|e| Failure {
                error: Error::invalid("list_jobs arguments", e.to_string()),
                may_have_acted: false,
            })?;
        let call = Call {
            operation: "ListJobs",
            method: Method::Get,
            suffix: "jobs".to_owned(),
            query: query.to_pairs(),
            body: Vec::new(),
        };
        self.execute(&call, ctl).await
    }

    /// ListCloudPhones: every phone matching `filter`, all pages (200 per page).
    pub async fn list_phones(&self, filter: &PhoneFilter) -> Result<Vec<PhoneSummary>, Error> {
        self.list_phones_within(filter, &WaitOptions::new()).await
    }

    /// [`Client::list_phones`] bounded by the deadline and cancellation of `options` (retries
    /// included): [`Error::Timeout`] or [`Error::Cancelled`] when they end it first.
    ///
    /// The pages are judged by a [`Pager`]: a phone that does not decode fails the listing with
    /// [`Error::Decode`] (naming how many and the first reason) instead of shortening it; a page
    /// that repeats phones already listed (a service ignoring `offset`), a listing that ends below
    /// the `count` the service reports, or one past [`crate::DEFAULT_MAX_PAGES`] pages fails with
    /// [`Error::Paging`]. A full page that goes past the count means the count is stale: paging
    /// goes on until a short page.
    pub async fn list_phones_within(
        &self,
        filter: &PhoneFilter,
        options: &WaitOptions,
    ) -> Result<Vec<PhoneSummary>, Error> {
        self.list_phones_in(filter, &self.control(options)).await
    }

    pub(crate) async fn list_phones_in(
        &self,
        filter: &PhoneFilter,
        ctl: &Control<'_>,
    ) -> Result<Vec<PhoneSummary>, Error> {
        const OPERATION: &str = "ListCloudPhones";
        let mut pager = Pager::new(OPERATION, LIST_PHONES_MAX_LIMIT);
        let mut phones: Vec<PhoneSummary> = Vec::new();
        loop {
            let mut query = ListPhonesQuery::new()
                .with_offset(pager.offset())
                .with_limit(pager.limit())
                .map_err(Error::from)?;
            query.phone_name.clone_from(&filter.phone_name);
            query.server_id.clone_from(&filter.server_id);
            query.status = filter.status;
            query.phone_type = filter.phone_type;
            let call = Call {
                operation: OPERATION,
                method: Method::Get,
                suffix: "phones".to_owned(),
                query: query.to_pairs(),
                body: Vec::new(),
            };
            let page: ListCloudPhonesPage = self.execute(&call, ctl).await.map_err(|f| f.error)?;
            let step = pager.page(&PageFacts::new(
                &page.phones_decoding,
                page.phones.iter().map(|p| p.phone_id.as_deref()),
                page.count,
            ));
            let step = step.map_err(|e| {
                tracing::warn!(error = %e, listed = phones.len(), "listing phones stopped");
                Error::from(e)
            })?;
            phones.extend(page.phones);
            if step == Step::Done {
                tracing::debug!(
                    phones = phones.len(),
                    pages = pager.pages(),
                    "listed phones"
                );
                return Ok(phones);
            }
        }
    }

    /// ShowCloudPhoneDetail: one phone with its properties.
    pub async fn show_phone(&self, phone_id: &PhoneId) -> Result<PhoneDetail, Error> {
        self.show_phone_within(phone_id, &WaitOptions::new()).await
    }

    /// ShowCloudPhoneDetail bounded by the deadline and cancellation of `options` (retries
    /// included): [`Error::Timeout`] or [`Error::Cancelled`] when they end it first.
    pub async fn show_phone_within(
        &self,
        phone_id: &PhoneId,
        options: &WaitOptions,
    ) -> Result<PhoneDetail, Error> {
        self.show_phone_in(phone_id, &self.control(options)).await
    }

    pub(crate) async fn show_phone_in(
        &self,
        phone_id: &PhoneId,
        ctl: &Control<'_>,
    ) -> Result<PhoneDetail, Error> {
        let call = Call {
            operation: "ShowCloudPhoneDetail",
            method: Method::Get,
            suffix: format!("phones/{phone_id}"),
            query: Vec::new(),
            body: Vec::new(),
        };
        self.execute(&call, ctl).await.map_err(|f| f.error)
    }

    /// BatchShowPhoneConnectInfos for any number of phones: one request per
    /// [`cph_types::CONNECTION_MAX_PHONES`] phones, in order, all bounded by the deadline and cancellation of
    /// `options`, each retried as a read is (asking again only issues new tickets); the answers
    /// merged (`request_id` that of the first). The tickets and session ids stay [`Secret`]s: no
    /// log line or error holds them.
    ///
    /// [`Secret`]: cph_types::Secret
    pub async fn connect_infos_within(
        &self,
        phone_ids: &[PhoneId],
        client_type: ClientType,
        options: &WaitOptions,
    ) -> Result<ConnectionResponse, Error> {
        let ctl = self.control(options);
        let mut merged = ConnectionResponse::default();
        for request in ConnectionRequest::chunks(phone_ids, client_type) {
            let body = serde_json::to_vec(&request)
                .map_err(|e| Error::invalid("connection request", e.to_string()))?;
            let call = Call {
                operation: "BatchShowPhoneConnectInfos",
                method: Method::PostQuery,
                suffix: CONNECTION_PATH_SUFFIX.to_owned(),
                query: Vec::new(),
                body,
            };
            let answer: ConnectionResponse =
                self.execute(&call, &ctl).await.map_err(|f| f.error)?;
            if merged.request_id.is_none() {
                merged.request_id = answer.request_id;
            }
            merged.connect_infos.extend(answer.connect_infos);
            merged.errors.extend(answer.errors);
        }
        tracing::debug!(
            phones = phone_ids.len(),
            connected = merged.connect_infos.len(),
            refused = merged.errors.len(),
            "read connection information"
        );
        Ok(merged)
    }

    /// Sends one batch request as it is (no chunking), retried only when the service certainly
    /// did not act. Most callers want [`Client::submit`] or [`Client::run_batch`].
    pub async fn send_batch<R: BatchRequest>(&self, request: &R) -> Result<BatchResponse, Error> {
        self.send_batch_in(request, &Control::unbounded(self.timer()))
            .await
            .map_err(|f| f.error)
    }

    pub(crate) async fn send_batch_in<R: BatchRequest>(
        &self,
        request: &R,
        ctl: &Control<'_>,
    ) -> Result<BatchResponse, Failure> {
        let body = serde_json::to_vec(request).map_err(|e| Failure {
            error: Error::invalid("batch request", e.to_string()),
            may_have_acted: false,
        })?;
        let call = Call {
            operation: R::OPERATION.api_name(),
            method: Method::Post,
            suffix: R::OPERATION.path_suffix().to_owned(),
            query: Vec::new(),
            body,
        };
        self.execute(&call, ctl).await
    }

    fn wire_request(&self, call: &Call) -> Result<WireRequest, Error> {
        let inner = &self.inner;
        let mut url = inner.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!(
            "{prefix}{}",
            cloud_phone_path(&inner.project_id, &call.suffix)
        ));
        if call.query.is_empty() {
            url.set_query(None);
        } else {
            url.set_query(Some(&canonical_query(&call.query)));
        }
        let mut headers: Vec<(&'static str, String)> = vec![
            ("Content-Type", "application/json".to_owned()),
            ("X-Project-Id", inner.project_id.to_string()),
        ];
        let plain: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let added = auth_headers(
            call.method.as_str(),
            &url,
            &plain,
            &call.body,
            &inner.credentials,
            inner.timer.system_time(),
        )?;
        headers.extend(added);
        Ok(WireRequest {
            method: call.method,
            url,
            headers: Headers(headers),
            body: call.body.clone(),
            timeout: inner.settings.request_timeout,
        })
    }

    /// Sends `call`, retrying as the policy allows, and decodes the 2xx answer.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        call: &Call,
        ctl: &Control<'_>,
    ) -> Result<T, Failure> {
        let policy = self.inner.settings.retry;
        let idempotent = call.method.is_idempotent();
        let mut retry: u32 = 0;
        let started = ctl.timer().now();
        loop {
            // Every attempt waits its turn in the client-wide flow control (nothing is sent yet).
            self.inner
                .flow
                .admit(ctl)
                .await
                .map_err(|interrupt| Failure {
                    error: ctl.error(interrupt, call.operation),
                    may_have_acted: false,
                })?;
            let request = self.wire_request(call).map_err(|error| Failure {
                error,
                may_have_acted: false,
            })?;
            tracing::debug!(operation = call.operation, attempt = retry + 1, "sending");
            let sent = ctl
                .run(self.inner.transport.send(request))
                .await
                .map_err(|interrupt| Failure {
                    error: ctl.error(interrupt, call.operation),
                    // An interrupted request may have reached the service.
                    may_have_acted: true,
                })?;
            let (error, retry_after) = match sent {
                Ok(response) if (200..300).contains(&response.status) => {
                    if let Some(reach) = ctl.reach() {
                        reach.record(ctl.timer().now(), None);
                    }
                    return decode(call.operation, &response).map_err(|error| Failure {
                        error,
                        may_have_acted: true,
                    });
                }
                Ok(response) => {
                    let retry_after = response.retry_after.as_deref().and_then(parse_retry_after);
                    (api_error(call.operation, &response), retry_after)
                }
                Err(wire) => (
                    Error::Transport {
                        operation: call.operation,
                        kind: wire.kind,
                        message: wire.message,
                        endpoint: self.endpoint_name(),
                        attempts: retry + 1,
                        elapsed: ctl.timer().now().saturating_duration_since(started),
                    },
                    None,
                ),
            };
            if let Some(reach) = ctl.reach() {
                reach.record(ctl.timer().now(), Some(&error));
            }
            let class = classify(&error);
            if class == FailureClass::Throttled {
                // The service throttles the account, not this call: every caller holds back.
                self.inner
                    .flow
                    .pause(retry_after.unwrap_or_else(|| policy.delay(retry, None, 0.5)));
            }
            if retry >= policy.max_retries || !policy.allows(idempotent, class) {
                return Err(Failure {
                    error,
                    may_have_acted: !class.service_did_not_act(),
                });
            }
            let delay = policy.delay(retry, retry_after, ctl.timer().random_fraction());
            tracing::warn!(
                operation = call.operation,
                error = %error,
                retry = retry + 1,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying"
            );
            ctl.sleep(delay).await.map_err(|interrupt| Failure {
                error: ctl.error(interrupt, call.operation),
                may_have_acted: false,
            })?;
            retry += 1;
        }
    }
}

fn decode<T: DeserializeOwned>(
    operation: &'static str,
    response: &WireResponse,
) -> Result<T, Error> {
    let body: &[u8] = if response.body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &response.body
    };
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        operation,
        status: response.status,
        message: e.to_string(),
    })
}

fn api_error(operation: &'static str, response: &WireResponse) -> Error {
    let (code, message, body_request_id) = match serde_json::from_slice::<ErrorBody>(&response.body)
    {
        Ok(body) => (body.error_code, body.error_msg, body.request_id),
        Err(_) => {
            // Not a CPH error body (a proxy's HTML page, say): keep a short excerpt of it.
            let text = String::from_utf8_lossy(&response.body);
            let excerpt: String = text.trim().chars().take(200).collect();
            (None, (!excerpt.is_empty()).then_some(excerpt), None)
        }
    };
    Error::Api {
        operation,
        status: response.status,
        code,
        message,
        request_id: response.request_id.clone().or(body_request_id),
    }
}
