//! The pruner's batches (as SQLite's): each kind is one statement that picks at
//! most `limit` rows, skipping rows other transactions hold.

use sqlx::PgPool;

use crate::store::{PruneBatch, PruneReport, StoreError, prune_report};

pub(super) async fn prune_batch(
    pool: &PgPool,
    batch: PruneBatch,
) -> Result<PruneReport, StoreError> {
    let context = "pruning old jobs";
    let statuses: Vec<String> = sqlx::query_scalar(
        "WITH picked AS (
            SELECT id FROM tasks
            WHERE finished_at IS NOT NULL AND finished_at < greatest($1, $2)
              AND ((status IN ('SUCCESSFUL', 'CANCELLED') AND finished_at < $1)
                   OR (status = 'FAILED' AND finished_at < $2))
            LIMIT $3 FOR UPDATE SKIP LOCKED),
         attempts AS (DELETE FROM task_attempts WHERE task_id IN (SELECT id FROM picked))
         DELETE FROM tasks WHERE id IN (SELECT id FROM picked) RETURNING status",
    )
    .bind(batch.finished_before)
    .bind(batch.failed_before)
    .bind(i64::from(batch.limit))
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(context))?;
    let mut report = prune_report(statuses);
    report.stale = sqlx::query(
        "WITH picked AS (
            SELECT id FROM tasks WHERE status = 'READY' AND available_at < $1
            LIMIT $2 FOR UPDATE SKIP LOCKED),
         attempts AS (DELETE FROM task_attempts WHERE task_id IN (SELECT id FROM picked))
         DELETE FROM tasks WHERE id IN (SELECT id FROM picked)",
    )
    .bind(batch.stale_before)
    .bind(i64::from(batch.limit))
    .execute(pool)
    .await
    .map_err(StoreError::query(context))?
    .rows_affected();
    report.events = sqlx::query(
        "DELETE FROM task_events WHERE (xid, seq) IN (
            SELECT xid, seq FROM task_events WHERE at < $1 LIMIT $2)
          AND seq < (SELECT max(seq) FROM task_events)",
    )
    .bind(batch.finished_before)
    .bind(i64::from(batch.limit))
    .execute(pool)
    .await
    .map_err(StoreError::query(context))?
    .rows_affected();
    Ok(report)
}
