//! Deadline, cancellation and the watch on the endpoint for one operation: every request and
//! sleep of a submit, a wait or a read runs through [`Control`], so any of them ends it promptly.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::reach::{Failing, Reachability};
use crate::timer::Timer;

/// Why an operation was cut short.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Interrupt {
    Cancelled,
    Deadline,
    /// Every attempt failed for longer than the bound: the endpoint stopped answering.
    Unreachable(Box<Failing>),
}

/// The deadline, cancellation token and endpoint watch an operation honours.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Control<'a> {
    timer: &'a dyn Timer,
    deadline: Option<Instant>,
    cancel: Option<&'a CancellationToken>,
    started: Instant,
    reach: Option<&'a Reachability>,
    log: Option<&'a dyn crate::options::SubmissionLog>,
}

impl<'a> Control<'a> {
    pub(crate) fn new(
        timer: &'a dyn Timer,
        deadline: Option<Instant>,
        cancel: Option<&'a CancellationToken>,
    ) -> Self {
        Control {
            timer,
            deadline,
            cancel,
            started: timer.now(),
            reach: None,
            log: None,
        }
    }

    /// The same, telling `log` of each batch request sent under it.
    pub(crate) fn logging(mut self, log: Option<&'a dyn crate::options::SubmissionLog>) -> Self {
        self.log = log;
        self
    }

    /// The log of batch requests, when the operation keeps one.
    pub(crate) fn log(&self) -> Option<&'a dyn crate::options::SubmissionLog> {
        self.log
    }

    /// The same, giving up once every attempt has failed for the bound of `reach` (each
    /// attempt's outcome is recorded in it).
    pub(crate) fn watching(mut self, reach: &'a Reachability) -> Self {
        self.reach = Some(reach);
        self
    }

    /// The watch on the endpoint, when the operation keeps one.
    pub(crate) fn reach(&self) -> Option<&'a Reachability> {
        self.reach
    }

    /// No deadline, no cancellation.
    pub(crate) fn unbounded(timer: &'a dyn Timer) -> Self {
        Control::new(timer, None, None)
    }

    pub(crate) fn timer(&self) -> &'a dyn Timer {
        self.timer
    }

    /// Whether the operation must stop now.
    pub(crate) fn check(&self) -> Result<(), Interrupt> {
        if self.cancel.is_some_and(CancellationToken::is_cancelled) {
            return Err(Interrupt::Cancelled);
        }
        let now = self.timer.now();
        if self.deadline.is_some_and(|d| now >= d) {
            return Err(Interrupt::Deadline);
        }
        if let Some(failing) = self.reach.and_then(|r| r.given_up(now)) {
            return Err(Interrupt::Unreachable(Box::new(failing)));
        }
        Ok(())
    }

    /// Runs `fut` unless cancellation or the deadline comes first.
    pub(crate) async fn run<F: Future>(&self, fut: F) -> Result<F::Output, Interrupt> {
        self.check()?;
        let cancelled = async {
            match self.cancel {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let deadline = async {
            match self.deadline {
                Some(d) => {
                    self.timer
                        .sleep(d.saturating_duration_since(self.timer.now()))
                        .await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = cancelled => Err(Interrupt::Cancelled),
            out = fut => Ok(out),
            () = deadline => Err(Interrupt::Deadline),
        }
    }

    /// Sleeps `duration` unless cancellation or the deadline comes first, or the watch on the
    /// endpoint gives up first (a sleep is cut at that moment; an attempt in flight never is).
    pub(crate) async fn sleep(&self, duration: Duration) -> Result<(), Interrupt> {
        let duration = match self.reach.and_then(Reachability::gives_up_at) {
            Some(at) => duration.min(at.saturating_duration_since(self.timer.now())),
            None => duration,
        };
        self.run(self.timer.sleep(duration)).await?;
        self.check()
    }

    /// The error that reports `interrupt` for `operation`.
    pub(crate) fn error(&self, interrupt: Interrupt, operation: &'static str) -> Error {
        match interrupt {
            Interrupt::Cancelled => Error::Cancelled { operation },
            Interrupt::Deadline => Error::Timeout {
                operation,
                elapsed: self.timer.now().saturating_duration_since(self.started),
            },
            Interrupt::Unreachable(failing) => Error::Unreachable(failing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timer::{ManualTimer, TokioTimer};

    #[tokio::test]
    async fn a_cancelled_token_stops_before_running() {
        let timer = ManualTimer::new();
        let token = CancellationToken::new();
        token.cancel();
        let ctl = Control::new(&timer, None, Some(&token));
        assert_eq!(ctl.run(async { 1 }).await, Err(Interrupt::Cancelled));
        assert!(matches!(
            ctl.error(Interrupt::Cancelled, "wait"),
            Error::Cancelled { operation: "wait" }
        ));
    }

    #[tokio::test]
    async fn sleeping_past_the_deadline_is_interrupted() {
        let timer = ManualTimer::new();
        let ctl = Control::new(&timer, Some(timer.now() + Duration::from_secs(10)), None);
        assert_eq!(ctl.sleep(Duration::from_secs(5)).await, Ok(()));
        assert_eq!(
            ctl.sleep(Duration::from_secs(6)).await,
            Err(Interrupt::Deadline)
        );
        assert_eq!(ctl.run(async {}).await, Err(Interrupt::Deadline));
    }

    #[tokio::test]
    async fn a_sleep_is_cut_where_the_watch_gives_up_on_the_endpoint() {
        let timer = ManualTimer::new();
        let reach = Reachability::new("http://127.0.0.1:9", Duration::from_secs(60));
        let ctl = Control::unbounded(&timer).watching(&reach);
        assert_eq!(ctl.sleep(Duration::from_secs(50)).await, Ok(()));
        let refused = Error::Transport {
            operation: "ListJobs",
            kind: crate::error::TransportKind::Connect,
            message: "refused".into(),
            endpoint: "http://127.0.0.1:9".into(),
            attempts: 1,
            elapsed: Duration::ZERO,
        };
        reach.record(timer.now(), Some(&refused));
        assert_eq!(ctl.sleep(Duration::from_secs(30)).await, Ok(()));
        let Err(Interrupt::Unreachable(failing)) = ctl.sleep(Duration::from_secs(45)).await else {
            panic!("the watch should have given up");
        };
        assert_eq!(failing.failing_for, Duration::from_secs(60));
        assert_eq!(
            timer.sleeps()[2],
            Duration::from_secs(30),
            "cut at the bound"
        );
        assert!(matches!(
            ctl.error(Interrupt::Unreachable(failing), "wait"),
            Error::Unreachable(_)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_interrupts_a_pending_future() {
        let timer = TokioTimer;
        let token = CancellationToken::new();
        let ctl = Control::new(&timer, None, Some(&token));
        let canceller = token.clone();
        let (out, ()) = tokio::join!(ctl.run(std::future::pending::<()>()), async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            canceller.cancel();
        });
        assert_eq!(out, Err(Interrupt::Cancelled));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_interrupts_a_pending_future() {
        let timer = TokioTimer;
        let ctl = Control::new(&timer, Some(timer.now() + Duration::from_secs(2)), None);
        let out = ctl.run(std::future::pending::<()>()).await;
        assert_eq!(out, Err(Interrupt::Deadline));
        assert!(
            matches!(ctl.error(Interrupt::Deadline, "wait"), Error::Timeout { elapsed, .. } if elapsed >= Duration::from_secs(2))
        );
    }
}
