//! Queries on `tasks` (jobs) and `task_attempts`.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::Utc;
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::{Row, SqliteConnection, SqlitePool};
use wasmtasks_sandbox::LimitOverrides;

use super::{from_micros, micros, one_trip};
use crate::store::fair::{self, Offer};
use crate::store::nul::{storable, storable_value};
use crate::store::{
    CancelOutcome, ClaimRef, ClaimedJob, Completion, Duplicate, FinishedBucket, JobClaim,
    JobCountFinished, JobList, JobListed, JobPrune, JobSummary, LeaseRenewal, NewJob, NextState,
    PruneReport, QueueFilter, QueueStat, Quotas, RetryOutcome, RetrySelection, StoreError,
    StuckJob, check_queued, finished_buckets_from, in_django_order, parse_status, prune_report,
    queue_stats_from, retry_outcomes,
};

pub(super) fn json<T: Serialize>(value: &T, context: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        context,
        message: e.to_string(),
    })
}

fn raw(text: &str, context: &'static str) -> Result<Box<RawValue>, StoreError> {
    RawValue::from_string(text.to_owned()).map_err(|e| StoreError::Corrupt {
        context,
        message: e.to_string(),
    })
}

/// One job of an insert batch, as the JSON document `jsonb_each` expands.
#[derive(Serialize)]
struct JobDocument<'a> {
    id: &'a str,
    tenant: &'a str,
    task_path: &'a str,
    component: &'a str,
    task_name: &'a str,
    digest: &'a str,
    args: Box<RawValue>,
    kwargs: Box<RawValue>,
    priority: i32,
    queue_name: &'a str,
    backend: &'a str,
    takes_context: bool,
    run_after: Option<i64>,
    enqueued_at: i64,
    max_attempts: u32,
    backoff_factor: f64,
    max_backoff: i64,
    limits: String,
    unique_key: Option<&'a str>,
    unique_states: u8,
}

/// The columns an insert writes, and the values `jsonb_each` gives them.
macro_rules! insert_jobs {
    () => {
        "INSERT INTO tasks (id, tenant, task_path, component, task_name, component_digest, status,
            args, kwargs, priority, queue_name, backend, takes_context, run_after, available_at,
            enqueued_at, max_attempts, backoff_factor, max_backoff, limits, unique_key, unique_states)
         SELECT j ->> 'id', j ->> 'tenant', j ->> 'task_path', j ->> 'component', j ->> 'task_name',
            j ->> 'digest', 'READY', j -> 'args', j -> 'kwargs', j ->> 'priority', j ->> 'queue_name',
            j ->> 'backend', j ->> 'takes_context', j ->> 'run_after',
            max(?1, coalesce(j ->> 'run_after', ?1)), j ->> 'enqueued_at', j ->> 'max_attempts',
            j ->> 'backoff_factor', j ->> 'max_backoff', j ->> 'limits', j ->> 'unique_key',
            j ->> 'unique_states'
         FROM (SELECT value AS j FROM jsonb_each(?2)) WHERE true"
    };
}

pub(super) async fn insert_many(
    pool: &SqlitePool,
    jobs: &[NewJob],
) -> Result<Vec<Duplicate>, StoreError> {
    let context = "enqueuing jobs";
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let documents = jobs
        .iter()
        .map(|job| {
            Ok(JobDocument {
                id: &job.id,
                tenant: &job.tenant,
                task_path: &job.task_path,
                component: &job.component,
                task_name: &job.task_name,
                digest: &job.component_digest,
                args: raw(&job.args, context)?,
                kwargs: raw(&job.kwargs, context)?,
                priority: job.priority,
                queue_name: &job.queue_name,
                backend: &job.backend,
                takes_context: job.takes_context,
                run_after: job.run_after.map(micros),
                enqueued_at: micros(job.enqueued_at),
                max_attempts: job.max_attempts,
                backoff_factor: job.backoff_factor,
                max_backoff: job.max_backoff.as_micros() as i64,
                limits: json(&job.limits, context)?,
                unique_key: job.unique_key.as_deref(),
                unique_states: job.unique_states,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let now = micros(Utc::now());
    let documents = json(&documents, context)?;
    let unique = jobs.iter().any(|job| job.unique_key.is_some());
    if !unique {
        // Nearly always no tenant of the jobs has a `max_queued`: one statement
        // checks that and inserts them all, or (if one has) inserts none.
        let inserted = sqlx::query(concat!(
            insert_jobs!(),
            " AND NOT EXISTS (SELECT 1 FROM tenants WHERE max_queued IS NOT NULL
                 AND name IN (SELECT value ->> 'tenant' FROM jsonb_each(?2)))"
        ))
        .bind(now)
        .bind(&documents)
        .execute(pool)
        .await
        .map_err(StoreError::query(context))?;
        if inserted.rows_affected() > 0 {
            return Ok(Vec::new());
        }
    }
    let limited = queued_limits(pool, jobs).await?;
    if limited.is_empty() && !unique {
        // The limit was lifted since the statement above looked.
        sqlx::query(insert_jobs!())
            .bind(now)
            .bind(documents)
            .execute(pool)
            .await
            .map_err(StoreError::query(context))?;
        return Ok(Vec::new());
    }
    // A tenant's READY jobs are counted and the new ones inserted under one write
    // lock, so concurrent enqueues cannot pass `max_queued` together.
    let mut connection = pool.acquire().await.map_err(StoreError::query(context))?;
    let mut tx = sqlx::Connection::begin_with(&mut *connection, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::query(context))?;
    for (tenant, max_queued) in &limited {
        let ready: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE tenant = ?1 AND status = 'READY'
                LIMIT ?2)",
        )
        .bind(tenant)
        .bind(max_queued.saturating_add(1))
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query(context))?;
        check_queued(tenant, *max_queued, ready as u64, jobs)?;
    }
    if !unique {
        sqlx::query(insert_jobs!())
            .bind(now)
            .bind(documents)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(context))?;
        tx.commit().await.map_err(StoreError::query(context))?;
        return Ok(Vec::new());
    }
    // Unique jobs: a duplicate is skipped, then the job that holds its key is read
    // in the same transaction.
    let inserted: Vec<String> = sqlx::query_scalar(concat!(
        insert_jobs!(),
        " ON CONFLICT (tenant, unique_key) WHERE ",
        blocking!(),
        " DO NOTHING RETURNING id"
    ))
    .bind(now)
    .bind(documents)
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    let mut duplicates = Vec::new();
    for job in jobs.iter().filter(|job| !inserted.contains(&job.id)) {
        let existing: String = sqlx::query_scalar(concat!(
            "SELECT id FROM tasks WHERE tenant = ?1 AND unique_key = ?2 AND ",
            blocking!()
        ))
        .bind(&job.tenant)
        .bind(&job.unique_key)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query(context))?;
        duplicates.push(Duplicate {
            id: job.id.clone(),
            existing,
        });
    }
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(duplicates)
}

