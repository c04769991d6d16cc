//! The store: the only shared state of wasmtasks, behind one interface.
//!
//! [`Store`] is the driver interface; its methods are named noun-then-verb
//! (`job_claim`, `job_complete_many`, `component_insert`) and take one params
//! struct each. The core never writes SQL: each dialect lives in its own module
//! with its own migrations (`host/migrations/<dialect>/`), numbered alike.
//!
//! Queries are checked at run time, not with sqlx's compile-time macros: those read
//! one `DATABASE_URL` per crate, and we have two dialects in one crate. What the
//! macros would check is covered by the conformance suite that every dialect must
//! pass unchanged (`tests/tests/suite/store_conformance.rs`).
//!
//! Times: every "now" is taken by the store, so one clock decides leases and
//! availability for all workers (on PostgreSQL, the database's).

/// SQL (the same in both dialects): whether a unique job in its status blocks
/// duplicates (`blocking!()`, the partial unique index's test), or whether
/// another job holds the key of the `tasks` row at hand (`held_by_another!()`).
macro_rules! blocking {
    () => {
        "unique_key IS NOT NULL
         AND (unique_states & (CASE status WHEN 'READY' THEN 1 WHEN 'RUNNING' THEN 2
              WHEN 'SUCCESSFUL' THEN 4 WHEN 'FAILED' THEN 8 WHEN 'CANCELLED' THEN 16 ELSE 0 END)) <> 0"
    };
}
macro_rules! held_by_another {
    () => {
        "(tasks.unique_key IS NOT NULL AND EXISTS (SELECT 1 FROM tasks o
            WHERE o.tenant = tasks.tenant AND o.unique_key = tasks.unique_key AND o.id <> tasks.id
              AND (o.unique_states & (CASE o.status WHEN 'READY' THEN 1 WHEN 'RUNNING' THEN 2
                   WHEN 'SUCCESSFUL' THEN 4 WHEN 'FAILED' THEN 8 WHEN 'CANCELLED' THEN 16
                   ELSE 0 END)) <> 0))"
    };
}

mod attempt_row;
mod capabilities;
mod fair;
pub mod nul;
pub mod postgres;
pub mod sqlite;
mod types;
mod wake;
mod workers;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use wasmtasks_sandbox::{ConfigValue, OriginPattern};

pub use types::*;
pub use wake::Heard;
pub use workers::*;

/// The time now, in the whole microseconds both stores keep.
pub fn now_micros() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

use crate::task::{TaskResult, TaskStatus};

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error("cannot open the database {url}: {message}")]
    Open {
        /// The database URL (without password).
        url: String,
        /// What went wrong, in words.
        message: String,
    },
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A query failed.
    #[error("database error while {context}: {}", hint(cause))]
    Query {
        /// What the store was doing.
        context: &'static str,
        /// The driver's error (its message is part of this one's).
        cause: sqlx::Error,
    },
    /// An event cursor that this store did not give out.
    #[error("`{0}` is not an event cursor: pass one an earlier answer gave")]
    BadCursor(String),
    /// A stored value could not be decoded.
    #[error("corrupt stored value while {context}: {message}")]
    Corrupt {
        /// What the store was doing.
        context: &'static str,
        /// What was wrong.
        message: String,
    },
    /// A write the tenant's quota refuses (`max_queued`); nothing was written.
    #[error(transparent)]
    Quota(#[from] crate::quota::QuotaExceeded),
    /// The caller stopped waiting for a database that did not answer.
    #[error("stopped {context}: the database did not answer before the worker had to stop")]
    Abandoned {
        /// What the store was doing.
        context: &'static str,
    },
}

impl StoreError {
    /// Whether the database could not be reached (as opposed to refusing a query):
    /// trying again later may work.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Open { .. } | StoreError::Abandoned { .. } => true,
            StoreError::Query { cause, .. } => matches!(
                cause,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            ),
            StoreError::UnsupportedUrl(_)
            | StoreError::Corrupt { .. }
            | StoreError::BadCursor(_)
            | StoreError::Quota(_) => false,
        }
    }

    /// A query error with its context.
    pub(crate) fn query(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |cause| StoreError::Query { context, cause }
    }
}

