//! Queries on `tasks` (jobs) and `task_attempts`.
//!
//! Batches are one statement of any size, with no bind-parameter limit: arrays
//! zipped by `unnest`, or one `jsonb` document expanded by `jsonb_to_recordset`.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};
use wasmtasks_sandbox::LimitOverrides;

use crate::store::nul::{storable, storable_value};

use crate::store::{
    CancelOutcome, ClaimRef, ClaimedJob, Completion, Duplicate, FinishedBucket, JobClaim,
    JobCountFinished, JobList, JobListed, JobPrune, JobSummary, LeaseRenewal, NewJob, NextState,
    PruneReport, QueueFilter, QueueStat, QueueStatRow, Quotas, RetryOutcome, RetrySelection,
    StoreError, StuckJob, check_queued, finished_buckets_from, in_django_order, parse_status,
    prune_report, queue_stats_from, retry_outcomes,
};

/// The channel `LISTEN`ing workers are woken on (the statements that notify name it
/// literally); the payload is the queue name.
pub(super) const CHANNEL: &str = "wasmtasks_jobs";

/// The channel waiters for results are woken on when attempts are recorded.
pub(super) const FINISHED_CHANNEL: &str = "wasmtasks_finished";

fn corrupt(context: &'static str) -> impl FnOnce(serde_json::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        context,
        message: e.to_string(),
    }
}

/// The insert of a batch: one array per column (binary, no JSON document to
/// parse) zipped by `unnest`; `$18`/`$19` are the unique keys and their status
/// bits, `$20` the enqueue times. `$tail` follows the rows' source: what a
/// unique job's duplicate does (`ON CONFLICT …`), or a condition on inserting
/// them at all (`WHERE …`).
macro_rules! insert_jobs {
    ($tail:expr) => {
        concat!(
            "WITH inserted AS (
                INSERT INTO tasks (id, tenant, task_path, component, task_name, component_digest,
                    status, args, kwargs, priority, queue_name, backend, takes_context, run_after,
                    available_at, enqueued_at, max_attempts, backoff_factor, max_backoff, limits,
                    unique_key, unique_states)
                SELECT j.id, j.tenant, j.task_path, j.component, j.task_name, j.digest, 'READY',
                    j.args::jsonb, j.kwargs::jsonb, j.priority, j.queue_name, j.backend,
                    j.takes_context, j.run_after, greatest(now(), j.run_after), j.enqueued_at,
                    j.max_attempts, j.backoff_factor, j.max_backoff, j.limits::jsonb,
                    j.unique_key, j.unique_states
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                    $7::text[], $8::text[], $9::integer[], $10::text[], $11::text[], $12::boolean[],
                    $13::timestamptz[], $14::integer[], $15::float8[], $16::text[], $17::bigint[],
                    $18::text[], $19::integer[], $20::timestamptz[])
                  AS j(id, tenant, task_path, component, task_name, digest, args, kwargs, priority,
                    queue_name, backend, takes_context, run_after, max_attempts, backoff_factor,
                    limits, max_backoff, unique_key, unique_states, enqueued_at)
                ",
            $tail,
            " RETURNING id, queue_name, available_at),
             notified AS (SELECT pg_notify('wasmtasks_jobs', queue_name) FROM inserted
                          WHERE available_at <= now() GROUP BY queue_name)
             SELECT id FROM inserted WHERE (SELECT count(*) FROM notified) >= 0"
        )
    };
}

/// The `max_queued` of each tenant named by `$1` that has one, in name order.
macro_rules! queued_limits {
    () => {
        "SELECT name, max_queued FROM tenants
         WHERE name = ANY($1) AND max_queued IS NOT NULL ORDER BY name"
    };
}

/// Inserts `jobs` in one statement through `connection` (a pool's, or the
/// caller's in a transaction), and notifies `LISTEN`ing workers when it commits.
/// A unique job whose key is held is skipped; the holder is read after (the
/// insert waited for a concurrent holder to commit, so it is visible then).
pub(super) async fn insert_many(
    connection: &mut PgConnection,
    jobs: &[NewJob],
) -> Result<Vec<Duplicate>, StoreError> {
    let context = "enqueuing jobs";
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    if !jobs.iter().any(|job| job.unique_key.is_some()) {
        // Most tenants have no `max_queued`: one statement inserts the jobs unless
        // one of their tenants has one (then it inserts none, and the limit is
        // checked below).
        let inserted = insert_statement(
            connection,
            jobs,
            insert_jobs!(
                " WHERE NOT EXISTS (SELECT 1 FROM tenants
                                    WHERE max_queued IS NOT NULL AND name = ANY($2))"
            ),
        )
        .await?;
        if !inserted.is_empty() {
            return Ok(Vec::new());
        }
    }
    let mut tenants: Vec<&str> = jobs.iter().map(|job| job.tenant.as_str()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    let any_limited: Vec<(String, i64)> = sqlx::query_as(queued_limits!())
        .bind(&tenants)
        .fetch_all(&mut *connection)
        .await
        .map_err(StoreError::query(context))?;
    if any_limited.is_empty() {
        return insert_rows(connection, jobs).await;
    }
    // The tenants' rows are locked (in name order) until the jobs are inserted, so
    // concurrent enqueues cannot pass `max_queued` together. Inside a caller's
    // transaction this is a savepoint, and the lock lasts until it commits.
    let mut tx = sqlx::Connection::begin(&mut *connection)
        .await
        .map_err(StoreError::query(context))?;
    let locked: Vec<(String, i64)> = sqlx::query_as(concat!(queued_limits!(), " FOR UPDATE"))
        .bind(&tenants)
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::query(context))?;
    for (tenant, max_queued) in &locked {
        let ready: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE tenant = $1 AND status = 'READY'
                LIMIT $2) AS ready",
        )
        .bind(tenant)
        .bind(max_queued.saturating_add(1))
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query(context))?;
        check_queued(tenant, *max_queued, ready as u64, jobs)?;
    }
    let duplicates = insert_rows(&mut tx, jobs).await?;
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(duplicates)
}