/// The `max_queued` of each tenant of `jobs` that has one.
async fn queued_limits(
    pool: &SqlitePool,
    jobs: &[NewJob],
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut tenants: Vec<&str> = jobs.iter().map(|job| job.tenant.as_str()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    sqlx::query_as(
        "SELECT name, max_queued FROM tenants
         WHERE name IN (SELECT value FROM jsonb_each(?1)) AND max_queued IS NOT NULL",
    )
    .bind(json(&tenants, "enqueuing jobs")?)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("enqueuing jobs"))
}

/// What a claim decides before it writes: the jobs it takes and the tenants'
/// ceilings.
struct Chosen {
    picked: Vec<String>,
    ceilings: HashMap<String, LimitOverrides>,
    /// Whether a tenant with READY jobs has a `max_running`.
    limited: bool,
}

/// Chooses the jobs a claim takes, through `connection`: reads the tenants with
/// READY jobs, asks each for its share of jobs, and for the rest of the offers
/// [`fair::pick`] cannot decide without.
async fn choose(
    connection: &mut SqliteConnection,
    params: &JobClaim,
    now: i64,
) -> Result<Chosen, StoreError> {
    let context = "claiming jobs";
    let limit = params.limit as usize;
    let tenants = params
        .tenants
        .as_ref()
        .map(|t| json(t, context))
        .transpose()?;
    let tenants_with_jobs = sqlx::query(
        "WITH RECURSIVE ready(name) AS (
            SELECT min(tenant) FROM tasks INDEXED BY tasks_ready_by_tenant WHERE status = 'READY'
            UNION ALL
            SELECT (SELECT min(tenant) FROM tasks INDEXED BY tasks_ready_by_tenant
                    WHERE status = 'READY' AND tenant > ready.name)
            FROM ready WHERE ready.name IS NOT NULL)
         SELECT ready.name, coalesce(t.weight, 1) AS weight, t.max_running,
            (SELECT count(*) FROM tasks INDEXED BY tasks_running
             WHERE status = 'RUNNING' AND tenant = ready.name) AS running,
            t.max_fuel, t.max_timeout_ms, t.max_memory_bytes
         FROM ready LEFT JOIN tenants t ON t.name = ready.name
         WHERE ready.name IS NOT NULL
           AND (?1 IS NULL OR ready.name IN (SELECT value FROM jsonb_each(?1)))",
    )
    .bind(&tenants)
    .fetch_all(&mut *connection)
    .await
    .map_err(StoreError::query(context))?;
    let mut names = Vec::with_capacity(tenants_with_jobs.len());
    let mut offers = Vec::with_capacity(tenants_with_jobs.len());
    let mut ceilings = HashMap::new();
    let mut limited = false;
    for row in &tenants_with_jobs {
        let get = |e| StoreError::Query { context, cause: e };
        let tenant: String = row.try_get("name").map_err(get)?;
        let weight: i64 = row.try_get("weight").map_err(get)?;
        let max_running: Option<i64> = row.try_get("max_running").map_err(get)?;
        let running: i64 = row.try_get("running").map_err(get)?;
        let ceiling = |column| -> Result<Option<u64>, StoreError> {
            Ok(row
                .try_get::<Option<i64>, _>(column)
                .map_err(get)?
                .map(|n| n.max(0) as u64))
        };
        let quotas = Quotas {
            max_fuel: ceiling("max_fuel")?,
            max_timeout_ms: ceiling("max_timeout_ms")?,
            max_memory_bytes: ceiling("max_memory_bytes")?,
            ..Quotas::default()
        };
        ceilings.insert(tenant.clone(), quotas.ceilings());
        limited |= max_running.is_some();
        let room = max_running.map_or(limit, |max| (max - running).clamp(0, limit as i64) as usize);
        if room == 0 {
            continue;
        }
        names.push(tenant);
        offers.push(Offer {
            weight: u32::try_from(weight).unwrap_or(1),
            running: running.max(0) as u64,
            room,
            asked: 0,
            jobs: Vec::new(),
        });
    }
    fair::ask_shares(&mut offers, limit);
    let queues = QueueSet::of(params)?;
    for (offer, tenant) in offers.iter_mut().zip(&names) {
        offer.jobs = next_jobs(connection, &queues, now, tenant, offer.asked).await?;
    }
    let picked = loop {
        if let Some(picked) = fair::pick(&offers, limit) {
            break picked;
        }
        for (offer, tenant) in offers.iter_mut().zip(&names) {
            if !offer.complete() {
                offer.asked = offer.room;
                offer.jobs = next_jobs(connection, &queues, now, tenant, offer.room).await?;
            }
        }
    };
    Ok(Chosen {
        picked,
        ceilings,
        limited,
    })
}

