//! Reading a job and its attempts back as a Django-shaped TaskResult.

use sqlx::{Row, SqlitePool};
use wasmtasks_sandbox::AttemptMetrics;

use super::from_micros;
use crate::store::{StoreError, parse_status};
use crate::task::{AttemptRecord, TaskError, TaskResult};

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
    // One read transaction: a WAL snapshot, so a completion committed between the
    // two reads cannot show its worker both as the lease owner and in the attempts.
    let mut tx = pool.begin().await.map_err(get)?;
    let Some(row) = sqlx::query(
        "SELECT id, task_path, component_digest, status, args, kwargs, priority, queue_name,
            backend, run_after, enqueued_at, started_at, finished_at, last_attempted_at, attempt,
            lease_owner, return_value
         FROM tasks WHERE tenant = ?1 AND id = ?2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(get)?
    else {
        return Ok(None);
    };
    let attempts = sqlx::query(
        "SELECT attempt, worker_id, started_at, finished_at, status, exception_class_path,
            traceback, fuel_consumed, peak_memory_bytes, duration_us, http_requests, stdout,
            stderr
         FROM task_attempts WHERE task_id = ?1 ORDER BY attempt",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(get)?;
    tx.commit().await.map_err(get)?;
    let attempt_log = attempts
        .iter()
        .map(|a| {
            let class: Option<String> = a.try_get("exception_class_path").map_err(get)?;
            let traceback: Option<String> = a.try_get("traceback").map_err(get)?;
            Ok(AttemptRecord {
                attempt: a.try_get::<i64, _>("attempt").map_err(get)? as u32,
                worker_id: a.try_get("worker_id").map_err(get)?,
                started_at: from_micros(a.try_get("started_at").map_err(get)?),
                finished_at: from_micros(a.try_get("finished_at").map_err(get)?),
                status: parse_status(&a.try_get::<String, _>("status").map_err(get)?, context)?,
                error: class.map(|exception_class_path| TaskError {
                    exception_class_path,
                    traceback: traceback.unwrap_or_default(),
                }),
                metrics: AttemptMetrics {
                    fuel_consumed: a.try_get::<i64, _>("fuel_consumed").map_err(get)? as u64,
                    peak_memory_bytes: a.try_get::<i64, _>("peak_memory_bytes").map_err(get)?
                        as u64,
                    duration_us: a.try_get::<i64, _>("duration_us").map_err(get)? as u64,
                    http_requests: a.try_get::<i64, _>("http_requests").map_err(get)? as u64,
                },
                stdout: a.try_get("stdout").map_err(get)?,
                stderr: a.try_get("stderr").map_err(get)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
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
