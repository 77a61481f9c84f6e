//! Per-principal request budgets: `governor`'s keyed GCRA limiter (a token
//! bucket of `burst` requests refilled at `per_minute`), in memory and per
//! node — with several nodes each enforces the budget on its own share of
//! the traffic. It reads the application's clock, so a test's manual clock
//! moves the budget too.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, StateStore};
use governor::Quota;
use isx_domain::Clock;

use crate::RateLimit;

/// Keys kept at most. Past it idle keys are forgotten (an idle key is one
/// whose bucket has refilled: forgetting it changes nothing), and while the
/// table is still full of busy keys a new key is refused, so an attacker
/// with many addresses can neither grow the table without bound nor get a
/// fresh budget by forcing old ones out.
const MAX_KEYS: usize = 100_000;

/// Seconds between two sweeps of a full table: a sweep walks every key, so
/// it must not run on every request of a flood.
const SWEEP_EVERY_SECS: u64 = 10;

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

/// `governor`'s `DashMap` state store, shared so that [`RateLimiter`] can
/// ask whether a key is already known before letting a new one in.
#[derive(Clone, Default)]
struct SharedStore(Arc<DashMap<String, InMemoryState>>);

impl StateStore for SharedStore {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.0.as_ref().measure_and_replace(key, f)
    }
}

impl ShrinkableKeyedStateStore<String> for SharedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        self.0.as_ref().retain_recent(drop_below);
    }

    fn shrink_to_fit(&self) {
        self.0.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub struct RateLimiter {
    limiter: governor::RateLimiter<String, SharedStore, AppClock, NoOpMiddleware<Nanos>>,
    keys: SharedStore,
    clock: AppClock,
    max_keys: usize,
    /// When the last sweep ran, in the clock's seconds.
    last_sweep: AtomicU64,
    sweeps: AtomicU64,
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
        Self::with_capacity(limit, clock, MAX_KEYS)
    }

    fn with_capacity(limit: RateLimit, clock: Arc<dyn Clock>, max_keys: usize) -> Self {
        let per_minute = NonZeroU32::new(limit.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let clock = AppClock(clock);
        let keys = SharedStore::default();
        RateLimiter {
            limiter: governor::RateLimiter::new(quota, keys.clone(), clock.clone()),
            keys,
            clock,
            max_keys,
            last_sweep: AtomicU64::new(0),
            sweeps: AtomicU64::new(0),
        }
    }

    /// Takes one request from `key`'s budget; `Err(seconds)` says how long
    /// to wait when it is spent (or, for a new key while the table is full
    /// of busy ones, until the next sweep may make room).
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.keys.0.len() >= self.max_keys && !self.keys.0.contains_key(key) {
            self.sweep_if_due();
            if self.keys.0.len() >= self.max_keys {
                return Err(SWEEP_EVERY_SECS);
            }
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                wait.as_secs_f64().ceil().max(1.0) as u64
            })
    }

    /// Counts one failed authentication of `client` (a bad, expired or
    /// revoked key) against its own budget: `Err` (seconds to wait) once it
    /// is spent. Only failures are refused so: a valid key from the same
    /// address is served.
    pub fn failed(&self, client: &str) -> Result<(), u64> {
        self.check(&format!("authfail:{client}"))
    }

    /// Forgets refilled buckets, at most once per [`SWEEP_EVERY_SECS`]
    /// whatever the number of callers (the first to claim the slot sweeps).
    fn sweep_if_due(&self) {
        let now = self.clock.now().as_u64() / 1_000_000_000;
        let last = self.last_sweep.load(Ordering::Relaxed);
        if last != 0 && now < last.saturating_add(SWEEP_EVERY_SECS) {
            return;
        }
        if self
            .last_sweep
            .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            self.sweeps.fetch_add(1, Ordering::Relaxed);
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
    }

    #[cfg(test)]
    fn sweeps(&self) -> u64 {
        self.sweeps.load(Ordering::Relaxed)
    }
}

/// The limiter key for a client address: the address itself for IPv4, its
/// /64 for IPv6 — one subscriber usually holds a whole /64, so keying by
/// the full address would hand an attacker 2^64 fresh budgets.
pub fn client_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("ip:{v4}"),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let net = u128::from(v6) & !((1u128 << 64) - 1);
                format!("ip:{}/64", std::net::Ipv6Addr::from(net))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use isx_domain::{ManualClock, Timestamp};

    #[test]
    fn ipv6_clients_share_their_64() {
        let a = client_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = client_key("2001:db8:1:2:ffff:1:2:3".parse().unwrap());
        let c = client_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, "ip:2001:db8:1:2::/64");
        assert_ne!(a, c);
        assert_eq!(client_key("192.0.2.7".parse().unwrap()), "ip:192.0.2.7");
        assert_eq!(
            client_key("::ffff:192.0.2.7".parse().unwrap()),
            "ip:192.0.2.7"
        );
    }

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

    /// An attacker who keeps more than the cap of keys busy (many source
    /// addresses, a new login name each time) must not make every request
    /// walk every key, nor grow the table without bound.
    #[test]
    fn a_flood_of_busy_keys_is_swept_rarely_and_capped() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_micros(1_000_000_000)));
        let rl = RateLimiter::with_capacity(
            RateLimit {
                per_minute: 1,
                burst: 1,
            },
            clock.clone(),
            1_000,
        );
        for i in 0..1_000 {
            assert!(rl.check(&format!("busy{i}")).is_ok());
        }
        rl.check("busy0").expect_err("its budget is spent");
        // Past the cap, within one sweep interval: one sweep at most, and
        // new keys are refused rather than stored.
        for i in 0..5_000 {
            let refused = rl.check(&format!("new{i}"));
            assert!(refused.is_err(), "a new key past the cap is refused");
        }
        assert!(rl.sweeps() <= 1, "swept {} times", rl.sweeps());
        assert!(rl.limiter.len() <= 1_000, "{} keys kept", rl.limiter.len());
        // Known keys keep their own budget meanwhile.
        clock.advance_secs(1);
        assert_eq!(rl.check("busy1"), Err(59), "a known key is still metered");
        // Once the busy buckets refill, the next sweep frees room.
        clock.advance_secs(120);
        assert!(rl.check("newcomer").is_ok(), "room again after a sweep");
        assert!(rl.sweeps() <= 2);
    }
}