/// A driver error's message, with what a user should check when it is a common one.
pub(crate) fn hint(error: &sqlx::Error) -> String {
    hint_text(&error.to_string())
}

/// Adds what a user should check to a database's terse messages.
pub(crate) fn hint_text(message: &str) -> String {
    if message.contains("file is not a database") {
        format!("{message} (the file exists but is not an SQLite database)")
    } else if message.contains("readonly") || message.contains("read-only") {
        format!(
            "{message} (the database is read-only; wasmtasks needs to write it and, for SQLite, its -wal and -shm files)"
        )
    } else if message.contains("unable to open") {
        format!("{message} (check that the directory exists and is writable)")
    } else if message.contains("terminating connection due to administrator command") {
        format!("{message} (the database server is restarting or shutting down)")
    } else if message.contains("Connection refused") {
        format!("{message} (is the database server running and accepting TCP connections there?)")
    } else if message.contains("database") && message.contains("does not exist") {
        format!("{message} (create it first, e.g. with `createdb`)")
    } else {
        message.to_owned()
    }
}

/// A stored status, e.g. `READY`, read back.
pub(crate) fn parse_status(status: &str, context: &'static str) -> Result<TaskStatus, StoreError> {
    serde_json::from_value(serde_json::Value::String(status.to_owned())).map_err(|_| {
        StoreError::Corrupt {
            context,
            message: format!("unknown status `{status}`"),
        }
    })
}

/// Claimed jobs, each with its availability time, in Django's order (priority
/// descending, then availability, then enqueue order): `RETURNING` does not keep
/// the order in which a claim picked them.
/// Refuses `jobs` when those of `tenant` would take it past `max_queued` READY
/// jobs; `ready` is its count now, counted up to `max_queued + 1`.
pub(crate) fn check_queued(
    tenant: &str,
    max_queued: i64,
    ready: u64,
    jobs: &[NewJob],
) -> Result<(), StoreError> {
    let max = max_queued.max(0) as u64;
    let adding = jobs.iter().filter(|job| job.tenant == tenant).count() as u64;
    if ready + adding <= max {
        return Ok(());
    }
    let has = if ready > max {
        format!("more than {max}")
    } else {
        ready.to_string()
    };
    Err(crate::quota::QuotaExceeded::busy(
        "max_queued",
        max,
        format!(
            "tenant `{tenant}` may have {max} READY jobs (max_queued) and has {has}, \
             so it cannot take {adding} more; nothing was stored"
        ),
    )
    .into())
}

pub(crate) fn in_django_order<T: Ord>(mut claimed: Vec<(T, ClaimedJob)>) -> Vec<ClaimedJob> {
    claimed.sort_by(|(a_at, a), (b_at, b)| {
        b.priority
            .cmp(&a.priority)
            .then(a_at.cmp(b_at))
            .then(a.id.cmp(&b.id))
    });
    claimed.into_iter().map(|(_, job)| job).collect()
}

/// What a prune did, from the statuses of the jobs it deleted (or would delete).
pub(crate) fn prune_report(statuses: Vec<String>) -> PruneReport {
    let mut report = PruneReport::default();
    for status in statuses {
        match status.as_str() {
            "SUCCESSFUL" => report.successful += 1,
            "FAILED" => report.failed += 1,
            _ => report.cancelled += 1,
        }
    }
    report
}