/// Which queues a claim takes jobs from, as [`next_jobs`] binds it: the queue
/// names as one JSON array, and whether they are the only ones (or excluded).
struct QueueSet {
    names: String,
    only: bool,
}

impl QueueSet {
    /// The claim's queue filter, serialised once for all its tenants' reads.
    fn of(params: &JobClaim) -> Result<Self, StoreError> {
        let (only, names) = match &params.queues {
            QueueFilter::Only(queues) => (true, queues),
            QueueFilter::All { exclude } => (false, exclude),
        };
        Ok(QueueSet {
            names: json(names, "claiming jobs")?,
            only,
        })
    }
}

/// The next `count` jobs of `tenant` in `queues` that a claim may take now, in
/// Django's order.
async fn next_jobs(
    connection: &mut SqliteConnection,
    queues: &QueueSet,
    now: i64,
    tenant: &str,
    count: usize,
) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT id FROM tasks INDEXED BY tasks_ready_by_tenant
         WHERE tenant = ?1 AND status = 'READY' AND available_at <= ?2
           AND (queue_name IN (SELECT value FROM jsonb_each(?3))) = ?4
           AND NOT EXISTS (SELECT 1 FROM queue_pauses p
                           WHERE p.tenant = tasks.tenant AND p.queue_name = tasks.queue_name)
         ORDER BY priority DESC, available_at, id
         LIMIT ?5",
    )
    .bind(tenant)
    .bind(now)
    .bind(&queues.names)
    .bind(queues.only)
    .bind(count as i64)
    .fetch_all(&mut *connection)
    .await
    .map_err(StoreError::query("claiming jobs"))
}

/// Claims fairly between tenants (see [`crate::store::Store::job_claim`]).
///
/// The offers are read on a reader connection, without the write lock, and the
/// chosen jobs claimed by one UPDATE that takes only those still READY: a claim
/// holds SQLite's write lock no longer than one statement, as a single-queue claim
/// did (one statement doing it all, as on PostgreSQL, cost ~200 us a claim: the
/// planner materialises the per-tenant subqueries). When a tenant with READY jobs
/// has a `max_running`, the offers are read and the jobs claimed in one write
/// transaction instead, so two workers cannot both take its last slot. So it is
/// too when another claim took some of the chosen jobs first: the rest of the
/// slots are then filled under the write lock, and a claim comes back short only
/// when fewer jobs were ready (a `--batch` worker stops at a short claim).
pub(super) async fn claim(
    writer: &SqlitePool,
    reader: &SqlitePool,
    mut params: JobClaim,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let context = "claiming jobs";
    let now = micros(Utc::now());
    let mut connection = reader.acquire().await.map_err(StoreError::query(context))?;
    let chosen = choose(&mut connection, &params, now).await?;
    drop(connection);
    if chosen.limited {
        return claim_locked(writer, &params, now).await;
    }
    let mut connection = writer.acquire().await.map_err(StoreError::query(context))?;
    let mut claimed = take(
        &mut connection,
        &params,
        now,
        &chosen.picked,
        &chosen.ceilings,
    )
    .await?;
    drop(connection);
    if claimed.len() < chosen.picked.len() {
        params.limit -= claimed.len() as u32;
        match claim_locked(writer, &params, now).await {
            Ok(rest) => claimed.extend(rest),
            Err(error) if claimed.is_empty() => return Err(error),
            // The jobs taken already are committed to this worker: hand them over.
            Err(error) => {
                tracing::warn!(%error, "filling a claim failed; starting the jobs it has")
            }
        }
    }
    Ok(claimed)
}

/// Reads the offers and claims the jobs in one write transaction.
async fn claim_locked(
    writer: &SqlitePool,
    params: &JobClaim,
    now: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let context = "claiming jobs";
    let mut connection = writer.acquire().await.map_err(StoreError::query(context))?;
    let mut tx = sqlx::Connection::begin_with(&mut *connection, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::query(context))?;
    let chosen = choose(&mut tx, params, now).await?;
    let claimed = take(&mut tx, params, now, &chosen.picked, &chosen.ceilings).await?;
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(claimed)
}

