//! Flow control shared by every request of one client (so of one provider process, whatever
//! resource, read or poll makes it): a token bucket capping requests per second (GCRA, from
//! `governor`, driven by the client's injected clock), and a pause every caller honours once the
//! service has throttled one of them (429 with `Retry-After`).

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::control::{Control, Interrupt};
use crate::timer::Timer;

/// The client's timer as `governor` sees time: the time elapsed since the client was built.
#[derive(Clone)]
struct TimerClock {
    timer: Arc<dyn Timer>,
    origin: Instant,
}

impl Clock for TimerClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.timer.now().saturating_duration_since(self.origin)
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TimerClock, NoOpMiddleware<Duration>>;

/// The pacing of one client's requests.
pub(crate) struct FlowControl {
    limiter: Option<Limiter>,
    clock: TimerClock,
    paused_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for FlowControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowControl")
            .field("capped", &self.limiter.is_some())
            .field(
                "paused_until",
                &self.paused_until.lock().ok().and_then(|p| *p),
            )
            .finish()
    }
}

impl FlowControl {
    /// At most `per_second` requests a second, evenly spaced (no burst); `None`: no cap.
    pub(crate) fn new(timer: Arc<dyn Timer>, per_second: Option<NonZeroU32>) -> FlowControl {
        let clock = TimerClock {
            origin: timer.now(),
            timer,
        };
        let limiter = per_second.map(|rate| {
            let quota = Quota::per_second(rate).allow_burst(NonZeroU32::MIN);
            RateLimiter::direct_with_clock(quota, clock.clone())
        });
        FlowControl {
            limiter,
            clock,
            paused_until: Mutex::new(None),
        }
    }

    /// Waits until a request may go: past any pause, then for a token. Ends early when the
    /// operation is cancelled or out of time.
    pub(crate) async fn admit(&self, ctl: &Control<'_>) -> Result<(), Interrupt> {
        loop {
            let paused = self
                .paused_until
                .lock()
                .ok()
                .and_then(|until| *until)
                .map(|until| until.saturating_duration_since(self.clock.timer.now()))
                .filter(|left| !left.is_zero());
            if let Some(left) = paused {
                ctl.sleep(left).await?;
                continue;
            }
            let Some(limiter) = &self.limiter else {
                return ctl.check();
            };
            match limiter.check() {
                Ok(()) => return ctl.check(),
                Err(not_until) => {
                    ctl.sleep(not_until.wait_time_from(self.clock.now()))
                        .await?
                }
            }
        }
    }

    /// Holds every caller back for `duration` from now (the service throttled one of them).
    pub(crate) fn pause(&self, duration: Duration) {
        let until = self.clock.timer.now() + duration;
        if let Ok(mut paused) = self.paused_until.lock() {
            if paused.is_none_or(|current| current < until) {
                *paused = Some(until);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::timer::ManualTimer;

    fn flow(per_second: Option<u32>) -> (FlowControl, Arc<ManualTimer>) {
        let timer = Arc::new(ManualTimer::new());
        let flow = FlowControl::new(timer.clone(), per_second.and_then(NonZeroU32::new));
        (flow, timer)
    }

    #[tokio::test]
    async fn a_cap_spaces_requests_evenly_on_the_clients_clock() {
        let (flow, timer) = flow(Some(4));
        let ctl = Control::unbounded(timer.as_ref());
        for _ in 0..5 {
            flow.admit(&ctl).await.unwrap();
        }
        // The first goes at once; each next one a quarter second later.
        assert_eq!(timer.elapsed(), Duration::from_secs(1));
        assert!(
            timer
                .sleeps()
                .iter()
                .all(|s| *s == Duration::from_millis(250)),
            "{:?}",
            timer.sleeps()
        );
    }

    #[tokio::test]
    async fn no_cap_admits_at_once_and_a_pause_holds_every_caller() {
        let (flow, timer) = flow(None);
        let ctl = Control::unbounded(timer.as_ref());
        flow.admit(&ctl).await.unwrap();
        assert!(timer.sleeps().is_empty());
        flow.pause(Duration::from_secs(3));
        flow.pause(Duration::from_secs(1));
        flow.admit(&ctl).await.unwrap();
        assert_eq!(
            timer.sleeps(),
            [Duration::from_secs(3)],
            "the longer pause wins"
        );
        flow.admit(&ctl).await.unwrap();
        assert_eq!(timer.sleeps().len(), 1, "a pause that is over holds nobody");
    }

    #[tokio::test]
    async fn waiting_for_a_token_ends_with_the_operation() {
        let (flow, timer) = flow(Some(1));
        let cancel = tokio_util::sync::CancellationToken::new();
        let ctl = Control::new(timer.as_ref(), None, Some(&cancel));
        flow.admit(&ctl).await.unwrap();
        cancel.cancel();
        assert_eq!(flow.admit(&ctl).await, Err(Interrupt::Cancelled));
        let deadline = Control::new(timer.as_ref(), Some(timer.now()), None);
        flow.pause(Duration::from_secs(5));
        assert_eq!(flow.admit(&deadline).await, Err(Interrupt::Deadline));
    }
}
