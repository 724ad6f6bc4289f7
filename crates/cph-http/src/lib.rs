//! The async client of the Huawei Cloud CPH (Cloud Phone Host) API: endpoint and credentials,
//! `SDK-HMAC-SHA256` signing (or an IAM token), retries that never re-send a batch the service
//! may have acted on, chunked batch submission and the bulk job waiter.
//!
//! Main types:
//! - [`Client`], built by [`Client::builder`]`(`[`Endpoint`]`, ProjectId, `[`Credentials`]`)`
//!   and tuned with [`ClientBuilder`] ([`Settings`], [`RetryPolicy`]).
//! - Batch work: [`Client::submit`] gives a [`Submission`] (one [`SubmitResult`] per phone);
//!   [`Client::wait`] gives a [`WaitReport`] (one [`PhoneOutcome`] per phone and a [`WaitEnd`]);
//!   [`Client::run_batch`] rolls a request out in windows ([`Rollout`]: at most `max_in_flight`
//!   phones with an unfinished job, a failure budget) and waits on it together with what an earlier
//!   run left ([`Earlier`]: [`RunningJob`]s, phones found acting); [`Client::submit_and_wait`] (and `reset`, `restart`, `stop`,
//!   `update_property`, `restore`, `export_data`) run one request all at once. [`WaitOptions`]
//!   carries deadline, cancellation, the rollout and [`Progress`].
//! - Ambiguous failures: a batch request that may have been performed is never re-sent; its
//!   phones are reconciled by reading the service ([`Client::reconcile`] gives a
//!   [`Reconciliation`] per [`UnsurePhone`]: a job of the request, the phone acting, or no sign).
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
mod error;
mod flow;
mod paging;
mod reconcile;
mod retry;
mod secret;
mod signer;
mod submit;
mod timer;
mod transport;
mod wait;

#[cfg(test)]
mod tests;

pub use client::{Client, ClientBuilder, DEFAULT_USER_AGENT, Endpoint, PhoneFilter, Settings};
pub use error::{Error, TransportKind};
pub use paging::{DEFAULT_MAX_PAGES, PageFacts, Pager, PagingError, PagingProblem, Step};
pub use reconcile::{Reconciliation, UnsurePhone};
pub use retry::RetryPolicy;
pub use secret::{Credentials, Secret};
pub use signer::{ALGORITHM, Headers, SENSITIVE_HEADERS, Signature, auth_headers, sdk_date, sign};
pub use submit::{Submission, SubmitResult, SubmittedPhone};
pub use timer::{ManualTimer, Sleep, Timer, TokioTimer};
pub use wait::{
    Earlier, PhoneOutcome, PhoneState, Progress, ProgressFn, Rollout, RunningJob, WaitEnd,
    WaitOptions, WaitReport,
};
