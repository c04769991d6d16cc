//! `/`: per queue the jobs in each status, the lag, pause and resume; finished
//! jobs over the last hour and day as charts (throughput and failure rate); the
//! workers, live or lost, and what each is running.

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use wasmtasks::service::jobs::{Throughput, ThroughputBucket};
use wasmtasks::service::queues::STATUSES;
use wasmtasks::store::WorkerState;

use super::chart::{self, Totals};
use super::page::{Layout, PageError, render, seconds};
use super::session::Session;
use crate::state::AppState;

/// One queue's row.
struct QueueRow {
    name: String,
    configured: bool,
    counts: Vec<u64>,
    lag: String,
    paused: bool,
}

/// One worker's row (live or lost; stopped ones are left out).
struct WorkerRow {
    id: String,
    host: String,
    lost: bool,
    queues: String,
    concurrency: u32,
    heartbeat: String,
    /// `(job id, task path, attempt)` of what it runs.
    running: Vec<(String, String, u32)>,
}

/// One chart with its totals.
struct Chart {
    title: &'static str,
    svg: String,
    successful: u64,
    failed: u64,
    cancelled: u64,
    failure_rate: String,
}

/// The overview page.
#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    statuses: Vec<String>,
    queues: Vec<QueueRow>,
    charts: Vec<Chart>,
    workers: Vec<WorkerRow>,
}

/// The finished jobs are counted once, in 5-minute buckets over the last day.
const BUCKET: Duration = Duration::from_secs(300);
/// 24 hours of them.
const BUCKETS: u32 = 288;

/// `series`' last `take` buckets, summed `group` at a time.
fn regroup(series: &Throughput, take: usize, group: usize) -> Throughput {
    let start = series.buckets.len().saturating_sub(take);
    Throughput {
        bucket_seconds: series.bucket_seconds * group as u64,
        buckets: series.buckets[start..]
            .chunks(group)
            .map(|chunk| ThroughputBucket {
                start: chunk[0].start,
                successful: chunk.iter().map(|b| b.successful).sum(),
                failed: chunk.iter().map(|b| b.failed).sum(),
                cancelled: chunk.iter().map(|b| b.cancelled).sum(),
            })
            .collect(),
    }
}

/// `GET /`.
pub async fn page(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    let principal = &session.principal;
    let services = &state.services;
    let queues = services
        .queues()
        .list(principal)
        .await?
        .into_iter()
        .map(|queue| QueueRow {
            counts: STATUSES
                .iter()
                .map(|status| queue.counts.get(status).copied().unwrap_or(0))
                .collect(),
            lag: queue
                .oldest_ready_age_seconds
                .map_or_else(|| "—".to_owned(), seconds),
            configured: queue.configured,
            paused: queue.paused,
            name: queue.queue_name,
        })
        .collect();
    let series = services
        .jobs()
        .throughput(principal, BUCKET, BUCKETS)
        .await?;
    // The last hour in 5-minute bars, the last day in hours (of 12 buckets each).
    let charts = [
        ("Last hour", "hour", regroup(&series, 12, 1), 3),
        (
            "Last 24 hours",
            "day",
            regroup(&series, BUCKETS as usize, 12),
            4,
        ),
    ]
    .into_iter()
    .map(|(title, id, series, label_every)| {
        let totals = Totals::of(&series);
        let svg = chart::svg(&format!("chart-{id}"), &series, |index| {
            (index % label_every == 0)
                .then(|| series.buckets[index].start.format("%H:%M").to_string())
        });
        Chart {
            title,
            svg,
            successful: totals.successful,
            failed: totals.failed,
            cancelled: totals.cancelled,
            failure_rate: totals.failure_rate(),
        }
    })
    .collect();
    let now = chrono::Utc::now();
    let workers = services
        .workers()
        .list(principal)
        .await?
        .into_iter()
        .filter(|worker| worker.state != WorkerState::Stopped)
        .map(|worker| WorkerRow {
            heartbeat: seconds((now - worker.heartbeat_at).num_milliseconds() as f64 / 1000.0),
            lost: worker.state == WorkerState::Lost,
            running: worker
                .running
                .into_iter()
                .map(|job| (job.id, job.task_path, job.attempt))
                .collect(),
            id: worker.id,
            host: worker.host,
            queues: worker.queues,
            concurrency: worker.concurrency,
        })
        .collect();
    let layout = Layout::new(&state, &session, "overview", "/").await?;
    Ok(render(&OverviewPage {
        layout,
        statuses: STATUSES.iter().map(ToString::to_string).collect(),
        queues,
        charts,
        workers,
    }))
}
