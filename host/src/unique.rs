//! Unique jobs (River's `UniqueOpts`): an enqueue that asks for uniqueness is
//! refused as a duplicate while another job with the same unique key is in one
//! of the chosen statuses, and the existing job is returned instead. The key is
//! the hash of the task, the caller's key, and as asked the arguments, the queue
//! and the period the enqueue falls in. The store holds it with the statuses as a
//! bit set under a partial unique index, so concurrent duplicates insert one job.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::task::TaskStatus;

/// What makes a job unique, and while it blocks duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UniqueOptions {
    /// A key of the caller's (e.g. an order id); jobs of the same task with the
    /// same key are duplicates. Absent: the task alone (with `by_args`,
    /// `by_queue`, `period_ms` as asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The arguments are part of the key.
    #[serde(default)]
    pub by_args: bool,
    /// The queue is part of the key.
    #[serde(default)]
    pub by_queue: bool,
    /// A window, in milliseconds: jobs enqueued in the same window (counted from
    /// the Unix epoch) are duplicates, and a new window starts afresh.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::sandbox::int64::optional"
    )]
    pub period_ms: Option<u64>,
    /// The statuses in which a job blocks its duplicates; READY and RUNNING
    /// always. Default: READY, RUNNING, SUCCESSFUL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub states: Vec<TaskStatus>,
}

/// The statuses a unique job blocks duplicates in when none are given.
pub const DEFAULT_STATES: [TaskStatus; 3] = [
    TaskStatus::Ready,
    TaskStatus::Running,
    TaskStatus::Successful,
];

/// The bit of `status` in the stored set (the same in both dialects' index).
pub fn status_bit(status: TaskStatus) -> u8 {
    match status {
        TaskStatus::Ready => 1,
        TaskStatus::Running => 2,
        TaskStatus::Successful => 4,
        TaskStatus::Failed => 8,
        TaskStatus::Cancelled => 16,
    }
}

/// The longest window: a year.
pub const MAX_PERIOD: Duration = Duration::from_secs(366 * 24 * 3600);

/// The stored unique key of a job and its status bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueKey {
    /// sha256, hex.
    pub key: String,
    /// The statuses in which it blocks duplicates, as bits.
    pub states: u8,
}

/// The job a unique enqueue would make, as far as its key is concerned.
#[derive(Debug, Clone, Copy)]
pub struct Keyed<'a> {
    /// `component.task` (without a pinned digest: every version is the same task).
    pub task: &'a str,
    /// Positional arguments, JSON.
    pub args: &'a str,
    /// Keyword arguments, JSON (keys sorted).
    pub kwargs: &'a str,
    /// The queue.
    pub queue: &'a str,
    /// When it is enqueued.
    pub now: DateTime<Utc>,
}

impl UniqueOptions {
    /// The key and status bits of `job`, or why these options are wrong.
    pub fn key(&self, job: Keyed<'_>) -> Result<UniqueKey, String> {
        let states = if self.states.is_empty() {
            &DEFAULT_STATES[..]
        } else {
            &self.states[..]
        };
        for required in [TaskStatus::Ready, TaskStatus::Running] {
            if !states.contains(&required) {
                return Err(format!(
                    "unique states must include READY and RUNNING (a job moves between them \
                     while it is retried), got {}",
                    states
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        let mut hash = Sha256::new();
        let mut part = |name: &str, value: &str| {
            hash.update(name.as_bytes());
            hash.update((value.len() as u64).to_le_bytes());
            hash.update(value.as_bytes());
        };
        part("task", job.task);
        if let Some(key) = &self.key {
            part("key", key);
        }
        if self.by_args {
            part("args", job.args);
            part("kwargs", job.kwargs);
        }
        if self.by_queue {
            part("queue", job.queue);
        }
        if let Some(period) = self.period_ms {
            let period = Duration::from_millis(period);
            if period.is_zero() || period > MAX_PERIOD {
                return Err(format!(
                    "unique period_ms must be 1..={}, got {}",
                    MAX_PERIOD.as_millis(),
                    period.as_millis()
                ));
            }
            let millis = job.now.timestamp_millis().max(0) as u128;
            let window = millis / period.as_millis();
            part("period", &format!("{}:{window}", period.as_millis()));
        }
        Ok(UniqueKey {
            key: hex::encode(hash.finalize()),
            states: states.iter().map(|s| status_bit(*s)).fold(0, |a, b| a | b),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(args: &str, queue: &str, now: &str) -> Keyed<'static> {
        Keyed {
            task: "arith.add",
            args: Box::leak(args.to_owned().into_boxed_str()),
            kwargs: "{}",
            queue: Box::leak(queue.to_owned().into_boxed_str()),
            now: now.parse().unwrap(),
        }
    }

    #[test]
    fn keys_change_only_with_what_the_options_name() {
        let at = "2026-01-01T10:15:00Z";
        let plain = UniqueOptions::default();
        assert_eq!(
            plain.key(job("[1]", "a", at)).unwrap(),
            plain.key(job("[2]", "b", at)).unwrap()
        );
        let by_args = UniqueOptions {
            by_args: true,
            ..UniqueOptions::default()
        };
        assert_ne!(
            by_args.key(job("[1]", "a", at)).unwrap(),
            by_args.key(job("[2]", "a", at)).unwrap()
        );
        let by_queue = UniqueOptions {
            by_queue: true,
            ..UniqueOptions::default()
        };
        assert_ne!(
            by_queue.key(job("[1]", "a", at)).unwrap(),
            by_queue.key(job("[1]", "b", at)).unwrap()
        );
        let hourly = UniqueOptions {
            period_ms: Some(3_600_000),
            ..UniqueOptions::default()
        };
        assert_eq!(
            hourly.key(job("[1]", "a", at)).unwrap(),
            hourly.key(job("[1]", "a", "2026-01-01T10:59:59Z")).unwrap()
        );
        assert_ne!(
            hourly.key(job("[1]", "a", at)).unwrap(),
            hourly.key(job("[1]", "a", "2026-01-01T11:00:00Z")).unwrap()
        );
        let keyed = UniqueOptions {
            key: Some("order-7".into()),
            ..UniqueOptions::default()
        };
        assert_ne!(
            keyed.key(job("[1]", "a", at)).unwrap(),
            plain.key(job("[1]", "a", at)).unwrap()
        );
        assert_eq!(plain.key(job("[1]", "a", at)).unwrap().states, 1 | 2 | 4);
    }

    #[test]
    fn states_without_ready_and_running_and_bad_periods_are_refused() {
        let at = "2026-01-01T10:15:00Z";
        let only_ready = UniqueOptions {
            states: vec![TaskStatus::Ready],
            ..UniqueOptions::default()
        };
        assert!(
            only_ready
                .key(job("[]", "a", at))
                .unwrap_err()
                .contains("READY and RUNNING")
        );
        let zero = UniqueOptions {
            period_ms: Some(0),
            ..UniqueOptions::default()
        };
        assert!(
            zero.key(job("[]", "a", at))
                .unwrap_err()
                .contains("period_ms")
        );
    }
}