/// Inserts `jobs` in one statement; a unique job's duplicate is skipped and named.
async fn insert_rows(
    connection: &mut PgConnection,
    jobs: &[NewJob],
) -> Result<Vec<Duplicate>, StoreError> {
    let context = "enqueuing jobs";
    let unique = jobs.iter().any(|job| job.unique_key.is_some());
    let statement = if unique {
        insert_jobs!(concat!(
            " ON CONFLICT (tenant, unique_key) WHERE ",
            blocking!(),
            " DO NOTHING"
        ))
    } else {
        insert_jobs!("")
    };
    let inserted = insert_statement(connection, jobs, statement).await?;
    if !unique || inserted.len() == jobs.len() {
        return Ok(Vec::new());
    }
    let mut duplicates = Vec::new();
    for job in jobs.iter().filter(|job| !inserted.contains(&job.id)) {
        let existing: String = sqlx::query_scalar(concat!(
            "SELECT id FROM tasks WHERE tenant = $1 AND unique_key = $2 AND ",
            blocking!()
        ))
        .bind(&job.tenant)
        .bind(&job.unique_key)
        .fetch_one(&mut *connection)
        .await
        .map_err(StoreError::query(context))?;
        duplicates.push(Duplicate {
            id: job.id.clone(),
            existing,
        });
    }
    Ok(duplicates)
}

/// Runs `statement`, an [`insert_jobs!`] statement, over `jobs` and returns the
/// ids it inserted.
async fn insert_statement(
    connection: &mut PgConnection,
    jobs: &[NewJob],
    statement: &'static str,
) -> Result<Vec<String>, StoreError> {
    let context = "enqueuing jobs";
    let column = |field: fn(&NewJob) -> &str| jobs.iter().map(field).collect::<Vec<_>>();
    let limits = jobs
        .iter()
        .map(|job| serde_json::to_string(&job.limits).map_err(corrupt(context)))
        .collect::<Result<Vec<_>, _>>()?;
    sqlx::query_scalar(statement)
        .bind(column(|job| &job.id))
        .bind(column(|job| &job.tenant))
        .bind(column(|job| &job.task_path))
        .bind(column(|job| &job.component))
        .bind(column(|job| &job.task_name))
        .bind(column(|job| &job.component_digest))
        .bind(column(|job| &job.args))
        .bind(column(|job| &job.kwargs))
        .bind(jobs.iter().map(|job| job.priority).collect::<Vec<_>>())
        .bind(column(|job| &job.queue_name))
        .bind(column(|job| &job.backend))
        .bind(jobs.iter().map(|job| job.takes_context).collect::<Vec<_>>())
        .bind(jobs.iter().map(|job| job.run_after).collect::<Vec<_>>())
        .bind(
            jobs.iter()
                .map(|job| job.max_attempts as i32)
                .collect::<Vec<_>>(),
        )
        .bind(
            jobs.iter()
                .map(|job| job.backoff_factor)
                .collect::<Vec<_>>(),
        )
        .bind(limits)
        .bind(
            jobs.iter()
                .map(|job| job.max_backoff.as_micros() as i64)
                .collect::<Vec<_>>(),
        )
        .bind(
            jobs.iter()
                .map(|job| job.unique_key.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            jobs.iter()
                .map(|job| i32::from(job.unique_states))
                .collect::<Vec<_>>(),
        )
        .bind(jobs.iter().map(|job| job.enqueued_at).collect::<Vec<_>>())
        .fetch_all(&mut *connection)
        .await
        .map_err(StoreError::query(context))
}

/// The READY jobs of the tenant `$tenant` (an SQL expression) that a claim may
/// take now, in Django's order: `$3` the queues, `$4` whether they are the only
/// ones served (else the ones not served).
macro_rules! next_jobs_of {
    ($tenant:literal) => {
        concat!(
            "SELECT id, priority, available_at FROM tasks
             WHERE tenant = ", $tenant, " AND status = 'READY' AND available_at <= now()
               AND (queue_name = ANY($3)) = $4
               AND NOT EXISTS (SELECT 1 FROM queue_pauses p
                               WHERE p.tenant = tasks.tenant AND p.queue_name = tasks.queue_name)
             ORDER BY priority DESC, available_at, id"
        )
    };
}

/// The tenants with READY jobs, by a loose index scan of the READY-only indexes
/// (one probe per tenant).
macro_rules! ready_tenants {
    () => {
        "WITH RECURSIVE ready(name) AS (
            SELECT min(tenant) FROM tasks WHERE status = 'READY'
            UNION ALL
            SELECT (SELECT min(tenant) FROM tasks WHERE status = 'READY' AND tenant > ready.name)
            FROM ready WHERE ready.name IS NOT NULL)"
    };
}