/// Claims the jobs `picked` that are still READY, with the tenants' `ceilings`
/// and the count of capability changes.
async fn take(
    connection: &mut SqliteConnection,
    params: &JobClaim,
    now: i64,
    picked: &[String],
    ceilings: &HashMap<String, LimitOverrides>,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let context = "claiming jobs";
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "UPDATE tasks SET status = 'RUNNING', attempt = attempt + 1, lease_owner = ?1,
            lease_expires_at = ?2 + ?3, last_attempted_at = ?2, started_at = coalesce(started_at, ?2)
         WHERE id IN (SELECT value FROM jsonb_each(?4)) AND status = 'READY'
         RETURNING id, tenant, task_path, component, task_name, component_digest, args, kwargs, priority,
            queue_name, attempt, retry_base + max_attempts AS max_attempts, backoff_factor,
            max_backoff, limits, available_at,
            (SELECT generation FROM capability_changes WHERE id = 1) AS capabilities_generation",
    )
    .bind(&params.worker_id)
    .bind(now)
    .bind(params.lease.as_micros() as i64)
    .bind(json(&picked, context)?)
    .fetch_all(&mut *connection)
    .await
    .map_err(StoreError::query(context))?;
    let mut claimed = Vec::with_capacity(rows.len());
    let mut order = Vec::with_capacity(rows.len());
    for row in &rows {
        let get = |e| StoreError::Query { context, cause: e };
        let limits: String = row.try_get("limits").map_err(get)?;
        order.push(row.try_get::<i64, _>("available_at").map_err(get)?);
        let tenant: String = row.try_get("tenant").map_err(get)?;
        claimed.push(ClaimedJob {
            id: row.try_get("id").map_err(get)?,
            ceilings: ceilings.get(&tenant).copied().unwrap_or_default(),
            tenant,
            task_path: row.try_get("task_path").map_err(get)?,
            component: row.try_get("component").map_err(get)?,
            task_name: row.try_get("task_name").map_err(get)?,
            component_digest: row.try_get("component_digest").map_err(get)?,
            args: row.try_get("args").map_err(get)?,
            kwargs: row.try_get("kwargs").map_err(get)?,
            priority: row.try_get("priority").map_err(get)?,
            queue_name: row.try_get("queue_name").map_err(get)?,
            attempt: row.try_get::<i64, _>("attempt").map_err(get)? as u32,
            max_attempts: row.try_get::<i64, _>("max_attempts").map_err(get)? as u32,
            backoff_factor: row.try_get("backoff_factor").map_err(get)?,
            max_backoff: duration(row.try_get("max_backoff").map_err(get)?),
            limits: serde_json::from_str(&limits).map_err(|e| StoreError::Corrupt {
                context,
                message: e.to_string(),
            })?,
            capabilities_generation: row.try_get("capabilities_generation").map_err(get)?,
        });
    }
    // RETURNING does not keep the subquery's order; restore Django's.
    Ok(in_django_order(order.into_iter().zip(claimed).collect()))
}

/// One completion, as the JSON document `jsonb_each` expands.
#[derive(Serialize)]
struct CompletionDocument<'a> {
    id: &'a str,
    attempt: u32,
    worker_id: &'a str,
    status: &'static str,
    available_at: Option<i64>,
    finished_at: Option<i64>,
    /// Wrapped in an array, so a task that returned `null` is told apart from no
    /// return value (`->` reads a bare `null` as the JSON text `null`).
    return_value: Option<[Cow<'a, serde_json::Value>; 1]>,
    only_if_expired: bool,
    attempt_status: &'static str,
    started_at: i64,
    attempt_finished_at: i64,
    exception_class_path: Option<Cow<'a, str>>,
    traceback: Option<Cow<'a, str>>,
    fuel_consumed: u64,
    peak_memory_bytes: u64,
    duration_us: u64,
    http_requests: u64,
    stdout: Cow<'a, str>,
    stderr: Cow<'a, str>,
}

