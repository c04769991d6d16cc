//! `wasmtasks bench --claim-cost BACKLOG`: what one claim costs with BACKLOG READY
//! jobs spread evenly over 100 tenants of equal weight (the worker's fair claim,
//! through the store as a worker calls it). The backlog is enqueued through the
//! services; then each of `CLAIMS` claims of `--claim-batch` jobs is timed on its
//! own, and the jobs it took are released back to READY (untimed), so that every
//! claim faces the whole backlog. Reports the median and p99 claim time and the
//! median time per claimed job.

use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtasks::store::{ClaimRef, JobClaim, QueueFilter};

use super::{Bench, Spread, additions};

/// The tenants the backlog is spread over.
const TENANTS: usize = 100;
/// Claims timed per run.
const CLAIMS: usize = 200;

/// One claim-cost run.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub(super) struct ClaimCostRun {
    backlog: usize,
    claims: usize,
    pub(super) jobs_per_claim: f64,
    pub(super) claim_p50_ms: f64,
    pub(super) claim_p99_ms: f64,
    pub(super) per_job_p50_us: f64,
}

impl Bench {
    /// Claims `batch` jobs at a time from `backlog` READY jobs over 100 tenants.
    pub(super) async fn claim_cost(
        &self,
        backlog: usize,
        batch: u32,
    ) -> anyhow::Result<ClaimCostRun> {
        let mut tenants = Vec::with_capacity(TENANTS);
        for n in 0..TENANTS {
            tenants.push(self.tenant_with_arith(&format!("tenant-{n:03}")).await?);
        }
        // Round-robin chunks, so every tenant's jobs span the enqueue order.
        let chunk = (backlog / TENANTS / 10).max(1);
        let mut enqueued = 0;
        let mut turn = 0;
        while enqueued < backlog {
            let count = chunk.min(backlog - enqueued);
            self.services
                .jobs()
                .enqueue_many(&tenants[turn % TENANTS], additions(0..count))
                .await?;
            enqueued += count;
            turn += 1;
        }
        let store = self.services.registry().store().clone();
        let claim = JobClaim {
            worker_id: "bench".into(),
            queues: QueueFilter::All {
                exclude: Vec::new(),
            },
            tenants: None,
            limit: batch,
            lease: Duration::from_secs(600),
        };
        let mut times = Vec::with_capacity(CLAIMS);
        let mut per_job = Vec::with_capacity(CLAIMS);
        let mut claimed_jobs = 0;
        for _ in 0..CLAIMS {
            let started = Instant::now();
            let claimed = store.job_claim(claim.clone()).await?;
            let took = started.elapsed().as_secs_f64();
            anyhow::ensure!(!claimed.is_empty(), "a claim found no READY job");
            times.push(took * 1000.0);
            per_job.push(took * 1e6 / claimed.len() as f64);
            claimed_jobs += claimed.len();
            let held: Vec<ClaimRef> = claimed
                .iter()
                .map(|job| ClaimRef {
                    id: job.id.clone(),
                    attempt: job.attempt,
                })
                .collect();
            store.job_release_many("bench", &held).await?;
        }
        let times = Spread::of(times);
        Ok(ClaimCostRun {
            backlog,
            claims: CLAIMS,
            jobs_per_claim: claimed_jobs as f64 / CLAIMS as f64,
            claim_p50_ms: times.p50,
            claim_p99_ms: times.p99,
            per_job_p50_us: Spread::of(per_job).p50,
        })
    }
}