/// The end of a claim statement: leases the jobs of `picked` to worker `$1` for
/// `$2` microseconds and returns them with their tenant's ceilings, the count of
/// capability changes as this statement sees them (not an earlier statement of the
/// claim: a change committed in between must reach these jobs), `$wanted` and
/// `$cut` (see [`ClaimRound`]) and `$lone` (see [`found_lone`]), in one row with a
/// NULL id when none was taken.
macro_rules! take_picked {
    ($wanted:literal, $cut:literal, $lone:literal) => {
        concat!(
            "taken AS (
            UPDATE tasks SET status = 'RUNNING', attempt = tasks.attempt + 1, lease_owner = $1,
                lease_expires_at = now() + $2 * interval '1 microsecond', last_attempted_at = now(),
                started_at = coalesce(tasks.started_at, now())
            FROM picked
            WHERE tasks.id = picked.id
              AND (SELECT set_config('synchronous_commit', 'off', true)) = 'off'
            RETURNING tasks.id, tenant, task_path, component, task_name, component_digest,
                args::text, kwargs::text, priority, queue_name, attempt,
                retry_base + max_attempts AS max_attempts, backoff_factor, max_backoff, limits,
                available_at)
         SELECT taken.*, t.max_fuel, t.max_timeout_ms, t.max_memory_bytes,
            (SELECT generation FROM capability_changes WHERE id = 1) AS capabilities_generation,
            ", $wanted, " AS wanted, ", $cut, " AS cut, ", $lone, " AS lone
         FROM (SELECT 1) one LEFT JOIN taken ON true LEFT JOIN tenants t ON t.name = taken.tenant"
        )
    };
}

/// Claims fairly between tenants (see [`crate::store::Store::job_claim`]).
///
/// Each round shares the free slots and takes each tenant's share of jobs that no
/// other claim holds. The first asks each tenant for its share of jobs only; when
/// that leaves slots that jobs not offered could be owed, the next round asks for
/// every job up to each tenant's room. A round that finds some of its share held
/// by another transaction (a claim in flight) leaves those slots to the next
/// round, which sees that transaction's outcome. So a claim comes back short only
/// when fewer jobs were ready (a `--batch` worker stops at a short claim), or when
/// its jobs stayed held for [`CLAIM_PATIENCE`].
///
/// When one tenant alone has READY jobs (within the claim's tenants) and no
/// `max_running`, or when none has any, a round is one short statement in its own
/// transaction, which PostgreSQL plans in a fraction of the fair one's time
/// (planning was most of an idle worker's claim); other rounds take the
/// transaction of the `max_running` locks and the fair statement. Each round
/// starts with the statement that fitted the store's last round, so the first
/// lone tenant's round after a shared one still takes that transaction.
pub(super) async fn claim(
    pool: &PgPool,
    lone_likely: &AtomicBool,
    mut params: JobClaim,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let mut claimed = Vec::with_capacity(params.limit as usize);
    let mut shares = true;
    let deadline = Instant::now() + CLAIM_PATIENCE;
    for round_number in 1.. {
        let round = match claim_round(pool, lone_likely, &params, shares).await {
            Ok(round) => round,
            Err(error) if claimed.is_empty() => return Err(error),
            // The jobs of earlier rounds are committed to this worker: hand them over.
            Err(error) => {
                tracing::warn!(%error, "a claim's later round failed; starting the jobs it has");
                break;
            }
        };
        let contended = round.taken.len() < round.wanted;
        let undecided = round.cut && round.wanted < params.limit as usize;
        params.limit -= round.taken.len() as u32;
        claimed.extend(round.taken);
        if params.limit == 0 {
            break;
        }
        if undecided {
            // Some tenants had fewer jobs than their share: offer every job.
            shares = false;
        } else if !contended {
            break;
        } else if Instant::now() >= deadline {
            tracing::warn!(
                rounds = round_number,
                "jobs a claim chose stayed held by other transactions; it comes back short"
            );
            break;
        } else if round_number >= EAGER_ROUNDS {
            tokio::time::sleep(CONTENDED_PAUSE).await;
        }
    }
    Ok(claimed)
}

/// What one round of a claim did.
struct ClaimRound {
    /// The jobs it took, in Django's order.
    taken: Vec<ClaimedJob>,
    /// How many it chose (those held by other claims were skipped).
    wanted: usize,
    /// Whether some tenant offered only its share, so that jobs it did not offer
    /// could be owed slots the round left empty.
    cut: bool,
}

/// Whether a round's statement found one tenant alone with READY jobs and no
/// `max_running`, or none with any: then [`lone_tenant_claim`] decided the round,
/// and the next round starts with it; after other rounds it starts with the fair
/// statement.
fn found_lone(rows: &[PgRow]) -> bool {
    rows.first()
        .is_some_and(|row| matches!(row.try_get::<bool, _>("lone"), Ok(true)))
}

/// How long a claim goes on with rounds while other transactions hold jobs it
/// chose. A claim in flight holds them for milliseconds; under load, eight rounds
/// back to back could all run before it committed, and the claim came back short.
const CLAIM_PATIENCE: Duration = Duration::from_secs(2);

/// Contended rounds run back to back before later ones pause.
const EAGER_ROUNDS: u32 = 8;

/// The pause before each contended round after the first [`EAGER_ROUNDS`], so a
/// job held by a long transaction is not asked for in a busy loop.
const CONTENDED_PAUSE: Duration = Duration::from_millis(2);

