//! The PostgreSQL dialect: one server, many workers on many hosts.
//!
//! - Every "now" is the database's (`now()`), so leases, availability and
//!   `finished_at` follow one clock whatever the workers' clocks say.
//! - A claim is one statement: a CTE picks ready jobs in Django's order with
//!   `FOR UPDATE SKIP LOCKED` (concurrent claimers skip each other's rows instead of
//!   waiting) and the update takes their leases. A batch of completions is one
//!   statement too (the fenced update and the insert of the attempts, in one
//!   data-modifying CTE), and so is a bulk enqueue.
//! - Waking: an enqueue (or a release) sends `NOTIFY wasmtasks_jobs` in its own
//!   statement, delivered when its transaction commits. Each store keeps one
//!   `LISTEN`ing connection in a background task, which reconnects by itself; idle
//!   workers wait on it, on the in-process signal and on a timeout (the poll), so a
//!   lost notification delays a job by one poll interval at most.
//! - Connection loss: queries fail while the server is away; the worker retries
//!   claims with backoff and the completer retries writes until they succeed (see
//!   [`crate::worker`] for what that means for attempts in flight).
//! - [`insert_jobs`] enqueues inside the caller's transaction (see
//!   [`crate::backend::TaskBackend::enqueue_in`]): the job exists only if the
//!   caller's transaction commits.
//!
//! Text cannot hold NUL characters in PostgreSQL: in what a finished attempt
//! records (return value, output, traceback) each becomes U+FFFD.

mod components;
mod config;
mod events;
mod jobs;
mod pruner;
mod queues;
mod results;
mod schedules;
mod tenants;
mod workers;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::wake::Wake;
use super::*;
use crate::task::TaskResult;

/// Connections each store keeps (besides its listener).
const POOL_SIZE: u32 = 8;
/// How long a query waits for a connection (or for the server to come back).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest pause between attempts to re-establish the `LISTEN` connection.
const MAX_LISTEN_BACKOFF: Duration = Duration::from_secs(5);

