//! The pruner's batches (as SQLite's): each kind is one statement that picks at
//! most `limit` rows, skipping rows other transactions hold.
//!
//! Known cost: until a vacuum, `tasks_finished` keeps the entries of the rows
//! earlier batches deleted, and the planner's bitmap scan reads them all again
//! on every batch, so a batch slows as a large backlog is pruned (a million
//! jobs: 2,500 a second). A cursor (the last `finished_at` pruned) would bound
//! the scan.

use sqlx::PgPool;

use super::events::not_the_newest_event;
use crate::store::{PruneBatch, PruneReport, StoreError, prune_report};

/// Deletes the jobs `picked` holds (`ids`, an array) and their attempts. By the
/// array, each delete is an index scan whatever the planner guesses of a batch's
/// size: a join there became a scan of every attempt, per batch, once the tables
/// grew faster than their statistics (1,200 jobs/s pruned with a million).
macro_rules! delete_picked {
    () => {
        "attempts AS (DELETE FROM task_attempts
                      WHERE task_id = ANY ((SELECT ids FROM picked)::text[]))
         DELETE FROM tasks WHERE id = ANY ((SELECT ids FROM picked)::text[])"
    };
}

pub(super) async fn prune_batch(
    pool: &PgPool,
    batch: PruneBatch,
) -> Result<PruneReport, StoreError> {
    let context = "pruning old jobs";
    let statuses: Vec<String> = sqlx::query_scalar(concat!(
        "WITH picked AS MATERIALIZED (SELECT array_agg(id) AS ids FROM (
                SELECT id FROM tasks
                WHERE finished_at IS NOT NULL AND finished_at < greatest($1, $2)
                  AND ((status IN ('SUCCESSFUL', 'CANCELLED') AND finished_at < $1)
                       OR (status = 'FAILED' AND finished_at < $2))
                LIMIT $3 FOR UPDATE SKIP LOCKED) p), ",
        delete_picked!(),
        " RETURNING status"
    ))
    .bind(batch.finished_before)
    .bind(batch.failed_before)
    .bind(i64::from(batch.limit))
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(context))?;
    let mut report = prune_report(statuses);
    report.stale = sqlx::query(concat!(
        "WITH picked AS MATERIALIZED (SELECT array_agg(id) AS ids FROM (
            SELECT id FROM tasks WHERE status = 'READY' AND available_at < $1
            LIMIT $2 FOR UPDATE SKIP LOCKED) p), ",
        delete_picked!()
    ))
    .bind(batch.stale_before)
    .bind(i64::from(batch.limit))
    .execute(pool)
    .await
    .map_err(StoreError::query(context))?
    .rows_affected();
    report.events = sqlx::query(concat!(
        "DELETE FROM task_events WHERE (xid, seq) IN (
            SELECT xid, seq FROM task_events WHERE at < $1 LIMIT $2) AND ",
        not_the_newest_event!()
    ))
    .bind(batch.finished_before)
    .bind(i64::from(batch.limit))
    .execute(pool)
    .await
    .map_err(StoreError::query(context))?
    .rows_affected();
    Ok(report)
}
