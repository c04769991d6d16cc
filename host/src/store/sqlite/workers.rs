//! Queries on `workers`: registrations, heartbeats, and the list with the jobs
//! each worker runs.

use chrono::Utc;
use sqlx::SqlitePool;

use super::micros;
use crate::store::workers::{RunningRow, WorkerRow, assemble};
use crate::store::{
    FORGET_WORKERS_AFTER, StoreError, WorkerHeartbeat, WorkerRecord, WorkerRegistration,
};

pub(super) async fn register(
    pool: &SqlitePool,
    worker: &WorkerRegistration,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let forget_before = now - FORGET_WORKERS_AFTER;
    let tenants = worker
        .tenants
        .as_ref()
        .map(|tenants| serde_json::to_string(tenants).unwrap_or_default());
    let mut tx = pool
        .begin()
        .await
        .map_err(StoreError::query("registering a worker"))?;
    sqlx::query("DELETE FROM workers WHERE heartbeat_at < ?1")
        .bind(micros(forget_before))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query("forgetting old workers"))?;
    sqlx::query(
        "INSERT INTO workers (id, host, pid, version, queues, tenants, concurrency,
             heartbeat_every_ms, started_at, heartbeat_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
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
    .bind(micros(now))
    .execute(&mut *tx)
    .await
    .map_err(StoreError::query("registering a worker"))?;
    tx.commit()
        .await
        .map_err(StoreError::query("registering a worker"))
}

pub(super) async fn heartbeat(
    pool: &SqlitePool,
    beat: WorkerHeartbeat<'_>,
) -> Result<bool, StoreError> {
    let now = micros(Utc::now());
    let updated = sqlx::query(
        "UPDATE workers SET heartbeat_at = ?2, finished = ?3, failed = ?4,
             stopped_at = CASE WHEN ?5 THEN ?2 ELSE stopped_at END
         WHERE id = ?1",
    )
    .bind(beat.id)
    .bind(now)
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
    pool: &SqlitePool,
    tenant: Option<&str>,
) -> Result<Vec<WorkerRecord>, StoreError> {
    const CONTEXT: &str = "listing workers";
    let now = Utc::now();
    let workers: Vec<WorkerRow> = sqlx::query_as(
        "SELECT id, host, pid, version, queues, tenants, concurrency, heartbeat_every_ms,
             started_at, heartbeat_at, stopped_at, finished, failed
         FROM workers ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(CONTEXT))?;
    let running: Vec<RunningRow> = sqlx::query_as(
        "SELECT lease_owner, id, tenant, task_path, attempt, last_attempted_at FROM tasks
         WHERE status = 'RUNNING' AND (?1 IS NULL OR tenant = ?1)
         ORDER BY lease_owner, last_attempted_at, id",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(CONTEXT))?;
    assemble(workers, running, now)
}