/// One round of a claim, each tenant offering its share of jobs (`shares`) or
/// every job it has room for.
async fn claim_round(
    pool: &PgPool,
    lone_likely: &AtomicBool,
    params: &JobClaim,
    shares: bool,
) -> Result<ClaimRound, StoreError> {
    let context = "claiming jobs";
    let (only, queues) = match &params.queues {
        QueueFilter::Only(queues) => (true, queues),
        QueueFilter::All { exclude } => (false, exclude),
    };
    // Rows another worker is claiming right now are skipped, not waited for.
    //
    // The claim commits without waiting for its WAL to reach the disk: a claim lost
    // in a server crash only puts the job back to READY (its worker's completion is
    // then fenced out and the job runs again, as after any lost lease), and the
    // completion that follows is flushed with everything before it. Enqueues and
    // completions keep the server's durability.
    //
    // A lone tenant's round is one statement in its own transaction. Other rounds
    // read running counts, and claims by tenants with `max_running` are serialised
    // on their rows, so two workers cannot both see room for the same last slot: the
    // rows are locked first and the counts read after the lock, by the next
    // statement, in one transaction. A round starts with the statement the last
    // one found fitting, so while tenants share the worker a round runs no lone
    // tenant's statement before its transaction.
    let mut rows = Vec::new();
    if lone_likely.load(Ordering::Relaxed) {
        rows = lone_tenant_claim(pool, params, queues, only)
            .await
            .map_err(StoreError::query(context))?;
    }
    if !found_lone(&rows) {
        let mut tx = pool.begin().await.map_err(StoreError::query(context))?;
        sqlx::query("SELECT 1 FROM tenants WHERE max_running IS NOT NULL ORDER BY name FOR UPDATE")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(context))?;
        rows = fair_claim(&mut tx, params, shares, queues, only)
            .await
            .map_err(StoreError::query(context))?;
        tx.commit().await.map_err(StoreError::query(context))?;
    }
    lone_likely.store(found_lone(&rows), Ordering::Relaxed);
    let (wanted, cut) = match rows.first() {
        Some(row) => (
            row.try_get::<i64, _>("wanted")
                .map_err(StoreError::query(context))?,
            row.try_get::<bool, _>("cut")
                .map_err(StoreError::query(context))?,
        ),
        None => (0, false),
    };
    let claimed = rows
        .iter()
        .filter(|row| matches!(row.try_get::<Option<String>, _>("id"), Ok(Some(_))))
        .map(|row| {
            let job = ClaimedJob {
                id: row.try_get("id")?,
                tenant: row.try_get("tenant")?,
                task_path: row.try_get("task_path")?,
                component: row.try_get("component")?,
                task_name: row.try_get("task_name")?,
                component_digest: row.try_get("component_digest")?,
                args: row.try_get("args")?,
                kwargs: row.try_get("kwargs")?,
                priority: row.try_get("priority")?,
                queue_name: row.try_get("queue_name")?,
                attempt: row.try_get::<i32, _>("attempt")? as u32,
                max_attempts: row.try_get::<i32, _>("max_attempts")? as u32,
                backoff_factor: row.try_get("backoff_factor")?,
                max_backoff: duration(row.try_get("max_backoff")?),
                limits: row.try_get::<Json<LimitOverrides>, _>("limits")?.0,
                ceilings: Quotas {
                    max_fuel: row.try_get::<Option<i64>, _>("max_fuel")?.map(|n| n as u64),
                    max_timeout_ms: row
                        .try_get::<Option<i64>, _>("max_timeout_ms")?
                        .map(|n| n as u64),
                    max_memory_bytes: row
                        .try_get::<Option<i64>, _>("max_memory_bytes")?
                        .map(|n| n as u64),
                    ..Quotas::default()
                }
                .ceilings(),
                capabilities_generation: row.try_get("capabilities_generation")?,
            };
            Ok((row.try_get::<DateTime<Utc>, _>("available_at")?, job))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::query(context))?;
    Ok(ClaimRound {
        taken: in_django_order(claimed),
        wanted: wanted.max(0) as usize,
        cut,
    })
}

