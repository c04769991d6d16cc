//! Reading a job and its attempts back as a Django-shaped TaskResult, in one query.

use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgPool, Row};

use crate::store::attempt_row::{AttemptKey, attempt_log};
use crate::store::{StoreError, parse_status};
use crate::task::TaskResult;

pub(super) async fn get(
    pool: &PgPool,
    tenant: &str,
    id: &str,
) -> Result<Option<TaskResult>, StoreError> {
    let context = "reading a task result";
    // One row per attempt (or one row with no attempt), the job's columns repeated.
    let rows = sqlx::query(
        "SELECT t.id, t.task_path, t.component_digest, t.status, t.args, t.kwargs, t.priority,
            t.queue_name, t.backend, t.run_after, t.enqueued_at, t.started_at, t.finished_at,
            t.last_attempted_at, t.attempt, t.lease_owner, t.return_value,
            a.attempt AS a_attempt, a.worker_id AS a_worker_id, a.started_at AS a_started_at,
            a.finished_at AS a_finished_at, a.status AS a_status, a.exception_class_path,
            a.traceback, a.fuel_consumed, a.peak_memory_bytes, a.duration_us, a.http_requests,
            a.stdout, a.stderr
         FROM tasks t LEFT JOIN task_attempts a ON a.task_id = t.id
         WHERE t.tenant = $1 AND t.id = $2
         ORDER BY a.attempt",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(context))?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let get = |e| StoreError::Query { context, cause: e };
    let attempt_log = attempt_log(
        &rows,
        |row| {
            let Some(attempt) = row.try_get::<Option<i32>, _>("a_attempt")? else {
                return Ok(None);
            };
            Ok(Some(AttemptKey {
                attempt: attempt as u32,
                started_at: row.try_get("a_started_at")?,
                finished_at: row.try_get("a_finished_at")?,
            }))
        },
        context,
    )?;
    let lease_owner: Option<String> = row.try_get("lease_owner").map_err(get)?;
    let mut worker_ids: Vec<String> = attempt_log.iter().map(|a| a.worker_id.clone()).collect();
    worker_ids.extend(lease_owner);
    Ok(Some(TaskResult {
        id: row.try_get("id").map_err(get)?,
        task_path: row.try_get("task_path").map_err(get)?,
        component_digest: row.try_get("component_digest").map_err(get)?,
        status: parse_status(&row.try_get::<String, _>("status").map_err(get)?, context)?,
        args: row.try_get::<Json<Vec<Value>>, _>("args").map_err(get)?.0,
        kwargs: row.try_get::<Json<_>, _>("kwargs").map_err(get)?.0,
        priority: row.try_get("priority").map_err(get)?,
        queue_name: row.try_get("queue_name").map_err(get)?,
        backend: row.try_get("backend").map_err(get)?,
        run_after: row.try_get("run_after").map_err(get)?,
        enqueued_at: row.try_get("enqueued_at").map_err(get)?,
        started_at: row.try_get("started_at").map_err(get)?,
        finished_at: row.try_get("finished_at").map_err(get)?,
        last_attempted_at: row.try_get("last_attempted_at").map_err(get)?,
        worker_ids,
        attempts: row.try_get::<i32, _>("attempt").map_err(get)? as u32,
        errors: attempt_log.iter().filter_map(|a| a.error.clone()).collect(),
        return_value: row
            .try_get::<Option<Json<Value>>, _>("return_value")
            .map_err(get)?
            .map(|json| json.0),
        attempt_log,
    }))
}
