//! Scale-out: W1's backlog drained by several worker processes at once. Each
//! worker reports its busy window (its first claim to its last write, by the wall
//! clock); the rate is the jobs over the span from the earliest start to the
//! latest end.

use anyhow::{Context as _, bail};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use tokio::task::JoinSet;

use super::{Bench, additions, worker_report};

/// One scale-out run.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub(super) struct ScaleRun {
    /// Worker processes.
    pub(super) workers: usize,
    /// Jobs over the span of all their busy windows.
    pub(super) processing_jobs_per_second: f64,
    /// That span.
    pub(super) active_seconds: f64,
}

impl Bench {
    /// Enqueues `jobs`, then drains them with `workers` processes of `concurrency`
    /// and `prefetch`.
    pub(super) async fn scale_out(
        &self,
        jobs: usize,
        workers: usize,
        concurrency: u32,
        prefetch: u32,
    ) -> anyhow::Result<ScaleRun> {
        self.backend.enqueue_many(additions(0..jobs)).await?;
        let mut running = JoinSet::new();
        for _ in 0..workers {
            let worker = self.draining_worker(concurrency, prefetch)?;
            running.spawn(async move { worker_report(worker).await });
        }
        let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        let mut claimed = 0;
        while let Some(report) = running.join_next().await {
            let report = report.context("a worker's report task panicked")??;
            claimed += report["claimed"].as_u64().unwrap_or(0);
            let Some(until) = report["active_until"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            else {
                continue;
            };
            let until = until.with_timezone(&Utc);
            let from = until - TimeDelta::milliseconds(report["active_ms"].as_i64().unwrap_or(0));
            span = Some(match span {
                None => (from, until),
                Some((a, b)) => (a.min(from), b.max(until)),
            });
        }
        if claimed < jobs as u64 {
            bail!("scale-out: the workers claimed {claimed} of {jobs} jobs");
        }
        self.all_successful("scale-out", jobs).await?;
        let (from, until) = span.context("no worker found jobs")?;
        let seconds = (until - from).as_seconds_f64().max(1e-3);
        Ok(ScaleRun {
            workers,
            processing_jobs_per_second: jobs as f64 / seconds,
            active_seconds: seconds,
        })
    }
}