/// The statement of one fair round (see [`claim`]) between tenants.
async fn fair_claim(
    tx: &mut PgConnection,
    params: &JobClaim,
    shares: bool,
    queues: &[String],
    only: bool,
) -> Result<Vec<PgRow>, sqlx::Error> {
    sqlx::query(concat!(
        ready_tenants!(),
        ",
         running AS (
            SELECT tenant, count(*) AS n FROM tasks WHERE status = 'RUNNING' GROUP BY tenant),
         active AS (
            SELECT ready.name, coalesce(t.weight, 1) AS weight, coalesce(r.n, 0) AS running,
                least($5, greatest(coalesce(t.max_running - coalesce(r.n, 0), $5), 0)) AS room
            FROM ready LEFT JOIN tenants t ON t.name = ready.name
                LEFT JOIN running r ON r.tenant = ready.name
            WHERE ready.name IS NOT NULL AND ($6::text[] IS NULL OR ready.name = ANY($6))),
         -- What each tenant is asked to offer: its share, as `fair::ask_shares`
         -- computes it, or its whole room ($7 false).
         asked AS (
            SELECT name, weight, running, room,
                CASE WHEN $7 THEN least(room, greatest(0, ceil(
                    ($5 + sum(running) OVER ())::float8 * weight / sum(weight) OVER ()
                    - running))::int8 + 1)
                ELSE room END AS asked
            FROM active WHERE room > 0),
         candidates AS (
            SELECT a.name, c.available_at, c.id, a.weight, a.running, a.room, a.asked,
                row_number() OVER (PARTITION BY a.name
                                   ORDER BY c.priority DESC, c.available_at, c.id) AS rank,
                count(*) OVER (PARTITION BY a.name) AS offered
            FROM asked a CROSS JOIN LATERAL (
                ",
        next_jobs_of!("a.name"),
        " LIMIT a.asked) c),
         -- The first key of a job not offered (as `fair::pick` reads it): only
         -- the jobs below it are sure to be taken by a claim offered every job.
         unread AS (
            SELECT min((running + asked + 1)::float8 / weight) AS key
            FROM candidates WHERE offered = asked AND asked < room),
         -- How many slots each tenant gets; then each takes that many of its next
         -- jobs that no other claim holds. Two workers claiming at once get the
         -- same shares and different jobs.
         shares AS (
            SELECT name, count(*) AS n FROM (
                SELECT name FROM candidates, unread
                WHERE unread.key IS NULL OR (running + rank)::float8 / weight < unread.key
                ORDER BY (running + rank)::float8 / weight, available_at, id
                LIMIT $5) chosen
            GROUP BY name),
         picked AS (
            SELECT c.id FROM shares s CROSS JOIN LATERAL (
                ",
        next_jobs_of!("s.name"),
        " LIMIT s.n FOR UPDATE SKIP LOCKED) c),
         ",
        take_picked!(
            "(SELECT coalesce(sum(n), 0) FROM shares)::int8",
            "(SELECT key IS NOT NULL FROM unread)",
            "(SELECT count(*) <= 1 AND bool_and(t.max_running IS NULL) IS NOT FALSE
              FROM active LEFT JOIN tenants t USING (name))"
        ),
    ))
    .bind(&params.worker_id)
    .bind(params.lease.as_micros() as i64)
    .bind(queues)
    .bind(only)
    .bind(i64::from(params.limit))
    .bind(&params.tenants)
    .bind(shares)
    .fetch_all(tx)
    .await
}

/// The statement of a round when one tenant alone has READY jobs (within the
/// claim's tenants, `$6`) and no `max_running`: its share is every slot, so it
/// takes its next jobs in Django's order without the fair shares' reads (which
/// cost more to plan than to run). When some other tenant has READY jobs too, or
/// the lone one has a `max_running`, it takes nothing and says so (see
/// [`found_lone`]).
async fn lone_tenant_claim(
    pool: &PgPool,
    params: &JobClaim,
    queues: &[String],
    only: bool,
) -> Result<Vec<PgRow>, sqlx::Error> {
    sqlx::query(concat!(
        ready_tenants!(),
        ",
         listed AS (
            SELECT name FROM ready
            WHERE name IS NOT NULL AND ($6::text[] IS NULL OR name = ANY($6)) LIMIT 2),
         lone AS (
            SELECT listed.name FROM listed LEFT JOIN tenants t ON t.name = listed.name
            WHERE (SELECT count(*) FROM listed) = 1 AND t.max_running IS NULL),
         candidates AS (",
        next_jobs_of!("(SELECT name FROM lone)"),
        " LIMIT $5),
         picked AS (SELECT id FROM (",
        next_jobs_of!("(SELECT name FROM lone)"),
        " LIMIT $5 FOR UPDATE SKIP LOCKED) c),
         ",
        take_picked!(
            "(SELECT count(*) FROM candidates)",
            "false",
            "(EXISTS (SELECT 1 FROM lone) OR NOT EXISTS (SELECT 1 FROM listed))"
        ),
    ))
    .bind(&params.worker_id)
    .bind(params.lease.as_micros() as i64)
    .bind(queues)
    .bind(only)
    .bind(i64::from(params.limit))
    .bind(&params.tenants)
    .fetch_all(pool)
    .await
}

/// One completion, as the document `jsonb_to_recordset` expands.
#[derive(Serialize)]
struct CompletionDocument<'a> {
    id: &'a str,
    attempt: u32,
    worker_id: &'a str,
    status: &'static str,
    delay_us: Option<u64>,
    /// Wrapped in an array, so a task that returned `null` is told apart from no
    /// return value (the expansion turns a bare `null` into SQL NULL).
    return_value: Option<[Cow<'a, Value>; 1]>,
    only_if_expired: bool,
    attempt_status: &'static str,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
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
    pool: &PgPool,
    completions: &[Completion],
) -> Result<Vec<String>, StoreError> {
    let context = "recording finished attempts";
    if completions.is_empty() {
        return Ok(Vec::new());
    }
    let documents: Vec<CompletionDocument> = completions
        .iter()
        .map(|c| {
            let (status, delay_us, return_value) = match &c.next {
                NextState::Successful(value) => ("SUCCESSFUL", None, Some([storable_value(value)])),
                NextState::Failed => ("FAILED", None, None),
                NextState::Retry(delay) => ("READY", Some(delay.as_micros() as u64), None),
            };
            let error = c.record.error.as_ref();
            CompletionDocument {
                id: &c.id,
                attempt: c.record.attempt,
                worker_id: &c.worker_id,
                status,
                delay_us,
                return_value,
                only_if_expired: c.only_if_expired,
                attempt_status: c.record.status.as_str(),
                started_at: c.record.started_at,
                finished_at: c.record.finished_at,
                exception_class_path: error.map(|e| storable(&e.exception_class_path)),
                traceback: error.map(|e| storable(&e.traceback)),
                fuel_consumed: c.record.metrics.fuel_consumed,
                peak_memory_bytes: c.record.metrics.peak_memory_bytes,
                duration_us: c.record.metrics.duration_us,
                http_requests: c.record.metrics.http_requests,
                stdout: storable(&c.record.stdout),
                stderr: storable(&c.record.stderr),
            }
        })
        .collect();
    // One statement: the fenced update of the jobs and the insert of their attempts.
    // The fence: the same attempt, still RUNNING, still leased by this worker (and,
    // for a rescue, with its lease expired by the database's clock). A late writer
    // changes nothing. A finished job's finished_at is the database's time too.
    sqlx::query_scalar(
        "WITH c AS (
            SELECT * FROM jsonb_to_recordset($1) AS c(id text, attempt integer, worker_id text,
                status text, delay_us bigint, return_value jsonb, only_if_expired boolean,
                attempt_status text, started_at timestamptz, finished_at timestamptz,
                exception_class_path text, traceback text, fuel_consumed bigint,
                peak_memory_bytes bigint, duration_us bigint, http_requests bigint, stdout text,
                stderr text)),
         finished AS (
            UPDATE tasks SET status = c.status,
                available_at = CASE WHEN c.status = 'READY'
                    THEN now() + c.delay_us * interval '1 microsecond' ELSE tasks.available_at END,
                finished_at = CASE WHEN c.status = 'READY' THEN NULL ELSE now() END,
                return_value = c.return_value -> 0, lease_owner = NULL, lease_expires_at = NULL
            FROM c
            WHERE tasks.id = c.id AND tasks.attempt = c.attempt AND tasks.status = 'RUNNING'
              AND tasks.lease_owner = c.worker_id
              AND (NOT c.only_if_expired OR tasks.lease_expires_at < now())
            RETURNING tasks.id, tasks.tenant, c.attempt, c.worker_id, c.started_at,
                c.finished_at, c.attempt_status, c.exception_class_path, c.traceback,
                c.fuel_consumed, c.peak_memory_bytes, c.duration_us, c.http_requests, c.stdout,
                c.stderr),
         inserted AS (
            INSERT INTO task_attempts (task_id, attempt, tenant, worker_id, started_at,
                finished_at, status, exception_class_path, traceback, fuel_consumed,
                peak_memory_bytes, duration_us, http_requests, stdout, stderr)
            SELECT id, attempt, tenant, worker_id, started_at, finished_at, attempt_status,
                exception_class_path, traceback, fuel_consumed, peak_memory_bytes, duration_us,
                http_requests, stdout, stderr
            FROM finished
            RETURNING task_id)
         -- Waiters for results hear of the batch when it commits (one notification).
         SELECT inserted.task_id FROM inserted,
            (SELECT pg_notify('wasmtasks_finished', '')
             FROM (SELECT 1 FROM inserted LIMIT 1) AS any_inserted) AS notified",
    )
    .bind(Json(&documents))
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(context))
}

/// The ids and attempts of `claims`, as the two arrays `unnest` zips.
fn claim_arrays(claims: &[ClaimRef]) -> (Vec<&str>, Vec<i32>) {
    claims
        .iter()
        .map(|c| (c.id.as_str(), c.attempt as i32))
        .unzip()
}

pub(super) async fn renew_leases(pool: &PgPool, params: LeaseRenewal) -> Result<u64, StoreError> {
    if params.jobs.is_empty() {
        return Ok(0);
    }
    let (ids, attempts) = claim_arrays(&params.jobs);
    let result = sqlx::query(
        "UPDATE tasks SET lease_expires_at = now() + $1 * interval '1 microsecond'
         FROM unnest($3::text[], $4::integer[]) AS r(id, attempt)
         WHERE tasks.id = r.id AND tasks.attempt = r.attempt AND tasks.status = 'RUNNING'
           AND tasks.lease_owner = $2",
    )
    .bind(params.lease.as_micros() as i64)
    .bind(&params.worker_id)
    .bind(ids)
    .bind(attempts)
    .execute(pool)
    .await
    .map_err(StoreError::query("renewing leases"))?;
    Ok(result.rows_affected())
}

pub(super) async fn release_many(
    pool: &PgPool,
    worker_id: &str,
    claims: &[ClaimRef],
) -> Result<u64, StoreError> {
    if claims.is_empty() {
        return Ok(0);
    }
    let (ids, attempts) = claim_arrays(claims);
    let released: i64 = sqlx::query_scalar(
        "WITH released AS (
            UPDATE tasks SET status = 'READY', attempt = tasks.attempt - 1, available_at = now(),
                lease_owner = NULL, lease_expires_at = NULL,
                started_at = CASE WHEN tasks.attempt = 1 THEN NULL ELSE tasks.started_at END,
                last_attempted_at = CASE WHEN tasks.attempt = 1 THEN NULL
                    ELSE tasks.last_attempted_at END
            FROM unnest($2::text[], $3::integer[]) AS r(id, attempt)
            WHERE tasks.id = r.id AND tasks.attempt = r.attempt AND tasks.status = 'RUNNING'
              AND tasks.lease_owner = $1
            RETURNING tasks.queue_name)
         SELECT coalesce(sum(per_queue.count), 0)::bigint
         FROM (SELECT queue_name, count(*) FROM released GROUP BY queue_name) AS per_queue,
            pg_notify('wasmtasks_jobs', per_queue.queue_name)",
    )
    .bind(worker_id)
    .bind(ids)
    .bind(attempts)
    .fetch_one(pool)
    .await
    .map_err(StoreError::query("releasing interrupted jobs"))?;
    Ok(released as u64)
}

pub(super) async fn get_stuck(pool: &PgPool, limit: u32) -> Result<Vec<StuckJob>, StoreError> {
    let context = "looking for expired leases";
    let rows = sqlx::query(
        "SELECT id, tenant, queue_name, attempt, retry_base + max_attempts AS max_attempts,
            backoff_factor, max_backoff, lease_owner, last_attempted_at
         FROM tasks WHERE status = 'RUNNING' AND lease_expires_at < now()
         ORDER BY lease_expires_at LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(context))?;
    rows.iter()
        .map(|row| {
            Ok(StuckJob {
                id: row.try_get("id")?,
                tenant: row.try_get("tenant")?,
                queue_name: row.try_get("queue_name")?,
                attempt: row.try_get::<i32, _>("attempt")? as u32,
                max_attempts: row.try_get::<i32, _>("max_attempts")? as u32,
                backoff_factor: row.try_get("backoff_factor")?,
                max_backoff: duration(row.try_get("max_backoff")?),
                lease_owner: row.try_get("lease_owner")?,
                last_attempted_at: row.try_get("last_attempted_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::query(context))
}

pub(super) async fn cancel(
    pool: &PgPool,
    tenant: &str,
    id: &str,
) -> Result<CancelOutcome, StoreError> {
    let context = "cancelling a job";
    let cancelled = sqlx::query(
        "UPDATE tasks SET status = 'CANCELLED', finished_at = now()
         WHERE tenant = $1 AND id = $2 AND status = 'READY'",
    )
    .bind(tenant)
    .bind(id)
    .execute(pool)
    .await
    .map_err(StoreError::query(context))?;
    if cancelled.rows_affected() > 0 {
        return Ok(CancelOutcome::Cancelled);
    }
    let current: Option<String> =
        sqlx::query_scalar("SELECT status FROM tasks WHERE tenant = $1 AND id = $2")
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
        "tenant = $1 AND ((status IN ('SUCCESSFUL', 'CANCELLED') AND finished_at < $2)
            OR (status = 'FAILED' AND finished_at < $3))
          AND ($4::text[] IS NULL OR queue_name = ANY($4))"
    };
}

/// Component versions that are not their name's newest and that no job pins but
/// the ones the prune deletes: the same count before the delete (dry run) as after.
macro_rules! orphaned_versions {
    () => {
        concat!(
            "FROM component_versions AS v
         WHERE v.tenant = $1
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

pub(super) async fn prune(pool: &PgPool, params: JobPrune) -> Result<PruneReport, StoreError> {
    let context = "pruning results";
    let mut tx = pool.begin().await.map_err(StoreError::query(context))?;
    let mut versions = 0;
    // Versions first: the count must see the jobs the prune is about to delete.
    if params.components {
        versions = if params.dry_run {
            sqlx::query_scalar::<_, i64>(concat!("SELECT count(*) ", orphaned_versions!()))
                .bind(&params.tenant)
                .bind(params.finished_before)
                .bind(params.failed_before)
                .bind(&params.queues)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::query(context))? as u64
        } else {
            sqlx::query(concat!("DELETE ", orphaned_versions!()))
                .bind(&params.tenant)
                .bind(params.finished_before)
                .bind(params.failed_before)
                .bind(&params.queues)
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
            "WITH deleted AS (DELETE FROM tasks WHERE ",
            prune_filter!(),
            " RETURNING id, status),
             attempts AS (DELETE FROM task_attempts WHERE task_id IN (SELECT id FROM deleted))
             SELECT status FROM deleted"
        ))
    }
    .bind(&params.tenant)
    .bind(params.finished_before)
    .bind(params.failed_before)
    .bind(&params.queues)
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    let mut report = prune_report(statuses);
    report.component_versions = versions;
    report.events = super::events::prune(
        &mut tx,
        &params.tenant,
        params.finished_before,
        params.dry_run,
    )
    .await?;
    if params.components && !params.dry_run {
        super::components::delete_unnamed_blobs(&mut tx).await?;
    }
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(report)
}

pub(super) async fn queue_stats(
    pool: &PgPool,
    tenant: Option<&str>,
) -> Result<Vec<QueueStat>, StoreError> {
    let context = "counting jobs per queue";
    // The counts are deltas kept by triggers (0011_job_counts.sql), a few
    // hundred rows; each queue's oldest runnable READY job is one seek in
    // tasks_ready_by_queue. One statement per case, so that a tenant's counts
    // seek its range.
    macro_rules! per_queue {
        ($where:literal) => {
            concat!(
                "SELECT c.tenant, c.queue_name, c.status, c.n,
                    CASE WHEN c.status = 'READY' THEN
                        (SELECT min(t.available_at) FROM tasks t
                         WHERE t.tenant = c.tenant AND t.queue_name = c.queue_name
                           AND t.status = 'READY' AND t.available_at <= now())
                    END
                 FROM (SELECT tenant, queue_name, status, sum(n)::bigint AS n
                       FROM queue_count_deltas ",
                $where,
                " GROUP BY tenant, queue_name, status HAVING sum(n) > 0) c
                 ORDER BY c.tenant, c.queue_name, c.status"
            )
        };
    }
    // The triggers fold the deltas every 256; a reader folds too, so that the
    // table stays short while those folds wait (an application transaction that
    // folded holds the fold's lock until it commits).
    sqlx::query("SELECT wasmtasks_fold_queue_counts()")
        .execute(pool)
        .await
        .map_err(StoreError::query(context))?;
    let sql = match tenant {
        Some(_) => per_queue!("WHERE tenant = $1"),
        None => per_queue!("WHERE $1::text IS NULL"),
    };
    let rows: Vec<QueueStatRow> = sqlx::query_as(sql)
        .bind(tenant)
        .fetch_all(pool)
        .await
        .map_err(StoreError::query(context))?;
    queue_stats_from(rows, context)
}

/// The stored microseconds of a duration.
fn duration(micros: i64) -> Duration {
    Duration::from_micros(micros.max(0) as u64)
}

pub(super) async fn list(pool: &PgPool, params: JobList) -> Result<JobListed, StoreError> {
    let context = "listing jobs";
    let statuses: Vec<&str> = params.statuses.iter().map(|s| s.as_str()).collect();
    // Newest first, reading at most `scan` of the tenant's jobs (of the statuses)
    // in id order and stopping as soon as the page is full: the inner Limit over
    // the index scan keeps its order, so the outer one needs no sort. The other
    // filters apply to what it reads.
    const READ: &str = "FROM tasks t
         WHERE t.tenant = $1
           AND (cardinality($2::text[]) = 0 OR t.status = ANY($2))
           AND ($8::text IS NULL OR t.id < $8)
           AND ($10::text IS NULL OR t.id >= $10)
         ORDER BY t.id DESC
         LIMIT $11";
    let scan = i64::from(params.scan.max(params.limit));
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT j.*,
            (SELECT a.exception_class_path FROM task_attempts a WHERE a.task_id = j.id
             ORDER BY a.attempt DESC LIMIT 1) AS last_error
         FROM (SELECT t.id, t.task_path, t.status, t.queue_name, t.priority, t.enqueued_at,
                  t.finished_at, t.attempt, t.component, t.task_name {READ}) j
         WHERE ($3::text IS NULL OR j.queue_name = $3)
           AND ($4::text IS NULL OR j.component = $4)
           AND ($5::text IS NULL OR j.task_name = $5)
           AND ($6::timestamptz IS NULL OR j.enqueued_at >= $6)
           AND ($7::timestamptz IS NULL OR j.enqueued_at < $7)
         ORDER BY j.id DESC
         LIMIT $9"
    )))
    .bind(&params.tenant)
    .bind(&statuses)
    .bind(&params.queue_name)
    .bind(&params.component)
    .bind(&params.task_name)
    .bind(params.since)
    .bind(params.until)
    .bind(&params.before_id)
    .bind(i64::from(params.limit))
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
                enqueued_at: row.try_get("enqueued_at").map_err(get)?,
                finished_at: row.try_get("finished_at").map_err(get)?,
                attempts: row.try_get::<i32, _>("attempt").map_err(get)? as u32,
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
        "SELECT count(*), min(id) FROM (SELECT t.id {READ}) j"
    )))
    .bind(&params.tenant)
    .bind(&statuses)
    .bind(None::<&str>)
    .bind(None::<&str>)
    .bind(None::<&str>)
    .bind(None::<chrono::DateTime<chrono::Utc>>)
    .bind(None::<chrono::DateTime<chrono::Utc>>)
    .bind(&params.before_id)
    .bind(i64::from(params.limit))
    .bind(&params.after_id)
    .bind(scan)
    .fetch_one(pool)
    .await
    .map_err(StoreError::query(context))?;
    Ok(JobListed {
        jobs,
        scan_ended_at: oldest.filter(|_| scanned >= scan),
    })
}

pub(super) async fn retry(
    pool: &PgPool,
    tenant: &str,
    selection: RetrySelection,
) -> Result<Vec<RetryOutcome>, StoreError> {
    let context = "retrying jobs";
    let (ids, component, task_name) = match &selection {
        RetrySelection::Ids(ids) => (Some(ids.as_slice()), None, None),
        RetrySelection::Failed {
            component,
            task_name,
        } => (None, component.as_deref(), task_name.as_deref()),
    };
    let mut tx = pool.begin().await.map_err(StoreError::query(context))?;
    // A fresh budget of `max_attempts` on top of the attempts made so far; the
    // attempts themselves stay. Only jobs whose pinned version is still stored.
    let retried: Vec<String> = sqlx::query_scalar(concat!(
        "WITH retried AS (
            UPDATE tasks SET status = 'READY', available_at = now(), finished_at = NULL,
                return_value = NULL, lease_owner = NULL, lease_expires_at = NULL,
                retry_base = attempt
            WHERE tenant = $1
              AND (CASE WHEN $2::text[] IS NULL THEN status = 'FAILED'
                        ELSE status IN ('FAILED', 'CANCELLED') AND id = ANY($2) END)
              AND ($3::text IS NULL OR component = $3)
              AND ($4::text IS NULL OR task_name = $4)
              AND EXISTS (SELECT 1 FROM component_versions v
                          WHERE v.tenant = tasks.tenant AND v.digest = tasks.component_digest)
              AND NOT ",
        held_by_another!(),
        "
            RETURNING id, queue_name),
         notified AS (
            SELECT pg_notify('wasmtasks_jobs', queue_name) FROM retried GROUP BY queue_name)
         SELECT id FROM retried, (SELECT count(*) FROM notified) AS n"
    ))
    .bind(tenant)
    .bind(ids)
    .bind(component)
    .bind(task_name)
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    let others: Vec<(String, String, bool, bool)> = match ids {
        None => Vec::new(),
        Some(ids) => sqlx::query_as(concat!(
            "SELECT id, status, EXISTS (SELECT 1 FROM component_versions v
                       WHERE v.tenant = tasks.tenant AND v.digest = tasks.component_digest), ",
            held_by_another!(),
            " FROM tasks WHERE tenant = $1 AND id = ANY($2)"
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
    pool: &PgPool,
    params: JobCountFinished,
) -> Result<Vec<FinishedBucket>, StoreError> {
    let context = "counting finished jobs";
    // Whole minutes since the epoch, as finished_minutes (kept by triggers,
    // 0011_job_counts.sql) holds them: a day is 1,440 rows per status at most.
    let since = params.since.timestamp().div_euclid(60);
    let width = (params.bucket.as_secs() / 60).max(1) as i64;
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT (minute - $2) / $3 AS bucket, status, sum(n)::bigint
         FROM finished_minutes
         WHERE tenant = $1 AND minute >= $2
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
