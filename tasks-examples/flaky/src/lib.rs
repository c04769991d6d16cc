//! A deliberately flaky task for wasmtasks: `until_attempt` fails with
//! `flaky.TransientError` until the host's attempt counter (from the task context)
//! reaches `n`, then succeeds, which exercises retries, backoff and the context the
//! host passes to `takes_context` tasks. It allows 5 attempts with a 1 s backoff base.
#![warn(missing_docs)]

use std::fmt;

/// The failure `until_attempt` reports before attempt `n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransientError {
    /// The attempt that failed.
    pub attempt: u32,
    /// The first attempt that will succeed.
    pub n: u32,
}

impl fmt::Display for TransientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TransientError { attempt, n } = self;
        write!(
            f,
            "attempt {attempt} failed: this task only succeeds from attempt {n} on"
        )
    }
}

impl std::error::Error for TransientError {}

#[wasmtasks_guest::component]
mod tasks {
    use wasmtasks_guest::{TaskContext, task};

    use super::TransientError;

    /// Fails while `context.attempt < n`, then reports the attempt it succeeded on.
    #[task(takes_context, max_attempts = 5, backoff_factor = 1.0)]
    pub fn until_attempt(context: &TaskContext, n: u32) -> Result<String, TransientError> {
        let attempt = context.attempt;
        if attempt < n {
            return Err(TransientError { attempt, n });
        }
        Ok(format!("succeeded on attempt {attempt}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtasks_guest::{RetryPolicy, TaskContext};

    fn attempt(attempt: u32) -> TaskContext {
        TaskContext {
            task_result_id: "result-1".into(),
            attempt,
            task_path: "flaky.until_attempt".into(),
            queue_name: "default".into(),
            priority: 0,
        }
    }

    #[test]
    fn fails_until_the_nth_attempt() {
        assert_eq!(
            tasks::until_attempt(&attempt(2), 3),
            Err(TransientError { attempt: 2, n: 3 })
        );
        assert_eq!(
            tasks::until_attempt(&attempt(3), 3).unwrap(),
            "succeeded on attempt 3"
        );
    }

    #[test]
    fn declares_context_and_retry_policy() {
        let [definition] = Component::describe().tasks.try_into().unwrap();
        assert!(definition.takes_context);
        assert_eq!(
            definition.retry,
            RetryPolicy {
                max_attempts: Some(5),
                backoff_factor: Some(1.0)
            }
        );
    }

    #[test]
    fn reports_a_transient_error_through_run() {
        let error = Component::run("until_attempt", "[2]", "{}", Some(attempt(1))).unwrap_err();
        assert_eq!(error.exception_class_path(), "flaky.TransientError");
        assert_eq!(
            error.message(),
            "attempt 1 failed: this task only succeeds from attempt 2 on"
        );
        let ok = Component::run("until_attempt", "[]", r#"{"n": 2}"#, Some(attempt(2))).unwrap();
        assert_eq!(ok, r#""succeeded on attempt 2""#);
    }
}