pub(super) async fn complete_many(
    pool: &SqlitePool,
    completions: &[Completion],
) -> Result<Vec<String>, StoreError> {
    let context = "recording finished attempts";
    if completions.is_empty() {
        return Ok(Vec::new());
    }
    let now = micros(Utc::now());
    let documents: Vec<CompletionDocument> = completions
        .iter()
        .map(|c| {
            let finished_at = micros(c.record.finished_at);
            let (status, available_at, job_finished_at, return_value) = match &c.next {
                NextState::Successful(value) => (
                    "SUCCESSFUL",
                    None,
                    Some(finished_at),
                    Some([storable_value(value)]),
                ),
                NextState::Failed => ("FAILED", None, Some(finished_at), None),
                NextState::Retry(delay) => {
                    ("READY", Some(now + delay.as_micros() as i64), None, None)
                }
            };
            CompletionDocument {
                id: &c.id,
                attempt: c.record.attempt,
                worker_id: &c.worker_id,
                status,
                available_at,
                finished_at: job_finished_at,
                return_value,
                only_if_expired: c.only_if_expired,
                attempt_status: c.record.status.as_str(),
                started_at: micros(c.record.started_at),
                attempt_finished_at: finished_at,
                exception_class_path: c
                    .record
                    .error
                    .as_ref()
                    .map(|e| storable(&e.exception_class_path)),
                traceback: c.record.error.as_ref().map(|e| storable(&e.traceback)),
                fuel_consumed: c.record.metrics.fuel_consumed,
                peak_memory_bytes: c.record.metrics.peak_memory_bytes,
                duration_us: c.record.metrics.duration_us,
                http_requests: c.record.metrics.http_requests,
                stdout: storable(&c.record.stdout),
                stderr: storable(&c.record.stderr),
            }
        })
        .collect();
    let documents = json(&documents, context)?;
    let connection = pool.acquire().await.map_err(StoreError::query(context))?;
    // The fence: the same attempt, still RUNNING, still leased by this worker (and,
    // for a rescue, with its lease expired). A late writer changes nothing. Both
    // statements check it in one write transaction, the attempts before the jobs
    // change, so they agree on which completions apply.
    let rows = one_trip::transaction(
        connection,
        sqlx::query(
            "BEGIN IMMEDIATE;
             INSERT INTO task_attempts (task_id, attempt, tenant, worker_id, started_at, finished_at,
                status, exception_class_path, traceback, fuel_consumed, peak_memory_bytes,
                duration_us, http_requests, stdout, stderr)
             SELECT c.value ->> 'id', c.value ->> 'attempt', t.tenant, c.value ->> 'worker_id',
                c.value ->> 'started_at', c.value ->> 'attempt_finished_at', c.value ->> 'attempt_status',
                c.value ->> 'exception_class_path', c.value ->> 'traceback', c.value ->> 'fuel_consumed',
                c.value ->> 'peak_memory_bytes', c.value ->> 'duration_us', c.value ->> 'http_requests',
                c.value ->> 'stdout', c.value ->> 'stderr'
             FROM jsonb_each(?1) AS c JOIN tasks t ON t.id = c.value ->> 'id'
             WHERE t.attempt = c.value ->> 'attempt' AND t.status = 'RUNNING'
               AND t.lease_owner = c.value ->> 'worker_id'
               AND (c.value ->> 'only_if_expired' = 0 OR t.lease_expires_at < ?2);
             UPDATE tasks SET status = c.status,
                available_at = coalesce(c.available_at, tasks.available_at),
                finished_at = c.finished_at, return_value = c.return_value,
                lease_owner = NULL, lease_expires_at = NULL
             FROM (SELECT value ->> 'id' AS id, value ->> 'attempt' AS attempt,
                      value ->> 'worker_id' AS worker_id, value ->> 'status' AS status,
                      value ->> 'available_at' AS available_at, value ->> 'finished_at' AS finished_at,
                      value -> 'return_value' -> 0 AS return_value, value ->> 'only_if_expired' AS only_if_expired
                   FROM jsonb_each(?1)) AS c
             WHERE tasks.id = c.id AND tasks.attempt = c.attempt AND tasks.status = 'RUNNING'
               AND tasks.lease_owner = c.worker_id
               AND (c.only_if_expired = 0 OR tasks.lease_expires_at < ?2)
             RETURNING tasks.id;
             COMMIT;",
        )
        .bind(documents)
        .bind(now),
        context,
    )
    .await?;
    rows.iter()
        .map(|row| row.try_get(0).map_err(StoreError::query(context)))
        .collect()
}

fn claims_json(claims: &[ClaimRef], context: &'static str) -> Result<String, StoreError> {
    let pairs: Vec<(&str, u32)> = claims.iter().map(|c| (c.id.as_str(), c.attempt)).collect();
    json(&pairs, context)
}

pub(super) async fn renew_leases(
    pool: &SqlitePool,
    params: LeaseRenewal,
) -> Result<u64, StoreError> {
    let context = "renewing leases";
    if params.jobs.is_empty() {
        return Ok(0);
    }
    let result = sqlx::query(
        "UPDATE tasks SET lease_expires_at = ?1
         FROM (SELECT value ->> 0 AS id, value ->> 1 AS attempt FROM jsonb_each(?3)) AS r
         WHERE tasks.id = r.id AND tasks.attempt = r.attempt AND tasks.status = 'RUNNING'
           AND tasks.lease_owner = ?2",
    )
    .bind(micros(Utc::now()) + params.lease.as_micros() as i64)
    .bind(&params.worker_id)
    .bind(claims_json(&params.jobs, context)?)
    .execute(pool)
    .await
    .map_err(StoreError::query(context))?;
    Ok(result.rows_affected())
}

