//! The SQLite dialect: one file in WAL mode, no server.
//!
//! Writes go through a single connection (SQLite has one writer; queueing them in
//! process is cheaper than contending on the file lock), reads through a small
//! pool. Transactions that read before they write start with `BEGIN IMMEDIATE`, so
//! two worker processes on one file wait for each other instead of failing.
//! Batches are passed as one JSON document and expanded with `json_each`, so a
//! batch of any size is one statement with no bind-variable limit.
//!
//! Durability: `synchronous = NORMAL` in WAL mode, so a killed process loses
//! nothing it committed; a power cut may lose the transactions since the last
//! checkpoint (a background one runs within 100 ms of a change of jobs, see
//! [`checkpointer`]), never corrupt the file.

mod busy;
mod checkpointer;
mod components;
mod config;
mod doorbell;
mod events;
mod jobs;
mod one_trip;
mod pruner;
mod queues;
mod results;
mod schedules;
mod tenants;
mod workers;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, watch};

use super::wake::Wake;
use super::*;
use crate::task::TaskResult;
use checkpointer::Checkpointer;
use doorbell::Doorbell;
pub(crate) use doorbell::SUFFIX as DOORBELL_SUFFIX;

/// How often an idle worker checks whether another process changed the file
/// when it cannot hear the doorbell.
const CHANGE_CHECK_INTERVAL: Duration = Duration::from_millis(2);
/// How often it checks anyway when it can: for writers that do not ring (an
/// older wasmtasks, a hand-written `INSERT`), found as soon as by the worker's
/// own fallback poll (`--interval`, 1 s by default).
const UNRUNG_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// A store in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Wakes workers of this process when a job is enqueued here.
    enqueued: Wake,
    /// Counts commits of jobs or results by this process and the doorbell's rings
    /// (which tell of those by any process, this one's among them).
    changes: Arc<watch::Sender<u64>>,
    /// Rung after every commit of jobs or results, heard from every process; none
    /// for an in-memory database, or where the file cannot be watched.
    doorbell: Option<Doorbell>,
    /// A connection that only reads `PRAGMA data_version`, which changes when
    /// another connection (any process) commits.
    watcher: Mutex<(SqliteConnection, i64)>,
    /// Checkpoints the log after changes, off the writer's path; none in memory.
    _checkpointer: Option<Checkpointer>,
}

/// The absolute path of the file a `sqlite://PATH` URL names.
pub(super) fn file(url: &str) -> Option<std::path::PathBuf> {
    let options = SqliteConnectOptions::from_str(url).ok()?;
    std::path::absolute(options.get_filename()).ok()
}

/// Whether the writer connection may go back to the pool: not when a failed write
/// left a transaction that sqlx still counts as open. SQLite rolls a transaction
/// back by itself on some errors (`database or disk is full`), so the rollback of
/// the dropped transaction fails and every later `BEGIN` on that connection would
/// be refused; the pool replaces it with a fresh one instead.
async fn still_usable(connection: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    if !connection.is_in_transaction() {
        return Ok(true);
    }
    // Runs the rollback the dropped transaction queued, then looks again.
    connection.ping().await?;
    Ok(!connection.is_in_transaction())
}

