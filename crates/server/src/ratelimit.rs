//! Per-principal token buckets. In memory and per node: with several nodes
//! each enforces the budget on its own share of the traffic.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::RateLimit;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated_micros: i64,
}

#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key` at `now_micros`; `Err(seconds)` says how long
    /// to wait when the bucket is empty.
    pub fn check(&self, key: &str, now_micros: i64) -> Result<(), u64> {
        let rate_per_sec = f64::from(self.limit.per_minute.max(1)) / 60.0;
        let burst = f64::from(self.limit.burst.max(1));
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() > 100_000 {
            // Forget idle buckets rather than grow without bound.
            buckets.retain(|_, b| now_micros - b.updated_micros < 3_600_000_000);
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated_micros: now_micros,
        });
        let elapsed = (now_micros - b.updated_micros).max(0) as f64 / 1e6;
        b.tokens = (b.tokens + elapsed * rate_per_sec).min(burst);
        b.updated_micros = now_micros;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate_per_sec).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let rl = RateLimiter::new(RateLimit {
            per_minute: 60,
            burst: 3,
        });
        for _ in 0..3 {
            assert!(rl.check("k", 0).is_ok());
        }
        assert_eq!(rl.check("k", 0), Err(1));
        assert!(rl.check("other", 0).is_ok(), "buckets are per key");
        assert!(
            rl.check("k", 1_000_000).is_ok(),
            "one token back after a second"
        );
        assert!(rl.check("k", 1_000_000).is_err());
    }
}
