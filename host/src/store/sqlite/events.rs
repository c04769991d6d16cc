//! Queries on `task_events`: the changes of jobs' statuses, in the order the one
//! writer made them, so `seq` is the cursor.

use sqlx::{Row, SqlitePool};

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
    let rows = sqlx::query(
        "SELECT seq, task_id, task_path, status, attempt, at FROM task_events
         WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )
    .bind(tenant)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(context))?;
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
    Ok(EventPage {
        events,
        cursor: cursor.to_string(),
    })
}
