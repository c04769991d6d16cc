//! Queries on `task_events`. A cursor is `<xid>.<seq>`: events are read in (xid,
//! seq) order, only those of transactions older than every transaction still
//! running, so one that commits late is never passed over (see the migration).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};

use crate::store::{EventPage, StoreError, TaskEvent, parse_status};

/// The `(xid, seq)` a cursor stands for.
fn parse(cursor: &str) -> Result<(i64, i64), StoreError> {
    let bad = || StoreError::BadCursor(cursor.to_owned());
    let (xid, seq) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((
        xid.parse().map_err(|_| bad())?,
        seq.parse().map_err(|_| bad())?,
    ))
}

pub(super) async fn list(
    pool: &PgPool,
    tenant: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<EventPage, StoreError> {
    let context = "reading events";
    let Some(after) = after else {
        // Where the stream stands: every transaction from the oldest still running on.
        let xmin: i64 =
            sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
                .fetch_one(pool)
                .await
                .map_err(StoreError::query(context))?;
        return Ok(EventPage {
            events: Vec::new(),
            cursor: format!("{xmin}.0"),
        });
    };
    let (xid, seq) = parse(after)?;
    let rows = sqlx::query(
        "SELECT xid::text::bigint AS xid, seq, task_id, task_path, status, attempt, at
         FROM task_events
         WHERE tenant = $1 AND (xid, seq) > ($2::text::xid8, $3)
           AND xid < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY xid, seq LIMIT $4",
    )
    .bind(tenant)
    .bind(xid.to_string())
    .bind(seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(context))?;
    let mut cursor = after.to_owned();
    let events = rows
        .iter()
        .map(|row| {
            let get = |e| StoreError::Query { context, cause: e };
            let xid: i64 = row.try_get("xid").map_err(get)?;
            let seq: i64 = row.try_get("seq").map_err(get)?;
            cursor = format!("{xid}.{seq}");
            Ok(TaskEvent {
                cursor: cursor.clone(),
                task_id: row.try_get("task_id").map_err(get)?,
                task_path: row.try_get("task_path").map_err(get)?,
                status: parse_status(&row.try_get::<String, _>("status").map_err(get)?, context)?,
                attempt: row.try_get::<i32, _>("attempt").map_err(get)? as u32,
                at: row.try_get::<DateTime<Utc>, _>("at").map_err(get)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(EventPage { events, cursor })
}

/// The condition that spares the newest event of all (as SQLite, whose `seq` must
/// not go back): found through the primary key, where `max(seq)` read every event.
macro_rules! not_the_newest_event {
    () => {
        "(xid, seq) < (SELECT xid, seq FROM task_events ORDER BY xid DESC, seq DESC LIMIT 1)"
    };
}
pub(super) use not_the_newest_event;

/// Deletes (or counts, for a dry run) the tenant's events from before `before`,
/// but never the newest event of all.
pub(super) async fn prune(
    connection: &mut PgConnection,
    tenant: &str,
    before: DateTime<Utc>,
    dry_run: bool,
) -> Result<u64, StoreError> {
    let context = "pruning events";
    macro_rules! old_events {
        () => {
            concat!(
                "FROM task_events WHERE tenant = $1 AND at < $2 AND ",
                not_the_newest_event!()
            )
        };
    }
    let query = if dry_run {
        concat!("SELECT count(*) ", old_events!())
    } else {
        concat!(
            "WITH gone AS (DELETE ",
            old_events!(),
            " RETURNING 1) SELECT count(*) FROM gone"
        )
    };
    let count: i64 = sqlx::query_scalar(query)
        .bind(tenant)
        .bind(before)
        .fetch_one(connection)
        .await
        .map_err(StoreError::query(context))?;
    Ok(count as u64)
}