pub(super) async fn release_many(
    pool: &SqlitePool,
    worker_id: &str,
    claims: &[ClaimRef],
) -> Result<u64, StoreError> {
    let context = "releasing interrupted jobs";
    if claims.is_empty() {
        return Ok(0);
    }
    let result = sqlx::query(
        "UPDATE tasks SET status = 'READY', attempt = tasks.attempt - 1, available_at = ?1,
            lease_owner = NULL, lease_expires_at = NULL,
            started_at = CASE WHEN tasks.attempt = 1 THEN NULL ELSE started_at END,
            last_attempted_at = CASE WHEN tasks.attempt = 1 THEN NULL ELSE last_attempted_at END
         FROM (SELECT value ->> 0 AS id, value ->> 1 AS attempt FROM jsonb_each(?3)) AS r
         WHERE tasks.id = r.id AND tasks.attempt = r.attempt AND tasks.status = 'RUNNING'
           AND tasks.lease_owner = ?2",
    )
    .bind(micros(Utc::now()))
    .bind(worker_id)
    .bind(claims_json(claims, context)?)
    .execute(pool)
    .await
    .map_err(StoreError::query(context))?;
    Ok(result.rows_affected())
}

pub(super) async fn get_stuck(pool: &SqlitePool, limit: u32) -> Result<Vec<StuckJob>, StoreError> {
    let context = "looking for expired leases";
    let rows = sqlx::query(
        "SELECT id, tenant, queue_name, attempt, retry_base + max_attempts AS max_attempts,
            backoff_factor, max_backoff, lease_owner, last_attempted_at
         FROM tasks WHERE status = 'RUNNING' AND lease_expires_at < ?1
         ORDER BY lease_expires_at LIMIT ?2",
    )
    .bind(micros(Utc::now()))
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(context))?;
    rows.iter()
        .map(|row| {
            let get = |e| StoreError::Query { context, cause: e };
            Ok(StuckJob {
                id: row.try_get("id").map_err(get)?,
                tenant: row.try_get("tenant").map_err(get)?,
                queue_name: row.try_get("queue_name").map_err(get)?,
                attempt: row.try_get::<i64, _>("attempt").map_err(get)? as u32,
                max_attempts: row.try_get::<i64, _>("max_attempts").map_err(get)? as u32,
                backoff_factor: row.try_get("backoff_factor").map_err(get)?,
                max_backoff: duration(row.try_get("max_backoff").map_err(get)?),
                lease_owner: row.try_get("lease_owner").map_err(get)?,
                last_attempted_at: from_micros(row.try_get("last_attempted_at").map_err(get)?),
            })
        })
        .collect()
}

pub(super) async fn cancel(
    pool: &SqlitePool,
    tenant: &str,
    id: &str,
) -> Result<CancelOutcome, StoreError> {
    let context = "cancelling a job";
    let status: Option<String> = sqlx::query_scalar(
        "UPDATE tasks SET status = 'CANCELLED', finished_at = ?3
         WHERE tenant = ?1 AND id = ?2 AND status = 'READY' RETURNING status",
    )
    .bind(tenant)
    .bind(id)
    .bind(micros(Utc::now()))
    .fetch_optional(pool)
    .await
    .map_err(StoreError::query(context))?;
    if status.is_some() {
        return Ok(CancelOutcome::Cancelled);
    }
    let current: Option<String> =
        sqlx::query_scalar("SELECT status FROM tasks WHERE tenant = ?1 AND id = ?2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query(context))?;
    match current {
        None => Ok(CancelOutcome::NotFound),
        Some(status) => Ok(CancelOutcome::NotReady(parse_status(&status, context)?)),
    }
}

/// The jobs a prune removes; shared by the count (dry run) and the delete.
macro_rules! prune_filter {
    () => {
        "tenant = ?1 AND ((status IN ('SUCCESSFUL', 'CANCELLED') AND finished_at < ?2)
            OR (status = 'FAILED' AND finished_at < ?3))
          AND (?4 IS NULL OR queue_name IN (SELECT value FROM jsonb_each(?4)))"
    };
}

/// Component versions that are not their name's newest and that no job pins but
/// the ones the prune deletes: the same count before the delete (dry run) as after.
macro_rules! orphaned_versions {
    () => {
        concat!(
            "FROM component_versions AS v
         WHERE v.tenant = ?1
           AND v.version < (SELECT max(w.version) FROM component_versions w
                            WHERE w.tenant = v.tenant AND w.name = v.name)
           AND NOT EXISTS (SELECT 1 FROM tasks WHERE tasks.tenant = v.tenant
                           AND tasks.component = v.name AND tasks.component_digest = v.digest
                           AND NOT (",
            prune_filter!(),
            "))"
        )
    };
}

pub(super) async fn prune(pool: &SqlitePool, params: JobPrune) -> Result<PruneReport, StoreError> {
    let context = "pruning results";
    let queues = params
        .queues
        .as_ref()
        .map(|q| json(q, context))
        .transpose()?;
    let finished_before = micros(params.finished_before);
    let failed_before = micros(params.failed_before);
    let mut connection = pool.acquire().await.map_err(StoreError::query(context))?;
    let mut tx = sqlx::Connection::begin_with(&mut *connection, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::query(context))?;
    let mut report = PruneReport::default();
    // Versions first: the count must see the jobs the prune is about to delete.
    if params.components {
        report.component_versions = if params.dry_run {
            sqlx::query_scalar::<_, i64>(concat!("SELECT count(*) ", orphaned_versions!()))
                .bind(&params.tenant)
                .bind(finished_before)
                .bind(failed_before)
                .bind(&queues)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::query(context))? as u64
        } else {
            sqlx::query(concat!("DELETE ", orphaned_versions!()))
                .bind(&params.tenant)
                .bind(finished_before)
                .bind(failed_before)
                .bind(&queues)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(context))?
                .rows_affected()
        };
    }
    let statuses: Vec<String> = if params.dry_run {
        sqlx::query_scalar(concat!("SELECT status FROM tasks WHERE ", prune_filter!()))
    } else {
        sqlx::query_scalar(concat!(
            "DELETE FROM tasks WHERE ",
            prune_filter!(),
            " RETURNING status"
        ))
    }
    .bind(&params.tenant)
    .bind(finished_before)
    .bind(failed_before)
    .bind(&queues)
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    let versions = report.component_versions;
    report = prune_report(statuses);
    report.component_versions = versions;
    report.events =
        super::events::prune(&mut tx, &params.tenant, finished_before, params.dry_run).await?;
    if params.components && !params.dry_run {
        super::components::delete_unnamed_blobs(&mut tx).await?;
    }
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(report)
}

