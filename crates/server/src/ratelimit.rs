//! Per-principal request budgets: `governor`'s keyed GCRA limiter (a token
//! bucket of `burst` requests refilled at `per_minute`), in memory and per
//! node — with several nodes each enforces the budget on its own share of
//! the traffic. It reads the application's clock, so a test's manual clock
//! moves the budget too.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::Quota;
use isx_domain::Clock;

use crate::RateLimit;

/// Keys kept before idle ones are forgotten (an idle key is one whose
/// bucket has refilled: forgetting it changes nothing).
const MAX_KEYS: usize = 100_000;

/// The application's clock as `governor` reads it: nanoseconds since the
/// Unix epoch.
#[derive(Clone)]
struct AppClock(Arc<dyn Clock>);

impl GovernorClock for AppClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let micros = u64::try_from(self.0.now().as_micros()).unwrap_or(0);
        Nanos::from(Duration::from_micros(micros))
    }
}

pub struct RateLimiter {
    limiter: governor::RateLimiter<
        String,
        DefaultKeyedStateStore<String>,
        AppClock,
        NoOpMiddleware<Nanos>,
    >,
    clock: AppClock,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("keys", &self.limiter.len())
            .finish()
    }
}

impl RateLimiter {
    pub fn new(limit: RateLimit, clock: Arc<dyn Clock>) -> Self {
        let per_minute = NonZeroU32::new(limit.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let clock = AppClock(clock);
        RateLimiter {
            limiter: governor::RateLimiter::dashmap_with_clock(quota, clock.clone()),
            clock,
        }
    }

    /// Takes one request from `key`'s budget; `Err(seconds)` says how long
    /// to wait when it is spent.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.limiter.len() > MAX_KEYS {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                wait.as_secs_f64().ceil().max(1.0) as u64
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use isx_domain::{ManualClock, Timestamp};

    #[test]
    fn burst_then_refill() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_micros(1_000_000_000)));
        let rl = RateLimiter::new(
            RateLimit {
                per_minute: 60,
                burst: 3,
            },
            clock.clone(),
        );
        for _ in 0..3 {
            assert!(rl.check("k").is_ok());
        }
        assert_eq!(rl.check("k"), Err(1));
        assert!(rl.check("other").is_ok(), "budgets are per key");
        clock.advance_secs(1);
        assert!(rl.check("k").is_ok(), "one request back after a second");
        assert!(rl.check("k").is_err());
    }

    #[test]
    fn idle_keys_are_forgotten_past_the_cap() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_micros(1_000_000_000)));
        let rl = RateLimiter::new(
            RateLimit {
                per_minute: 60,
                burst: 1,
            },
            clock.clone(),
        );
        for i in 0..=MAX_KEYS {
            let _ = rl.check(&format!("k{i}"));
        }
        clock.advance_secs(120);
        let _ = rl.check("one more");
        assert!(rl.limiter.len() < 10, "refilled buckets are dropped");
    }
}
