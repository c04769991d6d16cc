//! Token buckets for the tenants' `enqueue_rate` quota, kept in this process.
//!
//! Each process (an API server, a worker, a CLI) has its own buckets: with several
//! API servers behind a balancer, a tenant may enqueue up to `rate` jobs per second
//! through each of them. A bucket starts full and is refilled continuously.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A tenant's rate: `rate` jobs per second, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Jobs per second, on average.
    pub rate: f64,
    /// Jobs that may be taken at once after a quiet while.
    pub burst: u32,
}

/// A refused take: how long until it would fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateExceeded {
    /// Seconds until the bucket holds enough tokens (infinite if never: more than
    /// the burst was asked for).
    pub retry_after_secs: f64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every tenant that enqueued since this process started.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Takes `jobs` tokens from `tenant`'s bucket at `rate`, all or none.
    pub fn take(&self, tenant: &str, rate: Rate, jobs: u64) -> Result<(), RateExceeded> {
        self.take_at(tenant, rate, jobs, Instant::now())
    }

    fn take_at(
        &self,
        tenant: &str,
        rate: Rate,
        jobs: u64,
        now: Instant,
    ) -> Result<(), RateExceeded> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let burst = f64::from(rate.burst.max(1));
        let bucket = buckets.entry(tenant.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        // A changed quota applies at once: what was saved is kept, within the new burst.
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate.rate).min(burst);
        bucket.at = now;
        let wanted = jobs as f64;
        if wanted <= bucket.tokens {
            bucket.tokens -= wanted;
            return Ok(());
        }
        let retry_after_secs = if wanted > burst || rate.rate <= 0.0 {
            f64::INFINITY
        } else {
            (wanted - bucket.tokens) / rate.rate
        };
        Err(RateExceeded { retry_after_secs })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const TEN_PER_SECOND: Rate = Rate {
        rate: 10.0,
        burst: 5,
    };

    #[test]
    fn a_full_bucket_gives_its_burst_then_refuses() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        for _ in 0..5 {
            limiter.take_at("a", TEN_PER_SECOND, 1, now).unwrap();
        }
        let refused = limiter.take_at("a", TEN_PER_SECOND, 1, now).unwrap_err();
        assert!((refused.retry_after_secs - 0.1).abs() < 1e-9, "{refused:?}");
    }

    #[test]
    fn tokens_come_back_at_the_rate_and_tenants_are_apart() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        limiter.take_at("a", TEN_PER_SECOND, 5, now).unwrap();
        limiter.take_at("b", TEN_PER_SECOND, 5, now).unwrap();
        let later = now + Duration::from_millis(300);
        limiter.take_at("a", TEN_PER_SECOND, 3, later).unwrap();
        assert!(limiter.take_at("a", TEN_PER_SECOND, 1, later).is_err());
    }

    #[test]
    fn a_batch_is_taken_whole_or_not_at_all() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        limiter.take_at("a", TEN_PER_SECOND, 3, now).unwrap();
        let refused = limiter.take_at("a", TEN_PER_SECOND, 3, now).unwrap_err();
        assert!((refused.retry_after_secs - 0.1).abs() < 1e-9, "{refused:?}");
        limiter.take_at("a", TEN_PER_SECOND, 2, now).unwrap();
        let never = limiter.take_at("a", TEN_PER_SECOND, 6, now).unwrap_err();
        assert!(never.retry_after_secs.is_infinite());
    }
}
