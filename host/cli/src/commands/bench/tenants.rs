//! `wasmtasks bench --tenants`: fairness under a flood. Tenant `flood` enqueues
//! `--flood` jobs and one worker process starts draining them; once it is busy,
//! tenant `newcomer` enqueues `--newcomer` jobs. Reports the newcomer's waits
//! (enqueued → finished, p50 and p99), the wait its median job would have with a
//! perfectly fair share (half the worker at equal weights: NEWCOMER / 2 jobs at
//! half the throughput, i.e. NEWCOMER / throughput), their ratio
//! (`fairness_ratio`: 1 is perfectly fair, a queue that serves the flood first
//! gives about FLOOD / NEWCOMER), and the throughput over the worker's active
//! window, to set beside W1's.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde::Serialize;
use wasmtasks::service::jobs::{JobFilter, MAX_PAGE};
use wasmtasks::task::TaskStatus;
use wasmtasks::tenant::Principal;

use super::{Bench, Spread, additions, upload_arith, worker_report};

/// One fairness run.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub(super) struct FairnessRun {
    flood_jobs: usize,
    newcomer_jobs: usize,
    pub(super) processing_jobs_per_second: f64,
    pub(super) newcomer_p50_wait_ms: f64,
    pub(super) newcomer_p99_wait_ms: f64,
    pub(super) fair_p50_wait_ms: f64,
    pub(super) fairness_ratio: f64,
}

impl Bench {
    /// Floods the queue from one tenant, then measures another's waits.
    pub(super) async fn fairness(
        &self,
        flood: usize,
        newcomer: usize,
        concurrency: u32,
    ) -> anyhow::Result<FairnessRun> {
        let flooder = self.tenant_with_arith("flood").await?;
        let late = self.tenant_with_arith("newcomer").await?;
        for chunk in (0..flood).collect::<Vec<_>>().chunks(20_000) {
            self.services
                .jobs()
                .enqueue_many(&flooder, additions(chunk.iter().copied()))
                .await?;
        }
        let started = Instant::now();
        let worker = self.worker(&["--batch", "--concurrency", &concurrency.to_string()])?;
        // The newcomer arrives once the worker is busy with the flood.
        while self.successful(&flooder).await? < u64::from(concurrency) {
            if started.elapsed() > Duration::from_secs(120) {
                bail!("the worker finished no job of the flood in two minutes");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.services
            .jobs()
            .enqueue_many(&late, additions(0..newcomer))
            .await?;
        let report = worker_report(worker).await?;
        let active = report["active_ms"].as_f64().unwrap_or(0.0) / 1000.0;
        let throughput = (flood + newcomer) as f64 / active.max(1e-9);
        let waits = self.waits_ms(&late).await?;
        if waits.len() != newcomer {
            bail!(
                "only {} of the newcomer's {newcomer} jobs finished",
                waits.len()
            );
        }
        let waits = Spread::of(waits);
        let fair_p50_wait_ms = newcomer as f64 / throughput * 1000.0;
        Ok(FairnessRun {
            flood_jobs: flood,
            newcomer_jobs: newcomer,
            processing_jobs_per_second: throughput,
            newcomer_p50_wait_ms: waits.p50,
            newcomer_p99_wait_ms: waits.p99,
            fair_p50_wait_ms,
            fairness_ratio: waits.p50 / fair_p50_wait_ms,
        })
    }

    /// Creates tenant `name` with the arith component; the operator acting in it.
    pub(super) async fn tenant_with_arith(&self, name: &str) -> anyhow::Result<Principal> {
        self.services
            .tenants()
            .create(&self.principal, name)
            .await?;
        let principal = Principal::operator(name);
        upload_arith(&self.services, &principal, &self.arith).await?;
        Ok(principal)
    }

    /// The tenant's SUCCESSFUL jobs.
    async fn successful(&self, principal: &Principal) -> anyhow::Result<u64> {
        let queues = self.services.queues().list(principal).await?;
        Ok(queues
            .iter()
            .filter_map(|queue| queue.counts.get(&TaskStatus::Successful))
            .sum())
    }

    /// Enqueued → finished, in milliseconds, of each of the tenant's finished jobs.
    async fn waits_ms(&self, principal: &Principal) -> anyhow::Result<Vec<f64>> {
        let mut waits = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .services
                .jobs()
                .list(
                    principal,
                    JobFilter {
                        cursor,
                        limit: Some(MAX_PAGE),
                        ..JobFilter::default()
                    },
                )
                .await?;
            waits.extend(page.jobs.iter().filter_map(|job| {
                let finished = job.finished_at?;
                Some((finished - job.enqueued_at).num_microseconds()? as f64 / 1000.0)
            }));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(waits),
            }
        }
    }
}
