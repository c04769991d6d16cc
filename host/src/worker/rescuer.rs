//! The rescuer: jobs whose worker died (its lease expired) are failed with
//! `wasmtasks.WorkerLost` and retried or failed by their retry policy. Every worker
//! runs it; the fence (`only_if_expired`, same attempt, same lease owner) makes
//! concurrent rescuers and late workers harmless.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use wasmtasks_sandbox::AttemptMetrics;

use crate::retry::after_failure;
use crate::store::{Completion, Store, StoreError, StuckJob};
use crate::task::{AttemptRecord, TaskError, TaskStatus};

/// The class of an attempt whose worker stopped renewing its lease.
pub const WORKER_LOST: &str = "wasmtasks.WorkerLost";

/// How many stuck jobs one rescue pass handles.
const RESCUE_PAGE: u32 = 500;

/// The rescuer service.
#[derive(Debug)]
pub struct Rescuer {
    store: Arc<dyn Store>,
    interval: Duration,
    /// Jobs rescued so far.
    rescued: Arc<AtomicU64>,
    /// Told when a rescue put jobs back to READY.
    wake: Arc<Notify>,
}

impl Rescuer {
    /// A rescuer of `store` every `interval`; counts in `rescued`, wakes `wake`.
    pub fn new(
        store: Arc<dyn Store>,
        interval: Duration,
        rescued: Arc<AtomicU64>,
        wake: Arc<Notify>,
    ) -> Self {
        Rescuer {
            store,
            interval,
            rescued,
            wake,
        }
    }

    /// One pass: the stuck jobs there are now; how many were rescued.
    pub async fn step(&self) -> Result<u64, StoreError> {
        let rescued = rescue_stuck(self.store.as_ref()).await?;
        if rescued > 0 {
            self.rescued.fetch_add(rescued, Ordering::Relaxed);
            self.wake.notify_one();
        }
        Ok(rescued)
    }

    /// A pass every interval until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
            if let Err(error) = self.step().await {
                tracing::warn!(%error, "cannot rescue stuck jobs");
            }
        }
    }
}

/// Rescues the stuck jobs there are now; returns how many were rescued.
pub async fn rescue_stuck(store: &dyn Store) -> Result<u64, StoreError> {
    let mut rescued = 0;
    loop {
        let stuck = store.job_get_stuck(RESCUE_PAGE).await?;
        if stuck.is_empty() {
            return Ok(rescued);
        }
        let page = stuck.len();
        let completions: Vec<Completion> = stuck.into_iter().map(lost).collect();
        let applied = store.job_complete_many(&completions).await?;
        rescued += applied.len() as u64;
        if page < RESCUE_PAGE as usize || applied.is_empty() {
            return Ok(rescued);
        }
    }
}

fn lost(job: StuckJob) -> Completion {
    let now = Utc::now();
    let traceback = format!(
        "{WORKER_LOST}: worker {} stopped renewing its lease on attempt {}; the attempt was lost \
         (the worker was killed, or lost its database connection)\n",
        job.lease_owner, job.attempt
    );
    Completion {
        next: after_failure(
            WORKER_LOST,
            job.attempt,
            job.max_attempts,
            job.backoff_factor,
            job.max_backoff,
        ),
        record: AttemptRecord {
            attempt: job.attempt,
            worker_id: job.lease_owner.clone(),
            started_at: job.last_attempted_at,
            finished_at: now,
            status: TaskStatus::Failed,
            error: Some(TaskError {
                exception_class_path: WORKER_LOST.to_owned(),
                traceback,
            }),
            metrics: AttemptMetrics::default(),
            stdout: String::new(),
            stderr: String::new(),
        },
        id: job.id,
        worker_id: job.lease_owner,
        only_if_expired: true,
    }
}
