//! Queries on `task_events`: the changes of jobs' statuses, in the order the one
//! writer made them, so `seq` is the cursor. The table has no index but its rowid:
//! a read scans forward from the cursor, and a page shorter than asked for moves
//! the cursor to the newest event of all tenants, so the next read starts there.

use sqlx::{Row, SqliteConnection, SqlitePool};

use super::from_micros;
use crate::store::{EventPage, StoreError, TaskEvent, parse_status};

pub(super) async fn list(
    pool: &SqlitePool,
    tenant: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<EventPage, StoreError> {
    let context = "reading events";
    let after: i64 = match after {
        Some(cursor) => cursor
            .parse()
            .map_err(|_| StoreError::BadCursor(cursor.to_owned()))?,
        None => {
            let latest: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM task_events")
                .fetch_one(pool)
                .await
                .map_err(StoreError::query(context))?;
            return Ok(EventPage {
                events: Vec::new(),
                cursor: latest.unwrap_or(0).to_string(),
            });
        }
    };
    // One snapshot for the page and the newest event.
    let mut tx = pool.begin().await.map_err(StoreError::query(context))?;
    let rows = sqlx::query(
        "SELECT seq, task_id, task_path, status, attempt, at FROM task_events
         WHERE seq > ?2 AND tenant = ?1 ORDER BY seq LIMIT ?3",
    )
    .bind(tenant)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    let head: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM task_events")
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query(context))?;
    tx.commit().await.map_err(StoreError::query(context))?;
    let mut cursor = after;
    let events = rows
        .iter()
        .map(|row| {
            let get = |e| StoreError::Query { context, cause: e };
            let seq: i64 = row.try_get("seq").map_err(get)?;
            cursor = seq;
            Ok(TaskEvent {
                cursor: seq.to_string(),
                task_id: row.try_get("task_id").map_err(get)?,
                task_path: row.try_get("task_path").map_err(get)?,
                status: parse_status(&row.try_get::<String, _>("status").map_err(get)?, context)?,
                attempt: row.try_get::<i64, _>("attempt").map_err(get)? as u32,
                at: from_micros(row.try_get("at").map_err(get)?),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if events.len() < limit as usize {
        cursor = cursor.max(head.unwrap_or(0));
    }
    Ok(EventPage {
        events,
        cursor: cursor.to_string(),
    })
}

/// Deletes (or counts, for a dry run) the tenant's events from before `before`
/// (microseconds), but never the newest event of all: `seq` must not go back.
pub(super) async fn prune(
    connection: &mut SqliteConnection,
    tenant: &str,
    before: i64,
    dry_run: bool,
) -> Result<u64, StoreError> {
    let context = "pruning events";
    macro_rules! old_events {
        () => {
            "FROM task_events WHERE tenant = ?1 AND at < ?2
               AND seq < (SELECT max(seq) FROM task_events)"
        };
    }
    if dry_run {
        let count: i64 = sqlx::query_scalar(concat!("SELECT count(*) ", old_events!()))
            .bind(tenant)
            .bind(before)
            .fetch_one(connection)
            .await
            .map_err(StoreError::query(context))?;
        return Ok(count as u64);
    }
    Ok(sqlx::query(concat!("DELETE ", old_events!()))
        .bind(tenant)
        .bind(before)
        .execute(connection)
        .await
        .map_err(StoreError::query(context))?
        .rows_affected())
}
