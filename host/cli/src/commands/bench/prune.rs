//! `wasmtasks bench --prune ROWS`: the pruner against a backlog of finished jobs.
//! ROWS jobs are enqueued and finished (through the store, no task runs), then
//! the pruner deletes them all, batch by batch, as a worker's would: reports rows
//! deleted per second and each batch's duration (on SQLite, the longest the
//! pruner holds the write lock is at most the longest batch).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use wasmtasks::store::{Completion, JobClaim, QueueFilter};
use wasmtasks::worker::{ManualClock, Pruner, PrunerConfig};

use super::{Bench, Spread};

/// One prune run.
#[derive(Debug, Default, Clone, Serialize)]
pub(super) struct PruneRun {
    rows: u64,
    seconds: f64,
    rows_per_second: f64,
    batches: usize,
    batch_median_ms: f64,
    batch_max_ms: f64,
}

impl Bench {
    /// Makes `rows` finished jobs, then prunes them with batches of `batch_size`.
    pub(super) async fn prune(&self, rows: usize, batch_size: u32) -> anyhow::Result<PruneRun> {
        let store = self.services.registry().store().clone();
        let chunk = 20_000;
        let mut made = 0;
        while made < rows {
            let count = chunk.min(rows - made);
            let requests = super::additions(0..count);
            self.services
                .jobs()
                .enqueue_many(&self.principal, requests)
                .await?;
            let claimed = store
                .job_claim(JobClaim {
                    worker_id: "bench".into(),
                    queues: QueueFilter::All {
                        exclude: Vec::new(),
                    },
                    tenants: None,
                    limit: count as u32,
                    lease: Duration::from_secs(600),
                })
                .await?;
            let completions: Vec<Completion> = claimed
                .iter()
                .map(|job| Completion::succeeded(job, "bench", json!(0)))
                .collect();
            for batch in completions.chunks(512) {
                store.job_complete_many(batch).await?;
            }
            made += count;
            eprintln!("made {made} of {rows} finished jobs");
        }
        // A month later: every job is past its age.
        let clock = Arc::new(ManualClock::new(
            chrono::Utc::now() + chrono::Duration::days(31),
        ));
        let pruner = Pruner::new(
            store,
            clock,
            PrunerConfig {
                finished_age: Duration::from_secs(14 * 86_400),
                failed_age: Duration::from_secs(30 * 86_400),
                stale_age: Duration::from_secs(30 * 86_400),
                batch_size,
                interval: Duration::from_secs(3600),
            },
        );
        let started = Instant::now();
        let mut durations = Vec::new();
        let mut deleted = 0;
        loop {
            let batch_started = Instant::now();
            let report = pruner.step().await?;
            durations.push(batch_started.elapsed().as_secs_f64() * 1000.0);
            let jobs = report.successful + report.failed + report.cancelled;
            deleted += jobs;
            if jobs < u64::from(batch_size) && report.events < u64::from(batch_size) {
                break;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let batches = durations.len();
        let spread = Spread::of(durations);
        Ok(PruneRun {
            rows: deleted,
            seconds,
            rows_per_second: deleted as f64 / seconds.max(1e-9),
            batches,
            batch_median_ms: spread.p50,
            batch_max_ms: spread.max,
        })
    }
}