pub(super) async fn queue_stats(
    pool: &SqlitePool,
    tenant: Option<&str>,
) -> Result<Vec<QueueStat>, StoreError> {
    let context = "counting jobs per queue";
    // The counts are kept by triggers (0011_job_counts.sql); each queue's oldest
    // runnable READY job is one seek in tasks_ready_by_queue. One statement per
    // case, so that a tenant's counts seek its range.
    macro_rules! per_queue {
        ($where:literal) => {
            concat!(
                "SELECT c.tenant, c.queue_name, c.status, c.n,
                    CASE WHEN c.status = 'READY' THEN
                        (SELECT min(t.available_at) FROM tasks t
                         WHERE t.tenant = c.tenant AND t.queue_name = c.queue_name
                           AND t.status = 'READY' AND t.available_at <= ?2)
                    END
                 FROM queue_counts c WHERE c.n > 0 AND ",
                $where,
                " ORDER BY c.tenant, c.queue_name, c.status"
            )
        };
    }
    let sql = match tenant {
        Some(_) => per_queue!("c.tenant = ?1"),
        None => per_queue!("?1 IS NULL"),
    };
    let rows: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(sql)
        .bind(tenant)
        .bind(micros(Utc::now()))
        .fetch_all(pool)
        .await
        .map_err(StoreError::query(context))?;
    let rows = rows
        .into_iter()
        .map(|(tenant, queue, status, count, oldest)| {
            (tenant, queue, status, count, oldest.map(from_micros))
        })
        .collect();
    queue_stats_from(rows, context)
}

/// The stored microseconds of a duration.
fn duration(micros: i64) -> std::time::Duration {
    std::time::Duration::from_micros(micros.max(0) as u64)
}

pub(super) async fn list(pool: &SqlitePool, params: JobList) -> Result<JobListed, StoreError> {
    let context = "listing jobs";
    let statuses: Vec<&str> = params.statuses.iter().map(|s| s.as_str()).collect();
    // Newest first, reading at most `scan` jobs and stopping as soon as the page
    // is full: the tenant's jobs in id order (tasks_tenant_id), or a status's
    // (tasks_tenant_status_id; without the hint the planner takes the former and
    // reads past every other status). The inner query is a co-routine that yields
    // rows in its order as the outer one asks for them (each row one seek by the
    // rowid the index holds); the other filters apply to what it yields. The id
    // bounds are written as ranges (`coalesce`, not `? IS NULL OR`) so that the
    // index seeks to them; ids are lowercase hex, below `g`.
    let (index, status_filter) = if statuses.is_empty() {
        ("tasks_tenant_id", "?2 = '[]'")
    } else {
        (
            "tasks_tenant_status_id",
            "t.status IN (SELECT value FROM jsonb_each(?2))",
        )
    };
    let scan = params.scan.max(params.limit);
    let read = format!(
        "FROM tasks t INDEXED BY {index}
         WHERE t.tenant = ?1
           AND {status_filter}
           AND t.id < coalesce(?8, 'g') AND t.id >= coalesce(?10, '')
         ORDER BY t.id DESC
         LIMIT ?11"
    );
    let newest = format!(
        "SELECT t.id, t.task_path, t.status, t.queue_name, t.priority, t.enqueued_at,
            t.finished_at, t.attempt, t.component, t.task_name {read}"
    );
    let sql = format!(
        "SELECT j.*,
            (SELECT a.exception_class_path FROM task_attempts a WHERE a.task_id = j.id
             ORDER BY a.attempt DESC LIMIT 1) AS last_error
         FROM ({newest}) j
         WHERE (?3 IS NULL OR j.queue_name = ?3)
           AND (?4 IS NULL OR j.component = ?4)
           AND (?5 IS NULL OR j.task_name = ?5)
           AND (?6 IS NULL OR j.enqueued_at >= ?6)
           AND (?7 IS NULL OR j.enqueued_at < ?7)
         LIMIT ?9"
    );
    // Only the fixed fragments above are formatted in; every value is bound.
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&params.tenant)
        .bind(json(&statuses, context)?)
        .bind(&params.queue_name)
        .bind(&params.component)
        .bind(&params.task_name)
        .bind(params.since.map(micros))
        .bind(params.until.map(micros))
        .bind(&params.before_id)
        .bind(params.limit)
        .bind(&params.after_id)
        .bind(scan)
        .fetch_all(pool)
        .await
        .map_err(StoreError::query(context))?;
    let get = |e| StoreError::Query { context, cause: e };
    let jobs = rows
        .iter()
        .map(|row| {
            Ok(JobSummary {
                id: row.try_get("id").map_err(get)?,
                task_path: row.try_get("task_path").map_err(get)?,
                status: parse_status(&row.try_get::<String, _>("status").map_err(get)?, context)?,
                queue_name: row.try_get("queue_name").map_err(get)?,
                priority: row.try_get("priority").map_err(get)?,
                enqueued_at: from_micros(row.try_get("enqueued_at").map_err(get)?),
                finished_at: row
                    .try_get::<Option<i64>, _>("finished_at")
                    .map_err(get)?
                    .map(from_micros),
                attempts: row.try_get::<i64, _>("attempt").map_err(get)? as u32,
                last_error: row.try_get("last_error").map_err(get)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if jobs.len() == params.limit as usize {
        return Ok(JobListed {
            jobs,
            scan_ended_at: None,
        });
    }
    // A short page: did the read stop at `scan` jobs, and where? (The index alone.)
    let (scanned, oldest): (i64, Option<String>) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*), min(id) FROM (SELECT t.id {read})"
    )))
    .bind(&params.tenant)
    .bind(json(&statuses, context)?)
    .bind(None::<&str>)
    .bind(None::<&str>)
    .bind(None::<&str>)
    .bind(None::<i64>)
    .bind(None::<i64>)
    .bind(&params.before_id)
    .bind(params.limit)
    .bind(&params.after_id)
    .bind(scan)
    .fetch_one(pool)
    .await
    .map_err(StoreError::query(context))?;
    Ok(JobListed {
        jobs,
        scan_ended_at: oldest.filter(|_| scanned >= i64::from(scan)),
    })
}