impl SqliteStore {
    /// Opens `url` (`sqlite://PATH`, created if missing, or `sqlite::memory:`) and
    /// applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let open_error = |message: String| StoreError::Open {
            url: url.to_owned(),
            message,
        };
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| open_error(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(busy::BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma(
                "wal_autocheckpoint",
                checkpointer::AUTOCHECKPOINT_PAGES.to_string(),
            );
        // No ping when a connection is taken from a pool (sqlx's default): a file
        // has no other end to hang up, and each ping is one more trip to the
        // connection's thread before every statement.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .after_connect(|connection, _| Box::pin(busy::poll_while_busy(connection)));
        // An in-memory database lives and dies with its one connection: never
        // replace it.
        let writer = if in_memory {
            writer
        } else {
            writer.after_release(|connection, _| Box::pin(still_usable(connection)))
        };
        let writer = writer
            .connect_with(options.clone())
            .await
            .map_err(|e| open_error(hint(&e)))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| open_error(hint_text(&e.to_string())))?;
        // An in-memory database exists only on its one connection.
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .test_before_acquire(false)
                .after_connect(|connection, _| Box::pin(busy::poll_while_busy(connection)))
                .connect_with(options.clone().read_only(true))
                .await
                .map_err(|e| open_error(hint(&e)))?
        };
        let mut watch = SqliteConnection::connect_with(&options.clone().read_only(!in_memory))
            .await
            .map_err(|e| open_error(hint(&e)))?;
        let version = data_version(&mut watch).await?;
        let changes = Arc::new(watch::Sender::new(0));
        let checkpointer = if in_memory {
            None
        } else {
            Some(
                Checkpointer::start(&options, changes.subscribe())
                    .await
                    .map_err(|e| open_error(hint(&e)))?,
            )
        };
        let doorbell = match file(url).filter(|_| !in_memory) {
            Some(path) => Doorbell::open(&path, changes.clone())
                    .inspect_err(|error| {
                        tracing::warn!(
                            "{error}; workers check the database for other processes' jobs every {CHANGE_CHECK_INTERVAL:?} instead"
                        )
                    })
                    .ok(),
            None => None,
        };
        Ok(SqliteStore {
            writer,
            reader,
            enqueued: Wake::default(),
            changes,
            doorbell,
            watcher: Mutex::new((watch, version)),
            _checkpointer: checkpointer,
        })
    }

    /// Wakes this process's idle workers, then says so as [`Self::changed`] does.
    fn jobs_changed(&self) {
        self.enqueued.wake();
        self.changed();
    }

    /// Jobs or results were committed here: this process's waiters and checkpointer
    /// hear it at once (whether or not the file can be watched), every other
    /// process by the doorbell.
    fn changed(&self) {
        super::bump(&self.changes);
        if let Some(doorbell) = &self.doorbell {
            doorbell.ring();
        }
    }

    /// Returns once another connection has committed since the last check: asked
    /// again whenever the doorbell rings (and every second), or every 2 ms without one.
    async fn changed_elsewhere(&self) -> Result<(), StoreError> {
        let mut watcher = self.watcher.lock().await;
        loop {
            // Taken before the check, so a ring after it is heard.
            let mut rung = self.doorbell.as_ref().map(|_| self.changes.subscribe());
            let version = data_version(&mut watcher.0).await?;
            if version != watcher.1 {
                watcher.1 = version;
                return Ok(());
            }
            match &mut rung {
                Some(rung) => super::changed_within(rung, UNRUNG_CHECK_INTERVAL).await,
                None => tokio::time::sleep(CHANGE_CHECK_INTERVAL).await,
            }
        }
    }
}

async fn data_version(connection: &mut SqliteConnection) -> Result<i64, StoreError> {
    sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(connection)
        .await
        .map_err(StoreError::query("checking for changes"))
}

/// Microseconds since the Unix epoch: how SQLite rows store times.
pub(crate) fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// The time a stored microsecond count stands for.
pub(crate) fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

