//! Deadline and cancellation for one operation: every request and sleep of a submit or a wait
//! runs through [`Control`], so either ends it promptly.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::timer::Timer;

/// Why an operation was cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interrupt {
    Cancelled,
    Deadline,
}

/// The deadline and cancellation token an operation honours.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Control<'a> {
    timer: &'a dyn Timer,
    deadline: Option<Instant>,
    cancel: Option<&'a CancellationToken>,
    started: Instant,
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
        }
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
        if self.deadline.is_some_and(|d| self.timer.now() >= d) {
            return Err(Interrupt::Deadline);
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

    /// Sleeps `duration` unless cancellation or the deadline comes first.
    pub(crate) async fn sleep(&self, duration: Duration) -> Result<(), Interrupt> {
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
