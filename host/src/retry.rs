//! Retries: what happens to a job after a failed attempt.
//!
//! A failed attempt goes back to READY, available again after
//! `backoff_factor ^ attempt` seconds (capped by the queue's `max_backoff`, with
//! "equal jitter": a random point in the upper half of that delay), until
//! `max_attempts` are used up. Failures that would fail the same way again are
//! never retried: [`wasmtasks.InvalidArguments`](wasmtasks_sandbox::failure::INVALID_ARGUMENTS)
//! and `wasmtasks.TaskNotFound`.

use std::time::Duration;

use rand::Rng;
use wasmtasks_sandbox::failure::INVALID_ARGUMENTS;

use crate::store::NextState;

/// The class the guest SDK reports for a task it does not have.
pub const TASK_NOT_FOUND: &str = "wasmtasks.TaskNotFound";

/// Whether a failure of this class may succeed on another attempt.
pub fn is_retryable(exception_class_path: &str) -> bool {
    !matches!(exception_class_path, INVALID_ARGUMENTS | TASK_NOT_FOUND)
}

/// The delay before the attempt after `attempt`, before jitter.
pub fn backoff(attempt: u32, factor: f64, max: Duration) -> Duration {
    let seconds = factor.powi(attempt.min(1000) as i32);
    if !seconds.is_finite() || seconds >= max.as_secs_f64() {
        max
    } else {
        Duration::from_secs_f64(seconds.max(0.0))
    }
}

/// A delay drawn uniformly from the upper half of `delay`.
pub fn with_jitter(delay: Duration, rng: &mut impl Rng) -> Duration {
    let half = delay / 2;
    half + half.mul_f64(rng.random::<f64>())
}

/// The state a job moves to after failed attempt `attempt` of `max_attempts`.
pub fn after_failure(
    exception_class_path: &str,
    attempt: u32,
    max_attempts: u32,
    backoff_factor: f64,
    max_backoff: Duration,
) -> NextState {
    if attempt >= max_attempts || !is_retryable(exception_class_path) {
        return NextState::Failed;
    }
    let delay = with_jitter(
        backoff(attempt, backoff_factor, max_backoff),
        &mut rand::rng(),
    );
    NextState::Retry(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let max = Duration::from_secs(60);
        assert_eq!(backoff(1, 2.0, max), Duration::from_secs(2));
        assert_eq!(backoff(3, 2.0, max), Duration::from_secs(8));
        assert_eq!(backoff(10, 2.0, max), max);
        assert_eq!(backoff(5000, 10.0, max), max);
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let mut rng = rand::rng();
        for _ in 0..100 {
            let delay = with_jitter(Duration::from_secs(8), &mut rng);
            assert!(delay >= Duration::from_secs(4) && delay <= Duration::from_secs(8));
        }
    }

    #[test]
    fn retries_until_attempts_run_out_and_never_bad_arguments() {
        let max = Duration::from_secs(60);
        assert!(
            matches!(after_failure("x.E", 1, 3, 2.0, max), NextState::Retry(delay) if delay >= Duration::from_secs(1))
        );
        assert_eq!(after_failure("x.E", 3, 3, 2.0, max), NextState::Failed);
        assert_eq!(
            after_failure(INVALID_ARGUMENTS, 1, 3, 2.0, max),
            NextState::Failed
        );
        assert_eq!(
            after_failure(TASK_NOT_FOUND, 1, 3, 2.0, max),
            NextState::Failed
        );
    }
}
