//! Workers as data: what a worker registers, its heartbeats, and the list people
//! and metrics read. Rescue goes by leases, never by this registry.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::QueueFilter;

/// A heartbeat older than this many intervals marks its worker lost.
pub const LOST_AFTER_BEATS: u32 = 3;

/// Registrations whose heartbeat is older than this are deleted when a worker registers.
pub const FORGET_WORKERS_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A worker as it starts: who it is and what it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRegistration {
    /// Its id (`host:pid:random` unless chosen).
    pub id: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// The wasmtasks version it runs.
    pub version: String,
    /// The queues it serves, as [`QueueFilter::describe`] words them.
    pub queues: String,
    /// The tenants it serves; `None` for every tenant.
    pub tenants: Option<Vec<String>>,
    /// Attempts it runs at once.
    pub concurrency: u32,
    /// How often it heartbeats.
    pub heartbeat_every: Duration,
}

/// One heartbeat: the worker is alive (or, `stopped`, has exited) and has done this much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerHeartbeat<'a> {
    /// The worker.
    pub id: &'a str,
    /// Attempts finished so far.
    pub finished: u64,
    /// Of which failed (retried or not).
    pub failed: u64,
    /// Whether this is its last heartbeat: it has exited.
    pub stopped: bool,
}

/// Whether a worker is alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Heartbeating.
    Live,
    /// Its heartbeat stopped without it saying it exits: killed, frozen, or cut
    /// off from the database. Its jobs are rescued when their leases expire.
    Lost,
    /// It exited.
    Stopped,
}

/// A job a worker is running.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunningJob {
    /// Job id.
    pub id: String,
    /// Its tenant.
    pub tenant: String,
    /// The task path as enqueued.
    pub task_path: String,
    /// Which attempt (1-based).
    pub attempt: u32,
    /// When this attempt was claimed.
    pub started_at: Option<DateTime<Utc>>,
}

/// A registered worker as the store reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerRecord {
    /// Its id.
    pub id: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// The wasmtasks version it runs.
    pub version: String,
    /// The queues it serves (`*` for every queue).
    pub queues: String,
    /// The tenants it serves; `None` for every tenant (left out for a tenant's reader).
    pub tenants: Option<Vec<String>>,
    /// Attempts it runs at once.
    pub concurrency: u32,
    /// How often it heartbeats, in milliseconds.
    pub heartbeat_every_ms: u64,
    /// When it registered.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub heartbeat_at: DateTime<Utc>,
    /// When it exited.
    pub stopped_at: Option<DateTime<Utc>>,
    /// Attempts finished, as of its last heartbeat (left at 0 for a tenant's reader).
    pub finished: u64,
    /// Of which failed (left at 0 for a tenant's reader).
    pub failed: u64,
    /// Live, lost or stopped, as of when it was read.
    pub state: WorkerState,
    /// The jobs it is running (of the reader's tenant only, unless the operator reads).
    pub running: Vec<RunningJob>,
}

impl WorkerRecord {
    /// Its state at `now`: stopped, lost when its last heartbeat is older than
    /// [`LOST_AFTER_BEATS`] intervals, else live.
    pub fn state_at(
        stopped_at: Option<DateTime<Utc>>,
        heartbeat_at: DateTime<Utc>,
        heartbeat_every_ms: u64,
        now: DateTime<Utc>,
    ) -> WorkerState {
        let lost_after = heartbeat_every_ms.saturating_mul(u64::from(LOST_AFTER_BEATS));
        let lost_after = chrono::Duration::milliseconds(lost_after.min(i64::MAX as u64) as i64);
        if stopped_at.is_some() {
            WorkerState::Stopped
        } else if heartbeat_at + lost_after < now {
            WorkerState::Lost
        } else {
            WorkerState::Live
        }
    }
}

/// A `workers` row as both dialects select it: id, host, pid, version, queues,
/// tenants (JSON text), concurrency, heartbeat interval (ms), then started_at,
/// heartbeat_at and stopped_at in µs since the epoch, then finished and failed.
pub(crate) type WorkerRow = (
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    i64,
    i64,
);

/// A running job as both dialects select it: lease owner, id, tenant, task path,
/// attempt, and when the attempt was claimed (µs since the epoch).
pub(crate) type RunningRow = (Option<String>, String, String, String, i64, Option<i64>);

/// Workers from their rows, each with its running jobs and its state at `now`.
pub(crate) fn assemble(
    workers: Vec<WorkerRow>,
    running: Vec<RunningRow>,
    now: DateTime<Utc>,
) -> Result<Vec<WorkerRecord>, super::StoreError> {
    let at = super::sqlite::from_micros;
    let count = |n: i64| n.max(0) as u64;
    let small = |n: i64| n.clamp(0, u32::MAX.into()) as u32;
    let mut running: Vec<(String, RunningJob)> = running
        .into_iter()
        .map(|(owner, id, tenant, task_path, attempt, started)| {
            let job = RunningJob {
                id,
                tenant,
                task_path,
                attempt: small(attempt),
                started_at: started.map(at),
            };
            (owner.unwrap_or_default(), job)
        })
        .collect();
    workers
        .into_iter()
        .map(|row| {
            let (id, host, pid, version, queues, tenants, concurrency, every) =
                (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
            let (started_at, heartbeat_at, stopped_at) = (at(row.8), at(row.9), row.10.map(at));
            let tenants = tenants
                .map(|json| serde_json::from_str::<Vec<String>>(&json))
                .transpose()
                .map_err(|e| super::StoreError::Corrupt {
                    context: "listing workers",
                    message: format!("the tenants of worker `{id}`: {e}"),
                })?;
            let heartbeat_every_ms = count(every);
            let (mine, others) = running.drain(..).partition(|(owner, _)| *owner == id);
            running = others;
            Ok(WorkerRecord {
                running: mine.into_iter().map(|(_, job)| job).collect(),
                host,
                pid: small(pid),
                version,
                queues,
                tenants,
                concurrency: small(concurrency),
                heartbeat_every_ms,
                started_at,
                heartbeat_at,
                stopped_at,
                finished: count(row.11),
                failed: count(row.12),
                state: WorkerRecord::state_at(stopped_at, heartbeat_at, heartbeat_every_ms, now),
                id,
            })
        })
        .collect()
}

impl QueueFilter {
    /// The filter in words: `*`, `* except bulk,reports` or `emails,default`.
    pub fn describe(&self) -> String {
        match self {
            QueueFilter::Only(queues) => queues.join(","),
            QueueFilter::All { exclude } if exclude.is_empty() => "*".to_owned(),
            QueueFilter::All { exclude } => format!("* except {}", exclude.join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_three_intervals_old_is_lost() {
        let now = Utc::now();
        let beat = now - chrono::Duration::milliseconds(2_999);
        assert_eq!(
            WorkerRecord::state_at(None, beat, 1_000, now),
            WorkerState::Live
        );
        let beat = now - chrono::Duration::milliseconds(3_001);
        assert_eq!(
            WorkerRecord::state_at(None, beat, 1_000, now),
            WorkerState::Lost
        );
        assert_eq!(
            WorkerRecord::state_at(Some(now), beat, 1_000, now),
            WorkerState::Stopped
        );
    }
}
