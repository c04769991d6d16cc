//! `/`: per queue the jobs in each status, the lag, pause and resume; finished
//! jobs over the last hour and day as charts (throughput and failure rate).

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use wasmtasks::service::queues::STATUSES;

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
}

/// The charts: the last hour in 5-minute buckets, the last day in hours.
const CHARTS: [(&str, &str, Duration, u32, usize); 2] = [
    ("Last hour", "hour", Duration::from_secs(300), 12, 3),
    ("Last 24 hours", "day", Duration::from_secs(3600), 24, 4),
];

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
    let mut charts = Vec::with_capacity(CHARTS.len());
    for (title, id, bucket, buckets, label_every) in CHARTS {
        let series = services
            .jobs()
            .throughput(principal, bucket, buckets)
            .await?;
        let totals = Totals::of(&series);
        let starts: Vec<String> = series
            .buckets
            .iter()
            .map(|b| b.start.format("%H:%M").to_string())
            .collect();
        let svg = chart::svg(&format!("chart-{id}"), &series, |index| {
            (index % label_every == 0).then(|| starts[index].clone())
        });
        charts.push(Chart {
            title,
            svg,
            successful: totals.successful,
            failed: totals.failed,
            cancelled: totals.cancelled,
            failure_rate: totals.failure_rate(),
        });
    }
    let layout = Layout::new(&state, &session, "overview", "/").await?;
    Ok(render(&OverviewPage {
        layout,
        statuses: STATUSES.iter().map(ToString::to_string).collect(),
        queues,
        charts,
    }))
}