/// A store in a PostgreSQL database.
#[derive(Debug)]
pub struct PostgresStore {
    pool: PgPool,
    /// Whether this store's last claim round found one tenant alone with READY
    /// jobs (or none), so the next starts with the lone tenant's statement.
    lone_likely: AtomicBool,
    /// Wakes waiting workers: on a notification, or an enqueue in this process.
    wake: Arc<Wake>,
    /// Wakes waiters for results: on a notification, or completions in this process.
    finished: Arc<watch::Sender<u64>>,
    /// The one connection of the task that `LISTEN`s.
    listener_pool: PgPool,
    /// The task that `LISTEN`s; stopped when the store is closed or dropped.
    listener: JoinHandle<()>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/database`), applies the
    /// migrations and starts listening for new jobs.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let open_error = |message: String| StoreError::Open {
            url: redacted(url),
            message,
        };
        let options = connect_options(url).map_err(|e| open_error(hint(&e)))?;
        // No ping before each query: a connection the server dropped fails one query
        // (which the worker retries) and is then discarded, as the pool pings every
        // connection it takes back.
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(|e| open_error(hint(&e)))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| open_error(hint_text(&e.to_string())))?;
        let wake = Arc::new(Wake::default());
        let finished = Arc::new(watch::Sender::new(0));
        let listener_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        let listener = tokio::spawn(listen(
            listener_pool.clone(),
            wake.clone(),
            finished.clone(),
        ));
        Ok(PostgresStore {
            pool,
            lone_likely: AtomicBool::new(true),
            wake,
            finished,
            listener_pool,
            listener,
        })
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// The options `url` gives, named `wasmtasks` on the server unless it says otherwise.
///
/// Bitmap scans are off for the store's sessions: a claim must walk `tasks_ready`
/// in order and stop after its batch, but on a table that has no statistics yet
/// (a fresh database, before autovacuum's first analyze) the planner takes a
/// bitmap scan that reads and sorts every ready job on every claim (6 ms instead of
/// 0.1 ms with 10,000 jobs ready). None of the store's queries needs one.
fn connect_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.options([("enable_bitmapscan", "off")]);
    Ok(match options.get_application_name() {
        Some(_) => options,
        None => options.application_name("wasmtasks"),
    })
}

/// `url` with its password (if any) masked, for messages.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Listens for `NOTIFY wasmtasks_jobs` and `wasmtasks_finished` until the store is
/// dropped, reconnecting with backoff when the connection is lost.
async fn listen(pool: PgPool, wake: Arc<Wake>, finished: Arc<watch::Sender<u64>>) {
    let mut delay = Duration::from_millis(100);
    loop {
        let error = listen_until_error(&pool, &wake, &finished, &mut delay).await;
        tracing::warn!(
            error = %hint(&error),
            "lost the PostgreSQL connection that listens for new jobs; polling until it is back (retrying in {delay:?})"
        );
        // Jobs enqueued (or finished) while it was away sent notifications nobody heard.
        wake.wake();
        bump(&finished);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_LISTEN_BACKOFF);
    }
}

/// Wakes workers (or waiters for results) on every notification; returns the
/// error that ended listening.
async fn listen_until_error(
    pool: &PgPool,
    wake: &Wake,
    finished: &watch::Sender<u64>,
    delay: &mut Duration,
) -> sqlx::Error {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => return error,
    };
    if let Err(error) = listener
        .listen_all([jobs::CHANNEL, jobs::FINISHED_CHANNEL])
        .await
    {
        return error;
    }
    *delay = Duration::from_millis(100);
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) if notification.channel() == jobs::FINISHED_CHANNEL => {
                bump(finished)
            }
            Ok(Some(_)) => wake.wake(),
            // The connection dropped and was re-established: anything sent
            // meanwhile was missed.
            Ok(None) => {
                wake.wake();
                bump(finished);
            }
            Err(error) => return error,
        }
    }
}

/// Enqueues `jobs` through the caller's connection or transaction, in one
/// statement: inside a transaction, the jobs exist (and workers hear of them) only
/// once it commits. The jobs must be validated already ([`crate::enqueue::Preparer`]).
pub async fn insert_jobs(
    connection: &mut PgConnection,
    jobs: &[NewJob],
) -> Result<Vec<Duplicate>, StoreError> {
    jobs::insert_many(connection, jobs).await
}

/// Creates the database `name` on the server `server_url` points at; returns its URL.
/// For tests and benchmarks that each want a database of their own.
pub async fn create_database(server_url: &str, name: &str) -> Result<String, StoreError> {
    administer(server_url, "CREATE DATABASE", name).await?;
    database_url(server_url, name)
}

/// Drops the database `name` on the server `server_url` points at, disconnecting
/// its sessions.
pub async fn drop_database(server_url: &str, name: &str) -> Result<(), StoreError> {
    administer(server_url, "DROP DATABASE IF EXISTS", name).await
}

/// Runs `<command> "<name>"` (plus `WITH (FORCE)` for a drop) on a connection of its own.
async fn administer(server_url: &str, command: &str, name: &str) -> Result<(), StoreError> {
    let open_error = |message: String| StoreError::Open {
        url: redacted(server_url),
        message,
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(open_error(format!(
            "`{name}` is not a database name wasmtasks creates (use letters, digits and `_`)"
        )));
    }
    let options = connect_options(server_url).map_err(|e| open_error(hint(&e)))?;
    let mut connection = PgConnection::connect_with(&options)
        .await
        .map_err(|e| open_error(hint(&e)))?;
    let force = if command.starts_with("DROP") {
        " WITH (FORCE)"
    } else {
        ""
    };
    sqlx::query(sqlx::AssertSqlSafe(format!("{command} \"{name}\"{force}")))
        .execute(&mut connection)
        .await
        .map_err(StoreError::query("creating or dropping a database"))?;
    connection
        .close()
        .await
        .map_err(StoreError::query("closing a connection"))
}

/// `server_url` with its database replaced by `name`.
fn database_url(server_url: &str, name: &str) -> Result<String, StoreError> {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority = base
        .split_once("://")
        .map(|(scheme, rest)| scheme.len() + 3 + rest.find('/').unwrap_or(rest.len()))
        .ok_or_else(|| StoreError::UnsupportedUrl(redacted(server_url)))?;
    let mut url = format!("{}/{name}", &base[..authority]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

#[async_trait]
impl Store for PostgresStore {
    fn dialect(&self) -> &'static str {
        "postgres"
    }

    async fn component_insert(
        &self,
        params: ComponentInsert,
    ) -> Result<ComponentInserted, StoreError> {
        components::insert(&self.pool, params).await
    }

    async fn component_resolve(
        &self,
        params: ComponentResolve,
    ) -> Result<ComponentLookup, StoreError> {
        components::resolve(&self.pool, params).await
    }

    async fn component_get_bytes(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        components::get_bytes(&self.pool, digest).await
    }

    async fn component_list(&self, tenant: &str) -> Result<Vec<ComponentVersion>, StoreError> {
        components::list(&self.pool, tenant).await
    }

    async fn component_delete(
        &self,
        params: ComponentDelete,
    ) -> Result<ComponentDeleted, StoreError> {
        components::delete(&self.pool, params).await
    }

    async fn component_config_set(&self, params: ComponentConfigSet) -> Result<(), StoreError> {
        config::set(&self.pool, params).await
    }

    async fn component_config_delete(
        &self,
        tenant: &str,
        component: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        super::capabilities::postgres::delete(&self.pool, tenant, component, key).await
    }

    async fn component_config_get_all(
        &self,
        tenant: &str,
        component: &str,
    ) -> Result<BTreeMap<String, ConfigValue>, StoreError> {
        super::capabilities::postgres::get_all(&self.pool, tenant, component).await
    }

    async fn component_grant_change(&self, grant: ComponentGrant) -> Result<bool, StoreError> {
        super::capabilities::postgres::grant_change(&self.pool, &grant).await
    }

    async fn component_grant_list(
        &self,
        tenant: &str,
        component: &str,
    ) -> Result<Vec<OriginPattern>, StoreError> {
        super::capabilities::postgres::grant_list(&self.pool, tenant, component).await
    }

    async fn job_insert_many(&self, jobs: &[NewJob]) -> Result<Vec<Duplicate>, StoreError> {
        let mut connection = self
            .pool
            .acquire()
            .await
            .map_err(StoreError::query("enqueuing jobs"))?;
        let duplicates = jobs::insert_many(&mut connection, jobs).await?;
        self.wake.wake();
        Ok(duplicates)
    }

    async fn job_get(&self, tenant: &str, id: &str) -> Result<Option<TaskResult>, StoreError> {
        results::get(&self.pool, tenant, id).await
    }

    async fn job_list(&self, params: JobList) -> Result<JobListed, StoreError> {
        jobs::list(&self.pool, params).await
    }

    async fn job_retry(
        &self,
        tenant: &str,
        selection: RetrySelection,
    ) -> Result<Vec<RetryOutcome>, StoreError> {
        let outcomes = jobs::retry(&self.pool, tenant, selection).await?;
        self.wake.wake();
        Ok(outcomes)
    }

    async fn job_claim(&self, params: JobClaim) -> Result<Vec<ClaimedJob>, StoreError> {
        jobs::claim(&self.pool, &self.lone_likely, params).await
    }

    async fn job_complete_many(
        &self,
        completions: &[Completion],
    ) -> Result<Vec<String>, StoreError> {
        let applied = jobs::complete_many(&self.pool, completions).await?;
        bump(&self.finished);
        Ok(applied)
    }

    async fn job_renew_leases(&self, params: LeaseRenewal) -> Result<u64, StoreError> {
        jobs::renew_leases(&self.pool, params).await
    }

    async fn job_release_many(
        &self,
        worker_id: &str,
        claims: &[ClaimRef],
    ) -> Result<u64, StoreError> {
        let released = jobs::release_many(&self.pool, worker_id, claims).await?;
        self.wake.wake();
        Ok(released)
    }

    async fn job_get_stuck(&self, limit: u32) -> Result<Vec<StuckJob>, StoreError> {
        jobs::get_stuck(&self.pool, limit).await
    }

    async fn job_cancel(&self, tenant: &str, id: &str) -> Result<CancelOutcome, StoreError> {
        jobs::cancel(&self.pool, tenant, id).await
    }

    async fn job_prune(&self, params: JobPrune) -> Result<PruneReport, StoreError> {
        jobs::prune(&self.pool, params).await
    }

    async fn job_prune_batch(&self, batch: PruneBatch) -> Result<PruneReport, StoreError> {
        pruner::prune_batch(&self.pool, batch).await
    }

    async fn usage_days(
        &self,
        tenant: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<UsageDay>, StoreError> {
        tenants::usage_days(&self.pool, tenant, from, to).await
    }

    async fn queue_stats(&self, tenant: Option<&str>) -> Result<Vec<QueueStat>, StoreError> {
        jobs::queue_stats(&self.pool, tenant).await
    }

    async fn job_count_finished(
        &self,
        params: JobCountFinished,
    ) -> Result<Vec<FinishedBucket>, StoreError> {
        jobs::count_finished(&self.pool, params).await
    }

    async fn queue_set_paused(
        &self,
        tenant: &str,
        queue: &str,
        paused: bool,
    ) -> Result<bool, StoreError> {
        let changed = queues::set_paused(&self.pool, tenant, queue, paused).await?;
        if changed && !paused {
            self.wake.wake();
        }
        Ok(changed)
    }

    async fn schedule_put(&self, put: SchedulePut) -> Result<(), StoreError> {
        schedules::put(&self.pool, put).await
    }

    async fn schedule_list(&self, tenant: Option<&str>) -> Result<Vec<ScheduleRecord>, StoreError> {
        schedules::list(&self.pool, tenant).await
    }

    async fn schedule_delete(
        &self,
        tenant: &str,
        name: &str,
        source: Option<ScheduleSource>,
    ) -> Result<bool, StoreError> {
        schedules::delete(&self.pool, tenant, name, source).await
    }

    async fn schedule_set_paused(
        &self,
        tenant: &str,
        name: &str,
        paused: bool,
    ) -> Result<bool, StoreError> {
        schedules::set_paused(&self.pool, tenant, name, paused).await
    }

    async fn schedule_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        schedules::due(&self.pool, now, limit).await
    }

    async fn schedule_advance(&self, advance: ScheduleAdvance) -> Result<bool, StoreError> {
        schedules::advance(&self.pool, advance).await
    }

    async fn queue_paused(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        queues::paused(&self.pool, tenant).await
    }

    async fn event_list(
        &self,
        tenant: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<EventPage, StoreError> {
        events::list(&self.pool, tenant, after, limit).await
    }

    async fn tenant_create(&self, name: &str) -> Result<bool, StoreError> {
        tenants::create(&self.pool, name).await
    }

    async fn tenant_get(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        tenants::get(&self.pool, name).await
    }

    async fn tenant_list(&self) -> Result<Vec<Tenant>, StoreError> {
        tenants::list(&self.pool).await
    }

    async fn tenant_set_http_ceiling(
        &self,
        name: &str,
        ceiling: &[OriginPattern],
    ) -> Result<bool, StoreError> {
        tenants::set_http_ceiling(&self.pool, name, ceiling).await
    }

    async fn tenant_set_quotas(&self, name: &str, quotas: &Quotas) -> Result<bool, StoreError> {
        tenants::set_quotas(&self.pool, name, quotas).await
    }

    async fn tenant_delete(&self, name: &str) -> Result<Option<TenantDeleted>, StoreError> {
        tenants::delete(&self.pool, name).await
    }

    async fn token_insert(&self, token: NewToken) -> Result<(), StoreError> {
        tenants::token_insert(&self.pool, token).await
    }

    async fn token_get(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        tenants::token_get(&self.pool, id).await
    }

    async fn token_list(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        tenants::token_list(&self.pool, tenant).await
    }

    async fn token_revoke(&self, id: &str) -> Result<bool, StoreError> {
        tenants::token_revoke(&self.pool, id).await
    }

    async fn worker_register(&self, worker: &WorkerRegistration) -> Result<(), StoreError> {
        workers::register(&self.pool, worker).await
    }

    async fn worker_heartbeat(&self, beat: WorkerHeartbeat<'_>) -> Result<bool, StoreError> {
        workers::heartbeat(&self.pool, beat).await
    }

    async fn worker_list(&self, tenant: Option<&str>) -> Result<Vec<WorkerRecord>, StoreError> {
        workers::list(&self.pool, tenant).await
    }

    async fn close(&self) {
        self.listener.abort();
        self.listener_pool.close().await;
        self.pool.close().await;
    }

    async fn wait_for_jobs(&self, heard: &mut Heard, timeout: Duration) {
        // Polling is the fallback: a notification that never comes costs one interval.
        self.wake.wait(heard, timeout).await;
    }

    fn completions(&self) -> watch::Receiver<u64> {
        self.finished.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redacted("postgres://me:secret@db:5432/app?sslmode=require"),
            "postgres://me:***@db:5432/app?sslmode=require"
        );
        assert_eq!(redacted("postgres://me@db/app"), "postgres://me@db/app");
        assert_eq!(redacted("postgres:///app"), "postgres:///app");
    }

    #[test]
    fn database_urls_keep_server_and_options() {
        let url = |server| database_url(server, "fresh").unwrap();
        assert_eq!(
            url("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/fresh"
        );
        assert_eq!(
            url("postgres://u:p@h/db?sslmode=disable"),
            "postgres://u:p@h/fresh?sslmode=disable"
        );
        assert_eq!(url("postgresql://h:5433"), "postgresql://h:5433/fresh");
    }
}
