//! Queries on `workers` (as SQLite's): times are read back in microseconds so
//! both dialects assemble their rows alike.

use sqlx::PgPool;

use crate::store::workers::{RunningRow, WorkerRow, assemble};
use crate::store::{
    FORGET_WORKERS_AFTER, StoreError, WorkerHeartbeat, WorkerRecord, WorkerRegistration,
};

/// A `timestamptz` column as µs since the epoch.
macro_rules! micros {
    ($column:literal) => {
        concat!("(extract(epoch FROM ", $column, ") * 1000000)::bigint")
    };
}

pub(super) async fn register(pool: &PgPool, worker: &WorkerRegistration) -> Result<(), StoreError> {
    let tenants = worker
        .tenants
        .as_ref()
        .map(|tenants| serde_json::to_string(tenants).unwrap_or_default());
    let forget_after = FORGET_WORKERS_AFTER.as_secs() as i64;
    sqlx::query(
        "WITH forgotten AS (
             DELETE FROM workers WHERE heartbeat_at < now() - make_interval(secs => $9)
             AND id <> $1)
         INSERT INTO workers (id, host, pid, version, queues, tenants, concurrency,
             heartbeat_every_ms, started_at, heartbeat_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, now(), now())
         ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
             version = excluded.version, queues = excluded.queues, tenants = excluded.tenants,
             concurrency = excluded.concurrency, heartbeat_every_ms = excluded.heartbeat_every_ms,
             started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
             stopped_at = NULL, finished = 0, failed = 0",
    )
    .bind(&worker.id)
    .bind(&worker.host)
    .bind(i64::from(worker.pid))
    .bind(&worker.version)
    .bind(&worker.queues)
    .bind(tenants)
    .bind(i64::from(worker.concurrency))
    .bind(worker.heartbeat_every.as_millis().min(i64::MAX as u128) as i64)
    .bind(forget_after as f64)
    .execute(pool)
    .await
    .map_err(StoreError::query("registering a worker"))?;
    Ok(())
}

pub(super) async fn heartbeat(
    pool: &PgPool,
    beat: WorkerHeartbeat<'_>,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE workers SET heartbeat_at = now(), finished = $2, failed = $3,
             stopped_at = CASE WHEN $4 THEN now() ELSE stopped_at END
         WHERE id = $1",
    )
    .bind(beat.id)
    .bind(beat.finished.min(i64::MAX as u64) as i64)
    .bind(beat.failed.min(i64::MAX as u64) as i64)
    .bind(beat.stopped)
    .execute(pool)
    .await
    .map_err(StoreError::query("recording a worker's heartbeat"))?
    .rows_affected();
    Ok(updated > 0)
}

pub(super) async fn list(
    pool: &PgPool,
    tenant: Option<&str>,
) -> Result<Vec<WorkerRecord>, StoreError> {
    const CONTEXT: &str = "listing workers";
    // The database's clock decides whether a heartbeat is late, as it decides leases.
    let now: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(pool)
        .await
        .map_err(StoreError::query(CONTEXT))?;
    let workers: Vec<WorkerRow> = sqlx::query_as(concat!(
        "SELECT id, host, pid, version, queues, tenants::text, concurrency,
             heartbeat_every_ms, ",
        micros!("started_at"),
        ", ",
        micros!("heartbeat_at"),
        ", ",
        micros!("stopped_at"),
        ", finished, failed FROM workers ORDER BY id"
    ))
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(CONTEXT))?;
    let running: Vec<RunningRow> = sqlx::query_as(concat!(
        "SELECT lease_owner, id, tenant, task_path, attempt::bigint, ",
        micros!("last_attempted_at"),
        " FROM tasks WHERE status = 'RUNNING' AND ($1::text IS NULL OR tenant = $1)
         ORDER BY lease_owner, last_attempted_at, id"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(CONTEXT))?;
    assemble(workers, running, now)
}