#[async_trait]
impl Store for SqliteStore {
    fn dialect(&self) -> &'static str {
        "sqlite"
    }

    async fn component_insert(
        &self,
        params: ComponentInsert,
    ) -> Result<ComponentInserted, StoreError> {
        components::insert(&self.writer, params).await
    }

    async fn component_resolve(
        &self,
        params: ComponentResolve,
    ) -> Result<ComponentLookup, StoreError> {
        components::resolve(&self.reader, params).await
    }

    async fn component_get_bytes(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        components::get_bytes(&self.reader, digest).await
    }

    async fn component_list(&self, tenant: &str) -> Result<Vec<ComponentVersion>, StoreError> {
        components::list(&self.reader, tenant).await
    }

    async fn component_delete(
        &self,
        params: ComponentDelete,
    ) -> Result<ComponentDeleted, StoreError> {
        components::delete(&self.writer, params).await
    }

    async fn component_config_set(&self, params: ComponentConfigSet) -> Result<(), StoreError> {
        config::set(&self.writer, params).await
    }

    async fn component_config_delete(
        &self,
        tenant: &str,
        component: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        super::capabilities::sqlite::delete(&self.writer, tenant, component, key).await
    }

    async fn component_config_get_all(
        &self,
        tenant: &str,
        component: &str,
    ) -> Result<BTreeMap<String, ConfigValue>, StoreError> {
        super::capabilities::sqlite::get_all(&self.reader, tenant, component).await
    }

    async fn component_grant_change(&self, grant: ComponentGrant) -> Result<bool, StoreError> {
        super::capabilities::sqlite::grant_change(&self.writer, &grant).await
    }

    async fn component_grant_list(
        &self,
        tenant: &str,
        component: &str,
    ) -> Result<Vec<OriginPattern>, StoreError> {
        super::capabilities::sqlite::grant_list(&self.reader, tenant, component).await
    }

    async fn job_insert_many(&self, jobs: &[NewJob]) -> Result<Vec<Duplicate>, StoreError> {
        let duplicates = jobs::insert_many(&self.writer, jobs).await?;
        self.jobs_changed();
        Ok(duplicates)
    }

    async fn job_get(&self, tenant: &str, id: &str) -> Result<Option<TaskResult>, StoreError> {
        results::get(&self.reader, tenant, id).await
    }

    async fn job_list(&self, params: JobList) -> Result<JobListed, StoreError> {
        jobs::list(&self.reader, params).await
    }

    async fn job_retry(
        &self,
        tenant: &str,
        selection: RetrySelection,
    ) -> Result<Vec<RetryOutcome>, StoreError> {
        let outcomes = jobs::retry(&self.writer, tenant, selection).await?;
        self.jobs_changed();
        Ok(outcomes)
    }

    async fn job_claim(&self, params: JobClaim) -> Result<Vec<ClaimedJob>, StoreError> {
        jobs::claim(&self.writer, &self.reader, params).await
    }

    async fn job_complete_many(
        &self,
        completions: &[Completion],
    ) -> Result<Vec<String>, StoreError> {
        let applied = jobs::complete_many(&self.writer, completions).await?;
        self.changed();
        Ok(applied)
    }

    async fn job_renew_leases(&self, params: LeaseRenewal) -> Result<u64, StoreError> {
        jobs::renew_leases(&self.writer, params).await
    }

    async fn job_release_many(
        &self,
        worker_id: &str,
        claims: &[ClaimRef],
    ) -> Result<u64, StoreError> {
        let released = jobs::release_many(&self.writer, worker_id, claims).await?;
        self.jobs_changed();
        Ok(released)
    }

    async fn job_get_stuck(&self, limit: u32) -> Result<Vec<StuckJob>, StoreError> {
        jobs::get_stuck(&self.reader, limit).await
    }

    async fn job_cancel(&self, tenant: &str, id: &str) -> Result<CancelOutcome, StoreError> {
        jobs::cancel(&self.writer, tenant, id).await
    }

    async fn job_prune(&self, params: JobPrune) -> Result<PruneReport, StoreError> {
        jobs::prune(&self.writer, params).await
    }

    async fn job_prune_batch(&self, batch: PruneBatch) -> Result<PruneReport, StoreError> {
        pruner::prune_batch(&self.reader, &self.writer, batch).await
    }

    async fn usage_days(
        &self,
        tenant: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<UsageDay>, StoreError> {
        tenants::usage_days(&self.reader, tenant, from, to).await
    }

    async fn queue_stats(&self, tenant: Option<&str>) -> Result<Vec<QueueStat>, StoreError> {
        jobs::queue_stats(&self.reader, tenant).await
    }

    async fn job_count_finished(
        &self,
        params: JobCountFinished,
    ) -> Result<Vec<FinishedBucket>, StoreError> {
        jobs::count_finished(&self.reader, params).await
    }

    async fn queue_set_paused(
        &self,
        tenant: &str,
        queue: &str,
        paused: bool,
    ) -> Result<bool, StoreError> {
        let changed = queues::set_paused(&self.writer, tenant, queue, paused).await?;
        if changed && !paused {
            self.jobs_changed();
        }
        Ok(changed)
    }

    async fn schedule_put(&self, put: SchedulePut) -> Result<(), StoreError> {
        schedules::put(&self.writer, put).await
    }

    async fn schedule_list(&self, tenant: Option<&str>) -> Result<Vec<ScheduleRecord>, StoreError> {
        schedules::list(&self.reader, tenant).await
    }

    async fn schedule_delete(
        &self,
        tenant: &str,
        name: &str,
        source: Option<ScheduleSource>,
    ) -> Result<bool, StoreError> {
        schedules::delete(&self.writer, tenant, name, source).await
    }

    async fn schedule_set_paused(
        &self,
        tenant: &str,
        name: &str,
        paused: bool,
    ) -> Result<bool, StoreError> {
        schedules::set_paused(&self.writer, tenant, name, paused).await
    }

    async fn schedule_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        schedules::due(&self.reader, now, limit).await
    }

    async fn schedule_advance(&self, advance: ScheduleAdvance) -> Result<bool, StoreError> {
        schedules::advance(&self.writer, advance).await
    }

    async fn queue_paused(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        queues::paused(&self.reader, tenant).await
    }

    async fn event_list(
        &self,
        tenant: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<EventPage, StoreError> {
        events::list(&self.reader, tenant, after, limit).await
    }

    async fn tenant_create(&self, name: &str) -> Result<bool, StoreError> {
        tenants::create(&self.writer, name).await
    }

    async fn tenant_get(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        tenants::get(&self.reader, name).await
    }

    async fn tenant_list(&self) -> Result<Vec<Tenant>, StoreError> {
        tenants::list(&self.reader).await
    }

    async fn tenant_set_http_ceiling(
        &self,
        name: &str,
        ceiling: &[OriginPattern],
    ) -> Result<bool, StoreError> {
        tenants::set_http_ceiling(&self.writer, name, ceiling).await
    }

    async fn tenant_set_quotas(&self, name: &str, quotas: &Quotas) -> Result<bool, StoreError> {
        tenants::set_quotas(&self.writer, name, quotas).await
    }

    async fn tenant_delete(&self, name: &str) -> Result<Option<TenantDeleted>, StoreError> {
        tenants::delete(&self.writer, name).await
    }

    async fn token_insert(&self, token: NewToken) -> Result<(), StoreError> {
        tenants::token_insert(&self.writer, token).await
    }

    async fn token_get(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        tenants::token_get(&self.reader, id).await
    }

    async fn token_list(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        tenants::token_list(&self.reader, tenant).await
    }

    async fn token_revoke(&self, id: &str) -> Result<bool, StoreError> {
        tenants::token_revoke(&self.writer, id).await
    }

    async fn worker_register(&self, worker: &WorkerRegistration) -> Result<(), StoreError> {
        workers::register(&self.writer, worker).await
    }

    async fn worker_heartbeat(&self, beat: WorkerHeartbeat<'_>) -> Result<bool, StoreError> {
        workers::heartbeat(&self.writer, beat).await
    }

    async fn worker_list(&self, tenant: Option<&str>) -> Result<Vec<WorkerRecord>, StoreError> {
        workers::list(&self.reader, tenant).await
    }

    async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    async fn wait_for_jobs(&self, heard: &mut Heard, timeout: Duration) {
        tokio::select! {
            _ = self.enqueued.wait(heard, timeout) => {}
            result = self.changed_elsewhere() => {
                // A failing check must not turn into a busy loop: wait out the poll.
                if result.is_err() {
                    tokio::time::sleep(timeout).await;
                }
            }
        }
    }

    fn completions(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}
