//! Queries on `schedules`. A tick is taken by compare and set on `next_run_at`.

use chrono::{DateTime, Utc};
use sqlx::{Row, SqlitePool};

use super::{from_micros, micros};
use crate::schedule::{CatchUp, ScheduleSpec};
use crate::store::{ScheduleAdvance, SchedulePut, ScheduleRecord, ScheduleSource, StoreError};

macro_rules! columns {
    () => {
        "tenant, name, source, cron, timezone, task_path, args, kwargs, queue_name, priority,
         catch_up, paused, next_run_at, last_run_at, last_job_id, last_error"
    };
}

fn record(row: &sqlx::sqlite::SqliteRow) -> Result<ScheduleRecord, StoreError> {
    let context = "reading schedules";
    let get = |e| StoreError::Query { context, cause: e };
    let corrupt = |message: String| StoreError::Corrupt { context, message };
    let json = |column: &str| -> Result<serde_json::Value, StoreError> {
        let text: String = row.try_get(column).map_err(get)?;
        serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))
    };
    let source = match row.try_get::<String, _>("source").map_err(get)?.as_str() {
        "file" => ScheduleSource::File,
        _ => ScheduleSource::Store,
    };
    let catch_up = match row.try_get::<String, _>("catch_up").map_err(get)?.as_str() {
        "none" => CatchUp::None,
        _ => CatchUp::Latest,
    };
    Ok(ScheduleRecord {
        tenant: row.try_get("tenant").map_err(get)?,
        name: row.try_get("name").map_err(get)?,
        source,
        spec: ScheduleSpec {
            cron: row.try_get("cron").map_err(get)?,
            timezone: row.try_get("timezone").map_err(get)?,
            task_path: row.try_get("task_path").map_err(get)?,
            args: serde_json::from_value(json("args")?).map_err(|e| corrupt(e.to_string()))?,
            kwargs: serde_json::from_value(json("kwargs")?).map_err(|e| corrupt(e.to_string()))?,
            queue_name: row.try_get("queue_name").map_err(get)?,
            priority: row.try_get("priority").map_err(get)?,
            catch_up,
        },
        paused: row.try_get("paused").map_err(get)?,
        next_run_at: from_micros(row.try_get("next_run_at").map_err(get)?),
        last_run_at: row
            .try_get::<Option<i64>, _>("last_run_at")
            .map_err(get)?
            .map(from_micros),
        last_job_id: row.try_get("last_job_id").map_err(get)?,
        last_error: row.try_get("last_error").map_err(get)?,
    })
}

pub(super) async fn put(pool: &SqlitePool, put: SchedulePut) -> Result<(), StoreError> {
    let context = "storing a schedule";
    let spec = &put.spec;
    sqlx::query(
        "INSERT INTO schedules (tenant, name, source, cron, timezone, task_path, args, kwargs,
            queue_name, priority, catch_up, next_run_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (tenant, name) DO UPDATE SET
            source = excluded.source, task_path = excluded.task_path, args = excluded.args,
            kwargs = excluded.kwargs, queue_name = excluded.queue_name,
            priority = excluded.priority, catch_up = excluded.catch_up,
            next_run_at = CASE WHEN schedules.cron = excluded.cron
                                AND schedules.timezone = excluded.timezone
                               THEN schedules.next_run_at ELSE excluded.next_run_at END,
            cron = excluded.cron, timezone = excluded.timezone, updated_at = excluded.updated_at
         WHERE schedules.source <> excluded.source OR schedules.cron <> excluded.cron
            OR schedules.timezone <> excluded.timezone OR schedules.task_path <> excluded.task_path
            OR schedules.args <> excluded.args OR schedules.kwargs <> excluded.kwargs
            OR schedules.queue_name IS NOT excluded.queue_name
            OR schedules.priority IS NOT excluded.priority
            OR schedules.catch_up <> excluded.catch_up",
    )
    .bind(&put.tenant)
    .bind(&put.name)
    .bind(put.source.as_str())
    .bind(&spec.cron)
    .bind(&spec.timezone)
    .bind(&spec.task_path)
    .bind(serde_json::Value::Array(spec.args.clone()).to_string())
    .bind(serde_json::Value::Object(spec.kwargs.clone()).to_string())
    .bind(&spec.queue_name)
    .bind(spec.priority)
    .bind(spec.catch_up.as_str())
    .bind(micros(put.next_run_at))
    .bind(micros(Utc::now()))
    .execute(pool)
    .await
    .map_err(StoreError::query(context))?;
    Ok(())
}

pub(super) async fn list(
    pool: &SqlitePool,
    tenant: Option<&str>,
) -> Result<Vec<ScheduleRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM schedules WHERE ?1 IS NULL OR tenant = ?1 ORDER BY tenant, name"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("listing schedules"))?;
    rows.iter().map(record).collect()
}

pub(super) async fn delete(
    pool: &SqlitePool,
    tenant: &str,
    name: &str,
    source: Option<ScheduleSource>,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query(
        "DELETE FROM schedules WHERE tenant = ?1 AND name = ?2 AND (?3 IS NULL OR source = ?3)",
    )
    .bind(tenant)
    .bind(name)
    .bind(source.map(ScheduleSource::as_str))
    .execute(pool)
    .await
    .map_err(StoreError::query("deleting a schedule"))?
    .rows_affected();
    Ok(deleted > 0)
}

pub(super) async fn set_paused(
    pool: &SqlitePool,
    tenant: &str,
    name: &str,
    paused: bool,
) -> Result<bool, StoreError> {
    let changed = sqlx::query("UPDATE schedules SET paused = ?3 WHERE tenant = ?1 AND name = ?2")
        .bind(tenant)
        .bind(name)
        .bind(paused)
        .execute(pool)
        .await
        .map_err(StoreError::query("pausing a schedule"))?
        .rows_affected();
    Ok(changed > 0)
}

pub(super) async fn due(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ScheduleRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM schedules WHERE paused = 0 AND next_run_at <= ?1 ORDER BY next_run_at LIMIT ?2"
    ))
    .bind(micros(now))
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("finding due schedules"))?;
    rows.iter().map(record).collect()
}

pub(super) async fn advance(
    pool: &SqlitePool,
    advance: ScheduleAdvance,
) -> Result<bool, StoreError> {
    let taken = sqlx::query(
        "UPDATE schedules SET next_run_at = ?4, last_run_at = coalesce(?5, last_run_at),
            last_job_id = coalesce(?6, last_job_id), last_error = ?7
         WHERE tenant = ?1 AND name = ?2 AND next_run_at = ?3",
    )
    .bind(&advance.tenant)
    .bind(&advance.name)
    .bind(micros(advance.expected))
    .bind(micros(advance.next))
    .bind(advance.tick.map(micros))
    .bind(&advance.job_id)
    .bind(&advance.error)
    .execute(pool)
    .await
    .map_err(StoreError::query("taking a schedule's tick"))?
    .rows_affected();
    Ok(taken == 1)
}
