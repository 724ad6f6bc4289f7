//! A running simulator: binds the listener, serves the route table on a background task, and
//! offers the in-process controls tests use (faults, stats, phones, job truth, tickets, shutdown).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cph_types::{JobStatus, PhoneDetail};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::Credentials;
use crate::backend::Backend;
use crate::config::{Faults, SimConfig};
use crate::conn::{Connection, SimListener};
use crate::routes::{AppState, router};
use crate::stats::Stats;

/// How long [`Simulator::shutdown`] lets in-flight requests finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running simulator; dropping it or calling [`Simulator::shutdown`] stops the server.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    project_id: String,
    backend: Arc<Backend>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Simulator {
    /// Binds `config.listen` and starts serving. Fails when the address cannot be bound or the
    /// configured faults are out of range.
    pub async fn start(config: SimConfig) -> io::Result<Simulator> {
        config
            .faults
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let backend = Arc::new(Backend::new(&config, SystemTime::now()));
        let app = router(AppState {
            backend: Arc::clone(&backend),
            credentials: Arc::new(Credentials::from_config(&config)),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        // Served through `SimListener` so a handler can drop its connection without answering
        // (the acted-drop fault): each request carries its `Connection` as `ConnectInfo`.
        let make_service = app.into_make_service_with_connect_info::<Connection>();
        let task = tokio::spawn(async move {
            axum::serve(SimListener(listener), make_service)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Simulator {
            addr,
            project_id: config.project_id,
            backend,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, with a wildcard listen address shown as loopback.
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The project id served.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// Every phone id, in fixture order.
    pub fn phone_ids(&self) -> Vec<String> {
        self.backend.phone_ids()
    }

    /// Replaces the faults in force (as `PUT /_sim/faults`). Out-of-range rates (the acted ones
    /// included) are clamped to `0..=1`, NaN becomes 0, and an invalid server error status
    /// becomes 503.
    pub fn set_faults(&self, faults: Faults) {
        let clamp = |rate: f64| {
            if rate.is_nan() {
                0.0
            } else {
                rate.clamp(0.0, 1.0)
            }
        };
        let status = faults.server_error_status;
        let faults = Faults {
            job_failure_rate: clamp(faults.job_failure_rate),
            throttle_rate: clamp(faults.throttle_rate),
            server_error_rate: clamp(faults.server_error_rate),
            acted_error_rate: clamp(faults.acted_error_rate),
            acted_drop_rate: clamp(faults.acted_drop_rate),
            server_error_status: if (500..=599).contains(&status) {
                status
            } else {
                0
            },
            ..faults
        };
        if let Err(error) = self.backend.set_faults(faults) {
            tracing::warn!(%error, "fault setting refused");
        }
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.backend.faults()
    }

    /// The counters, as `GET /_sim/stats` answers them.
    pub fn stats(&self) -> Stats {
        self.backend.stats()
    }

    /// Zeroes the counters.
    pub fn reset_stats(&self) {
        self.backend.reset_stats();
    }

    /// One phone as ShowCloudPhoneDetail would answer it (without a request id), except that
    /// `property` holds every property: the API's answer shows at most
    /// [`crate::DETAIL_PROPERTY_BYTES_MAX`] bytes of them.
    pub fn phone(&self, phone_id: &str) -> Option<PhoneDetail> {
        self.backend.phone(phone_id, SystemTime::now())
    }

    /// Changes one property out of band, as drift. `false` when the phone is unknown.
    pub fn set_phone_property(&self, phone_id: &str, key: &str, value: &str) -> bool {
        self.backend
            .set_phone_property(phone_id, key, value, SystemTime::now())
    }

    /// Deletes a phone: from then on the API answers for it as for an unknown phone (`CPS.0005`,
    /// 404 for its detail) and listings leave it out. `false` when the phone is unknown.
    pub fn delete_phone(&self, phone_id: &str) -> bool {
        self.backend.delete_phone(phone_id)
    }

    /// Makes the next job created on `phone_id` fail (status -1, the phone in its failure
    /// status), whatever the failure rate. `false` when the phone is unknown.
    pub fn fail_next_job(&self, phone_id: &str) -> bool {
        self.backend.fail_next_job(phone_id)
    }

    /// A job's current status: running until its duration has passed, then its final status;
    /// `None` for an unknown job or one forgotten after [`SimConfig::job_retention`].
    pub fn job_truth(&self, job_id: &str) -> Option<JobStatus> {
        self.backend.job_status(job_id, SystemTime::now())
    }

    /// The status a job ends (or ended) with, decided when it was submitted; `None` for an
    /// unknown job or one forgotten after [`SimConfig::job_retention`].
    pub fn job_outcome(&self, job_id: &str) -> Option<JobStatus> {
        self.backend.job_outcome(job_id, SystemTime::now())
    }

    /// Whether `ticket` is valid for `phone_id` now, whatever the session and the phone's status:
    /// BatchShowPhoneConnectInfos issued it for that phone less than
    /// [`cph_types::TICKET_LIFETIME`] ago. (`POST /_sim/connect` also refuses a phone that is no
    /// longer running.) Counts nothing.
    pub fn ticket_is_valid(&self, phone_id: &str, ticket: &str) -> bool {
        self.backend
            .ticket_is_valid(phone_id, ticket, SystemTime::now())
    }

    /// Every ticket and session id BatchShowPhoneConnectInfos issued (those issued within two
    /// ticket lifetimes): a test instrument, to check that none was written where it must not be.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.backend.issued_secrets()
    }

    /// Stops accepting connections, lets in-flight requests finish (at most 5 s), and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Simulator {
    /// Signals a graceful stop: the listener closes and every connection ends after its current
    /// request (aborting the serve task instead would leave open keep-alive connections served).
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
