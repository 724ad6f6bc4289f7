//! The async client of the Huawei Cloud CPH (Cloud Phone Host) API: endpoint and credentials,
//! `SDK-HMAC-SHA256` signing (or an IAM token), retries that never re-send a batch the service
//! may have acted on, chunked batch submission and the bulk job waiter.
//!
//! Main types:
//! - [`Client`], built by [`Client::builder`]`(`[`Endpoint`]`, ProjectId, `[`Credentials`]`)`
//!   and tuned with [`ClientBuilder`] ([`Settings`], [`RetryPolicy`]).
//! - Batch work: [`Client::run_batch`] rolls a request out in windows ([`Rollout`]: at most
//!   `max_in_flight` phones with an unfinished job, a failure budget) and waits on it together
//!   with what an earlier run left ([`Earlier`]: [`RunningJob`]s, phones found acting, and
//!   [`UnsurePhone`]s whose last submission's outcome is unknown); it gives a [`WaitReport`] (one
//!   [`PhoneOutcome`] per phone, a [`WaitEnd`], what reading unsure phones found:
//!   [`Reconciled`]). [`Client::submit_and_wait`] (and `reset`, `restart`, `stop`,
//!   `update_property`, `restore`, `export_data`) run one request all at once;
//!   [`Client::submit`] gives a [`Submission`] (one [`SubmitResult`] per phone) and
//!   [`Client::wait`] waits on one; [`Client::poll_once`] is one polling round (a refresh).
//!   [`WaitOptions`] carries deadline, cancellation, the rollout and [`Progress`].
//! - Ambiguous failures: a batch request that may have been performed is never re-sent blindly;
//!   its phones are reconciled by reading the service ([`Client::reconcile`] gives a
//!   [`Reconciliation`] per [`UnsurePhone`]: a job of the request, the phone acting, no sign, or
//!   a service that could not be read). [`Client::run_batch`] does this itself, both for chunks
//!   that fail in the run and for the phones of [`Earlier::unsure`] before it sends them again.
//! - Flow control: every request of a client and its clones waits its turn in one token bucket
//!   ([`ClientBuilder::max_requests_per_second`]), and a 429's `Retry-After` holds every caller.
//! - Reads: [`Client::list_phones`] ([`PhoneFilter`]), [`Client::show_phone`],
//!   [`Client::show_job`], [`Client::list_jobs`]. Listings are paged by a [`Pager`], a pure state
//!   machine that stops with an error ([`Error::Paging`], [`Error::Decode`]) rather than return a
//!   list with phones lost or repeated.
//! - Signing as a pure function: [`sign`] / [`auth_headers`] -> [`Signature`].
//! - Time: [`Timer`] ([`TokioTimer`] in production, [`ManualTimer`] in tests).
//! - Errors: [`Error`]; secrets: [`Secret`] (its `Debug` prints `***`).
//!
//! # Two bounds on failing calls
//! - `max_retries` ([`ClientBuilder::max_retries`], default 5) bounds the retries of **one call**:
//!   a GET is retried on every transient failure (no answer, 429, 5xx), a POST only when the
//!   service certainly did not act (429, 503, a refused connection), each after an exponential,
//!   jittered backoff that honours `Retry-After`. When they are spent the call fails; a polling
//!   round then tries again at the next round, so this alone never ends a wait.
//! - `unreachable_after` ([`ClientBuilder::give_up_after`], default 3 minutes) bounds **a whole
//!   run** against an endpoint that stopped answering: when every attempt of a run (submits,
//!   polls, reads) has failed for that long with no answer between them, the run ends with
//!   [`WaitEnd::Unreachable`], naming the endpoint, the last error and how long calls have failed
//!   ([`Failing`]). An attempt fails here when it gets no HTTP answer (connection refused or
//!   reset, a timeout) or a server error (5xx); any other answer, a 4xx or a 429 included (the
//!   service is there and asks to slow down), resets the clock. Phones whose jobs were submitted
//!   stay [`PhoneState::Running`] (or [`PhoneState::SubmitUnknown`]), never failed or successful,
//!   so a later run resumes them. A run that ends at its deadline while its calls were failing
//!   says so in [`WaitReport::failing`].
//!
//! ```no_run
//! use cph_http::{Client, Credentials, Endpoint, WaitOptions};
//! use cph_types::{PhoneId, ProjectId, RestartPhone, RestartRequest};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder(
//!     Endpoint::region("cn-north-4"),
//!     ProjectId::new("0123456789abcdef0123456789abcdef")?,
//!     Credentials::ak_sk("MY_ACCESS_KEY", "my-secret-key"),
//! )
//! .build()?;
//! let request = RestartRequest::new([RestartPhone {
//!     phone_id: PhoneId::new("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d")?,
//!     property: None,
//! }]);
//! let report = client.restart(&request, &WaitOptions::new()).await?;
//! for outcome in &report.outcomes {
//!     println!("{} {} {:?}", outcome.phone_id, outcome.state, outcome.job_id);
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod client;
mod control;
mod earlier;
mod endpoint;
mod error;
mod flow;
mod options;
mod outcome;
mod paging;
mod reach;
mod reconcile;
mod retry;
mod run;
mod secret;
mod signer;
mod submit;
mod timer;
mod transport;
mod waiter;

#[cfg(test)]
mod fake;

pub use client::{
    Client, ClientBuilder, DEFAULT_UNREACHABLE_AFTER, DEFAULT_USER_AGENT, PhoneFilter, Settings,
};
pub use earlier::{Earlier, RunningJob, UnsurePhone};
pub use endpoint::Endpoint;
pub use error::{Error, TransportKind};
pub use options::{LoggedRequest, ProgressFn, Rollout, SubmissionLog, WaitOptions};
pub use outcome::{PhoneOutcome, PhoneState, Progress, Reconciled, WaitEnd, WaitReport};
pub use paging::{DEFAULT_MAX_PAGES, PageFacts, Pager, PagingError, PagingProblem, Step};
pub use reach::Failing;
pub use reconcile::Reconciliation;
pub use retry::RetryPolicy;
pub use secret::{Credentials, Secret};
pub use signer::{ALGORITHM, Headers, SENSITIVE_HEADERS, Signature, auth_headers, sdk_date, sign};
pub use submit::{Submission, SubmitResult, SubmittedPhone};
pub use timer::{ManualTimer, Sleep, Timer, TokioTimer};
