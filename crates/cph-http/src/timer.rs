//! The injected clock, sleep and jitter: [`Timer`] is what retries, polling and deadlines use for
//! time and randomness. [`TokioTimer`] is the production one; [`ManualTimer`] advances a virtual
//! clock instantly so retry and polling tests run in milliseconds.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// A boxed, sendable future of `()`, as [`Timer::sleep`] returns.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Time and randomness, injected into the client.
pub trait Timer: Send + Sync + fmt::Debug {
    /// The monotonic now deadlines are measured against.
    fn now(&self) -> Instant;
    /// The wall clock that dates signatures (`X-Sdk-Date`).
    fn system_time(&self) -> SystemTime;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
    /// A uniformly distributed number in `[0, 1)`, for jitter.
    fn random_fraction(&self) -> f64;
}

/// Real time: `tokio::time` (so a paused tokio clock pauses it too) and a thread-local RNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn system_time(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }

    fn random_fraction(&self) -> f64 {
        rand::random::<f64>()
    }
}

/// A virtual clock for tests: `sleep` advances it at once and records the duration;
/// `random_fraction` returns a fixed value (default 0.5).
#[derive(Debug)]
pub struct ManualTimer {
    start: Instant,
    wall_start: SystemTime,
    state: Mutex<ManualState>,
}

#[derive(Debug, Default)]
struct ManualState {
    elapsed: Duration,
    sleeps: Vec<Duration>,
    fraction: f64,
}

impl ManualTimer {
    /// A clock at the current instant and wall time.
    pub fn new() -> Self {
        ManualTimer {
            start: Instant::now(),
            wall_start: SystemTime::now(),
            state: Mutex::new(ManualState {
                fraction: 0.5,
                ..ManualState::default()
            }),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut ManualState) -> R) -> R {
        let mut guard = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Moves the clock forward without a sleep being recorded.
    pub fn advance(&self, by: Duration) {
        self.with(|s| s.elapsed += by);
    }

    /// Sets what [`Timer::random_fraction`] returns (clamped to `[0, 1)`).
    pub fn set_fraction(&self, fraction: f64) {
        self.with(|s| s.fraction = fraction.clamp(0.0, 0.999_999));
    }

    /// Virtual time elapsed since creation.
    pub fn elapsed(&self) -> Duration {
        self.with(|s| s.elapsed)
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.with(|s| s.sleeps.clone())
    }
}

impl Default for ManualTimer {
    fn default() -> Self {
        ManualTimer::new()
    }
}

impl Timer for ManualTimer {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn system_time(&self) -> SystemTime {
        self.wall_start + self.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.with(|s| {
            s.elapsed += duration;
            s.sleeps.push(duration);
        });
        Box::pin(std::future::ready(()))
    }

    fn random_fraction(&self) -> f64 {
        self.with(|s| s.fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_sleep_advances_the_clock_instantly() {
        let timer = ManualTimer::new();
        let before = timer.now();
        let wall = timer.system_time();
        timer.sleep(Duration::from_secs(30)).await;
        timer.advance(Duration::from_secs(5));
        assert_eq!(timer.now() - before, Duration::from_secs(35));
        assert_eq!(
            timer.system_time().duration_since(wall).ok(),
            Some(Duration::from_secs(35))
        );
        assert_eq!(timer.sleeps(), [Duration::from_secs(30)]);
        timer.set_fraction(2.0);
        assert!(timer.random_fraction() < 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_timer_follows_tokio_time() {
        let timer = TokioTimer;
        let before = timer.now();
        timer.sleep(Duration::from_secs(60)).await;
        assert!(timer.now() - before >= Duration::from_secs(60));
        let f = timer.random_fraction();
        assert!((0.0..1.0).contains(&f));
    }
}
