//! Reading a job and its attempts back as a Django-shaped TaskResult, in one query.

use sqlx::{Row, SqlitePool};

use super::from_micros;
use crate::store::attempt_row::{AttemptKey, attempt_log};
use crate::store::{StoreError, parse_status};
use crate::task::TaskResult;

pub(super) async fn get(
    pool: &SqlitePool,
    tenant: &str,
    id: &str,
) -> Result<Option<TaskResult>, StoreError> {
    let context = "reading a task result";
    let get = |e| StoreError::Query { context, cause: e };
    let corrupt = |e: serde_json::Error| StoreError::Corrupt {
        context,
        message: e.to_string(),
    };
    // One statement, so one snapshot: a completion committed meanwhile cannot show
    // its worker both as the lease owner and in the attempts. One row per attempt
    // (or one row with no attempt), the job's columns repeated.
    let rows = sqlx::query(
        "SELECT t.id, t.task_path, t.component_digest, t.status, t.args, t.kwargs, t.priority,
            t.queue_name, t.backend, t.run_after, t.enqueued_at, t.started_at, t.finished_at,
            t.last_attempted_at, t.attempt, t.lease_owner, t.return_value,
            a.attempt AS a_attempt, a.worker_id AS a_worker_id, a.started_at AS a_started_at,
            a.finished_at AS a_finished_at, a.status AS a_status, a.exception_class_path,
            a.traceback, a.fuel_consumed, a.peak_memory_bytes, a.duration_us, a.http_requests,
            a.stdout, a.stderr
         FROM tasks t LEFT JOIN task_attempts a ON a.task_id = t.id
         WHERE t.tenant = ?1 AND t.id = ?2
         ORDER BY a.attempt",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(get)?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let attempt_log = attempt_log(
        &rows,
        |row| {
            let Some(attempt) = row.try_get::<Option<i64>, _>("a_attempt")? else {
                return Ok(None);
            };
            Ok(Some(AttemptKey {
                attempt: attempt as u32,
                started_at: from_micros(row.try_get("a_started_at")?),
                finished_at: from_micros(row.try_get("a_finished_at")?),
            }))
        },
        context,
    )?;
    let time = |name: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        Ok(row
            .try_get::<Option<i64>, _>(name)
            .map_err(get)?
            .map(from_micros))
    };
    let args: String = row.try_get("args").map_err(get)?;
    let kwargs: String = row.try_get("kwargs").map_err(get)?;
    let return_value: Option<String> = row.try_get("return_value").map_err(get)?;
    let lease_owner: Option<String> = row.try_get("lease_owner").map_err(get)?;
    let mut worker_ids: Vec<String> = attempt_log.iter().map(|a| a.worker_id.clone()).collect();
    worker_ids.extend(lease_owner);
    Ok(Some(TaskResult {
        id: row.try_get("id").map_err(get)?,
        task_path: row.try_get("task_path").map_err(get)?,
        component_digest: row.try_get("component_digest").map_err(get)?,
        status: parse_status(&row.try_get::<String, _>("status").map_err(get)?, context)?,
        args: serde_json::from_str(&args).map_err(corrupt)?,
        kwargs: serde_json::from_str(&kwargs).map_err(corrupt)?,
        priority: row.try_get("priority").map_err(get)?,
        queue_name: row.try_get("queue_name").map_err(get)?,
        backend: row.try_get("backend").map_err(get)?,
        run_after: time("run_after")?,
        enqueued_at: time("enqueued_at")?.unwrap_or_default(),
        started_at: time("started_at")?,
        finished_at: time("finished_at")?,
        last_attempted_at: time("last_attempted_at")?,
        worker_ids,
        attempts: row.try_get::<i64, _>("attempt").map_err(get)? as u32,
        errors: attempt_log.iter().filter_map(|a| a.error.clone()).collect(),
        return_value: return_value
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(corrupt)?,
        attempt_log,
    }))
}
