//! The pruner's batches: candidates are read on a reader connection, without the
//! write lock; each delete then takes the lock for one short write, checking the
//! candidates again (a job retried meanwhile is no longer finished).

use sqlx::SqlitePool;

use super::jobs::json;
use super::micros;
use crate::store::{PruneBatch, PruneReport, StoreError, prune_report};

/// Finished jobs past their age; `?1` finished, `?2` failed, `?1`/`?2`'s later one
/// bounds the `finished_at` index scan.
macro_rules! finished_past_age {
    () => {
        "finished_at IS NOT NULL AND finished_at < max(?1, ?2)
         AND ((status IN ('SUCCESSFUL', 'CANCELLED') AND finished_at < ?1)
              OR (status = 'FAILED' AND finished_at < ?2))"
    };
}

pub(super) async fn prune_batch(
    reader: &SqlitePool,
    writer: &SqlitePool,
    batch: PruneBatch,
) -> Result<PruneReport, StoreError> {
    let context = "pruning old jobs";
    let (finished, failed, stale) = (
        micros(batch.finished_before),
        micros(batch.failed_before),
        micros(batch.stale_before),
    );
    let candidates: Vec<String> = sqlx::query_scalar(concat!(
        "SELECT id FROM tasks WHERE ",
        finished_past_age!(),
        " LIMIT ?3"
    ))
    .bind(finished)
    .bind(failed)
    .bind(batch.limit)
    .fetch_all(reader)
    .await
    .map_err(StoreError::query(context))?;
    let statuses: Vec<String> = if candidates.is_empty() {
        Vec::new()
    } else {
        // Attempts go with their jobs (a cascading foreign key).
        sqlx::query_scalar(concat!(
            "DELETE FROM tasks WHERE id IN (SELECT value FROM jsonb_each(?3)) AND ",
            finished_past_age!(),
            " RETURNING status"
        ))
        .bind(finished)
        .bind(failed)
        .bind(json(&candidates, context)?)
        .fetch_all(writer)
        .await
        .map_err(StoreError::query(context))?
    };
    let mut report = prune_report(statuses);
    let stale_ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM tasks WHERE status = 'READY' AND available_at < ?1 LIMIT ?2",
    )
    .bind(stale)
    .bind(batch.limit)
    .fetch_all(reader)
    .await
    .map_err(StoreError::query(context))?;
    if !stale_ids.is_empty() {
        report.stale = sqlx::query(
            "DELETE FROM tasks WHERE id IN (SELECT value FROM jsonb_each(?2))
             AND status = 'READY' AND available_at < ?1",
        )
        .bind(stale)
        .bind(json(&stale_ids, context)?)
        .execute(writer)
        .await
        .map_err(StoreError::query(context))?
        .rows_affected();
    }
    // Events are in `seq` order and so roughly by age: the oldest are first.
    report.events = sqlx::query(
        "DELETE FROM task_events WHERE seq IN (
            SELECT seq FROM task_events WHERE at < ?1 ORDER BY seq LIMIT ?2)
          AND seq < (SELECT max(seq) FROM task_events)",
    )
    .bind(finished)
    .bind(batch.limit)
    .execute(writer)
    .await
    .map_err(StoreError::query(context))?
    .rows_affected();
    Ok(report)
}