/// The outcome of a retry for each job it named or matched: `retried` are the ids
/// put back to READY; `others` the `(id, status, version still stored, unique key
/// held by another job)` of the named jobs, read after the update.
pub(crate) fn retry_outcomes(
    selection: &RetrySelection,
    retried: Vec<String>,
    others: Vec<(String, String, bool, bool)>,
    context: &'static str,
) -> Result<Vec<RetryOutcome>, StoreError> {
    let RetrySelection::Ids(ids) = selection else {
        return Ok(retried
            .into_iter()
            .map(|id| RetryOutcome::Retried { id })
            .collect());
    };
    let mut outcomes = Vec::with_capacity(ids.len());
    for id in ids {
        let outcome = if retried.contains(id) {
            RetryOutcome::Retried { id: id.clone() }
        } else {
            match others.iter().find(|(other, _, _, _)| other == id) {
                None => RetryOutcome::NotFound { id: id.clone() },
                Some((_, status, stored, held)) => {
                    let status = parse_status(status, context)?;
                    let finished = matches!(status, TaskStatus::Failed | TaskStatus::Cancelled);
                    if !stored && finished {
                        RetryOutcome::ComponentGone { id: id.clone() }
                    } else if *held && finished {
                        RetryOutcome::Duplicate { id: id.clone() }
                    } else {
                        RetryOutcome::NotRetryable {
                            id: id.clone(),
                            status,
                        }
                    }
                }
            }
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// A row of queue statistics: tenant, queue, status, count, and when the oldest
/// runnable READY job became available.
pub(crate) type QueueStatRow = (String, String, String, i64, Option<DateTime<Utc>>);

/// Queue statistics from their rows.
pub(crate) fn queue_stats_from(
    rows: Vec<QueueStatRow>,
    context: &'static str,
) -> Result<Vec<QueueStat>, StoreError> {
    rows.into_iter()
        .map(|(tenant, queue_name, status, count, oldest_available_at)| {
            Ok(QueueStat {
                tenant,
                queue_name,
                status: parse_status(&status, context)?,
                count: count as u64,
                oldest_available_at,
            })
        })
        .collect()
}

/// Rows of (bucket, status, count) as [`FinishedBucket`]s.
pub(crate) fn finished_buckets_from(
    rows: Vec<(i64, String, i64)>,
    context: &'static str,
) -> Result<Vec<FinishedBucket>, StoreError> {
    rows.into_iter()
        .map(|(bucket, status, count)| {
            Ok(FinishedBucket {
                bucket: bucket.max(0) as u32,
                status: parse_status(&status, context)?,
                count: count as u64,
            })
        })
        .collect()
}

/// The driver interface every dialect implements.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// The dialect, `sqlite` or `postgres`.
    fn dialect(&self) -> &'static str;

    /// Stores a component version, unless it is already the name's newest version.
    async fn component_insert(
        &self,
        params: ComponentInsert,
    ) -> Result<ComponentInserted, StoreError>;

    /// The newest version of `name`, or the one whose digest starts with `digest_prefix`.
    async fn component_resolve(
        &self,
        params: ComponentResolve,
    ) -> Result<ComponentLookup, StoreError>;

    /// The bytes of the component with `digest`.
    async fn component_get_bytes(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every version of every component of `tenant`, newest first within a name.
    async fn component_list(&self, tenant: &str) -> Result<Vec<ComponentVersion>, StoreError>;

    /// Deletes component versions, unless READY or RUNNING jobs pin one of them
    /// (and the bytes no version names any more).
    async fn component_delete(
        &self,
        params: ComponentDelete,
    ) -> Result<ComponentDeleted, StoreError>;

    /// Sets one configuration value (or secret) of a component, replacing any.
    async fn component_config_set(&self, params: ComponentConfigSet) -> Result<(), StoreError>;

    /// Deletes one configuration value of a component; false if it was not set.
    async fn component_config_delete(
        &self,
        tenant: &str,
        component: &str,
        key: &str,
    ) -> Result<bool, StoreError>;

    /// Every configuration value of one component, by key.
    async fn component_config_get_all(
        &self,
        tenant: &str,
        component: &str,
    ) -> Result<BTreeMap<String, ConfigValue>, StoreError>;

    /// Grants or revokes one HTTP origin of a component; true if that changed anything.
    async fn component_grant_change(&self, grant: ComponentGrant) -> Result<bool, StoreError>;

    /// The HTTP origins a component is granted.
    async fn component_grant_list(
        &self,
        tenant: &str,
        component: &str,
    ) -> Result<Vec<OriginPattern>, StoreError>;

    /// Inserts validated jobs in one statement. A unique job whose key a job in
    /// one of its blocking statuses holds (or an earlier job of the same batch) is
    /// not inserted: it is listed among the duplicates returned.
    async fn job_insert_many(&self, jobs: &[NewJob]) -> Result<Vec<Duplicate>, StoreError>;

    /// The TaskResult of job `id`.
    async fn job_get(&self, tenant: &str, id: &str) -> Result<Option<TaskResult>, StoreError>;

    /// A page of `tenant`'s jobs, newest first.
    async fn job_list(&self, params: JobList) -> Result<JobListed, StoreError>;

    /// Puts FAILED (or CANCELLED) jobs back to READY with a fresh attempt budget,
    /// keeping their attempts; one outcome per job named or matched.
    async fn job_retry(
        &self,
        tenant: &str,
        selection: RetrySelection,
    ) -> Result<Vec<RetryOutcome>, StoreError>;

    /// Claims up to `limit` ready jobs, as leases, sharing them fairly between
    /// tenants (in one statement on PostgreSQL; on SQLite the offers are read and
    /// the slots given out by `store::fair` within one write transaction).
    ///
    /// Weighted fair claiming: every tenant with runnable jobs offers its next
    /// ones in Django's order (priority, then availability, then enqueue order),
    /// at most its room under `max_running`; each slot of the batch goes to the
    /// offer with the smallest `(running + rank) / weight`, where `running` counts
    /// the tenant's attempts running now on every worker and `rank` is the offer's
    /// place in its tenant's order. So slots follow the weights over running
    /// attempts, not over one batch: a tenant that just arrived gets the next
    /// slots until it has its share running, a tenant alone gets them all, and a
    /// slot is never left empty while any tenant has a runnable job within its
    /// `max_running`. Within a tenant, Django's order holds; across tenants,
    /// priorities are not compared.
    ///
    /// Cost: the tenants with READY jobs are found by a loose index scan (one
    /// probe of a READY-only index per tenant: `tasks_ready_by_tenant` on SQLite,
    /// whichever of it and `tasks_ready_by_queue` the planner finds narrower on
    /// PostgreSQL), and the running counts come from the small `tasks_running`
    /// index. Each tenant is asked for its share of the slots plus one
    /// (`fair::ask_shares`), read from `tasks_ready_by_tenant` (on SQLite from the
    /// index alone, which carries `queue_name` for the queue filter), so a
    /// claim reads about `limit + 2 × tenants` jobs: the work grows with the
    /// tenants that have jobs and with `limit`, not with the backlog. Only when
    /// some tenants have fewer runnable jobs than their share are the others
    /// asked for the rest of their room (a second read on SQLite, a second round
    /// on PostgreSQL), at most `limit` each. (A tenant whose READY jobs are all in
    /// the future is walked past on each claim, as in the single-queue order.)
    /// On PostgreSQL, claims are serialised on the rows of tenants that have a
    /// `max_running`, so the last slot under it cannot be taken twice; on SQLite
    /// every claim is one write transaction anyway.
    async fn job_claim(&self, params: JobClaim) -> Result<Vec<ClaimedJob>, StoreError>;

    /// Writes finished attempts in one batch; returns the ids whose fence held.
    async fn job_complete_many(
        &self,
        completions: &[Completion],
    ) -> Result<Vec<String>, StoreError>;

    /// Extends the leases `worker_id` holds on `ids`; returns how many it still holds.
    async fn job_renew_leases(&self, params: LeaseRenewal) -> Result<u64, StoreError>;

    /// Puts jobs a worker gives up (shutdown) back to READY without counting the attempt.
    async fn job_release_many(&self, worker_id: &str, jobs: &[ClaimRef])
    -> Result<u64, StoreError>;

    /// Running jobs whose lease has expired.
    async fn job_get_stuck(&self, limit: u32) -> Result<Vec<StuckJob>, StoreError>;

    /// Cancels a READY job.
    async fn job_cancel(&self, tenant: &str, id: &str) -> Result<CancelOutcome, StoreError>;

    /// Deletes finished jobs by age (and component versions nothing references).
    async fn job_prune(&self, params: JobPrune) -> Result<PruneReport, StoreError>;

    /// One batch of the pruner, of every tenant: at most `limit` finished jobs past
    /// their age, `limit` stale READY jobs and `limit` old events, each kind in one
    /// short write (on SQLite the candidates are found before the write lock is
    /// taken). A batch that deletes fewer than `limit` of each kind ends the run.
    async fn job_prune_batch(&self, batch: PruneBatch) -> Result<PruneReport, StoreError>;

    /// What `tenant` used on each day from `from` to `to` (inclusive) on which it
    /// used anything, oldest first.
    async fn usage_days(
        &self,
        tenant: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<UsageDay>, StoreError>;

    /// Job counts per queue and status, of `tenant` (of every tenant for `None`),
    /// by tenant, queue and status. The counts are kept by the dialect's triggers
    /// as jobs change (`0011_job_counts.sql`), so this reads a few rows however
    /// many jobs are stored.
    async fn queue_stats(&self, tenant: Option<&str>) -> Result<Vec<QueueStat>, StoreError>;

    /// Jobs finished since `params.since`, counted per bucket of time and status
    /// (buckets with none are left out): from per-minute counts the triggers keep
    /// for 8 days, which pruning leaves alone.
    async fn job_count_finished(
        &self,
        params: JobCountFinished,
    ) -> Result<Vec<FinishedBucket>, StoreError>;

    /// Pauses (`paused`) or resumes `tenant`'s queue `queue`: no claim takes a job
    /// of a paused queue, whose jobs stay READY. Whether anything changed.
    async fn queue_set_paused(
        &self,
        tenant: &str,
        queue: &str,
        paused: bool,
    ) -> Result<bool, StoreError>;

    /// `tenant`'s paused queues, by name.
    async fn queue_paused(&self, tenant: &str) -> Result<Vec<String>, StoreError>;

    /// Creates a schedule or replaces its definition (keeping its next tick unless
    /// its pattern or time zone changed).
    async fn schedule_put(&self, put: SchedulePut) -> Result<(), StoreError>;

    /// The schedules of `tenant` (of every tenant for `None`), by tenant and name.
    async fn schedule_list(&self, tenant: Option<&str>) -> Result<Vec<ScheduleRecord>, StoreError>;

    /// Deletes a schedule (only one from `source`, when given); whether it existed.
    async fn schedule_delete(
        &self,
        tenant: &str,
        name: &str,
        source: Option<ScheduleSource>,
    ) -> Result<bool, StoreError>;

    /// Pauses or resumes a schedule; whether it exists.
    async fn schedule_set_paused(
        &self,
        tenant: &str,
        name: &str,
        paused: bool,
    ) -> Result<bool, StoreError>;

    /// Up to `limit` unpaused schedules whose next tick is at or before `now`.
    async fn schedule_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ScheduleRecord>, StoreError>;

    /// Takes a tick (compare and set on the next tick); whether this call took it.
    async fn schedule_advance(&self, advance: ScheduleAdvance) -> Result<bool, StoreError>;

    /// Up to `limit` of `tenant`'s events after `after` (from where the stream
    /// stands now when `None`), in order.
    async fn event_list(
        &self,
        tenant: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<EventPage, StoreError>;

    /// Creates a tenant; false if it exists already.
    async fn tenant_create(&self, name: &str) -> Result<bool, StoreError>;

    /// The tenant called `name`.
    async fn tenant_get(&self, name: &str) -> Result<Option<Tenant>, StoreError>;

    /// Every tenant, by name.
    async fn tenant_list(&self) -> Result<Vec<Tenant>, StoreError>;

    /// Sets the origins a tenant's admins may grant; false if there is no such tenant.
    async fn tenant_set_http_ceiling(
        &self,
        name: &str,
        ceiling: &[OriginPattern],
    ) -> Result<bool, StoreError>;

    /// Replaces a tenant's quotas; false if there is no such tenant.
    async fn tenant_set_quotas(&self, name: &str, quotas: &Quotas) -> Result<bool, StoreError>;

    /// Deletes a tenant and everything it owns; `None` if there is no such tenant.
    /// Never called for `default`: the services rely on it existing.
    async fn tenant_delete(&self, name: &str) -> Result<Option<TenantDeleted>, StoreError>;

    /// Stores a new token.
    async fn token_insert(&self, token: NewToken) -> Result<(), StoreError>;

    /// The token with public id `id`.
    async fn token_get(&self, id: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// The tokens of `tenant` (of every tenant, and the operator's, when `None`).
    async fn token_list(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError>;

    /// Revokes a token; false if there is no such token or it was revoked already.
    async fn token_revoke(&self, id: &str) -> Result<bool, StoreError>;

    /// Registers a worker as it starts (replacing a registration of the same id),
    /// and deletes registrations whose heartbeat is [`FORGET_WORKERS_AFTER`] old.
    async fn worker_register(&self, worker: &WorkerRegistration) -> Result<(), StoreError>;

    /// Records a worker's heartbeat (its last one when `stopped`); false if it is
    /// not registered.
    async fn worker_heartbeat(&self, beat: WorkerHeartbeat<'_>) -> Result<bool, StoreError>;

    /// The registered workers, by id, each with the jobs it is running: of
    /// `tenant` only, or of every tenant for `None`.
    async fn worker_list(&self, tenant: Option<&str>) -> Result<Vec<WorkerRecord>, StoreError>;

    /// Closes the store's connections, waiting for those in use to come back.
    async fn close(&self);

    /// Waits until jobs may have become available, or `timeout` passes: an
    /// in-process signal, a cheap change check or a notification, as the dialect can.
    /// `heard` is the calling worker's own: a wake-up it has heard does not wake it
    /// again, and one it missed (busy, or its wait given up) wakes it at once.
    async fn wait_for_jobs(&self, heard: &mut Heard, timeout: Duration);

    /// A receiver that changes whenever attempts may have been recorded after it was
    /// made: by this process, or by another (a notification on PostgreSQL, the
    /// doorbell on SQLite). Take it before reading what you wait for, so nothing
    /// recorded in between goes unheard; poll as well, since a signal may be lost.
    fn completions(&self) -> tokio::sync::watch::Receiver<u64>;
}

/// Waits until `signal` changes or `timeout` passes (the whole `timeout` if the
/// signal's sender is gone).
pub async fn changed_within(signal: &mut tokio::sync::watch::Receiver<u64>, timeout: Duration) {
    if let Ok(Err(_closed)) = tokio::time::timeout(timeout, signal.changed()).await {
        tokio::time::sleep(timeout).await;
    }
}

/// Counts one more occurrence on `signal`, waking whoever waits on it.
pub(crate) fn bump(signal: &tokio::sync::watch::Sender<u64>) {
    signal.send_modify(|count| *count = count.wrapping_add(1));
}

/// The files a `sqlite://PATH` database writes (the file and its `-wal`, `-shm`,
/// `-journal` and `-wake` companions), as absolute paths; none for any other URL.
pub fn database_files(url: &str) -> Vec<std::path::PathBuf> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return Vec::new();
    }
    let Some(file) = sqlite::file(url) else {
        return Vec::new();
    };
    let Some(name) = file.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    // The directory as the kernel names it (symbolic links resolved), as watchers do.
    let dir = file
        .parent()
        .map(std::path::Path::to_owned)
        .unwrap_or_default();
    let dir = dir.canonicalize().unwrap_or(dir);
    ["", "-wal", "-shm", "-journal", sqlite::DOORBELL_SUFFIX]
        .iter()
        .map(|suffix| dir.join(format!("{name}{suffix}")))
        .collect()
}

/// Opens (and migrates) the store a URL names: `sqlite://PATH`, `sqlite::memory:`,
/// or `postgres://…` (also `postgresql://…`).
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