pub(super) async fn retry(
    pool: &SqlitePool,
    tenant: &str,
    selection: RetrySelection,
) -> Result<Vec<RetryOutcome>, StoreError> {
    let context = "retrying jobs";
    let (ids, component, task_name) = match &selection {
        RetrySelection::Ids(ids) => (Some(json(ids, context)?), None, None),
        RetrySelection::Failed {
            component,
            task_name,
        } => (None, component.as_deref(), task_name.as_deref()),
    };
    let mut connection = pool.acquire().await.map_err(StoreError::query(context))?;
    let mut tx = sqlx::Connection::begin_with(&mut *connection, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::query(context))?;
    // A fresh budget of `max_attempts` on top of the attempts made so far; the
    // attempts themselves stay. Only jobs whose pinned version is still stored.
    let retried: Vec<String> = sqlx::query_scalar(concat!(
        r#"UPDATE tasks SET status = 'READY', available_at = ?2, finished_at = NULL,
            return_value = NULL, lease_owner = NULL, lease_expires_at = NULL, retry_base = attempt
         WHERE tenant = ?1
           AND (CASE WHEN ?3 IS NULL THEN status = 'FAILED'
                     ELSE status IN ('FAILED', 'CANCELLED')
                          AND id IN (SELECT value FROM jsonb_each(?3)) END)
           AND (?4 IS NULL OR component = ?4)
           AND (?5 IS NULL OR task_name = ?5)
           AND EXISTS (SELECT 1 FROM component_versions v
                       WHERE v.tenant = tasks.tenant AND v.digest = tasks.component_digest)
           AND NOT "#,
        held_by_another!(),
        r#"
         RETURNING id"#
    ))
    .bind(tenant)
    .bind(micros(Utc::now()))
    .bind(&ids)
    .bind(component)
    .bind(task_name)
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    let others: Vec<(String, String, bool, bool)> = match &ids {
        None => Vec::new(),
        Some(ids) => sqlx::query_as(concat!(
            "SELECT id, status, EXISTS (SELECT 1 FROM component_versions v
                       WHERE v.tenant = tasks.tenant AND v.digest = tasks.component_digest), ",
            held_by_another!(),
            " FROM tasks WHERE tenant = ?1 AND id IN (SELECT value FROM jsonb_each(?2))"
        ))
        .bind(tenant)
        .bind(ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::query(context))?,
    };
    tx.commit().await.map_err(StoreError::query(context))?;
    retry_outcomes(&selection, retried, others, context)
}

pub(super) async fn count_finished(
    pool: &SqlitePool,
    params: JobCountFinished,
) -> Result<Vec<FinishedBucket>, StoreError> {
    let context = "counting finished jobs";
    // Whole minutes since the epoch, as finished_minutes (kept by triggers,
    // 0011_job_counts.sql) holds them: a day is 1,440 rows per status at most.
    let since = params.since.timestamp().div_euclid(60);
    let width = (params.bucket.as_secs() / 60).max(1) as i64;
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT (minute - ?2) / ?3 AS bucket, status, sum(n)
         FROM finished_minutes
         WHERE tenant = ?1 AND minute >= ?2
         GROUP BY bucket, status ORDER BY bucket, status",
    )
    .bind(&params.tenant)
    .bind(since)
    .bind(width)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(context))?;
    finished_buckets_from(rows, context)
}
