//! An attempt read back from a row that joins `task_attempts` to its job: the same
//! columns in both dialects, but for how each keeps the attempt's number and times.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Row, Type};
use wasmtasks_sandbox::AttemptMetrics;

use super::{StoreError, parse_status};
use crate::task::{AttemptRecord, TaskError};

/// The columns each dialect decodes its own way, already decoded.
pub(crate) struct AttemptKey {
    /// The attempt's number (`a_attempt`).
    pub attempt: u32,
    /// When it started (`a_started_at`).
    pub started_at: DateTime<Utc>,
    /// When it finished (`a_finished_at`).
    pub finished_at: DateTime<Utc>,
}

/// The attempts that joined `rows` carry, in order: `key` reads a row's number and
/// times, or `None` for the one row of a job without attempts.
pub(crate) fn attempt_log<'r, R>(
    rows: &'r [R],
    key: impl Fn(&'r R) -> Result<Option<AttemptKey>, sqlx::Error>,
    context: &'static str,
) -> Result<Vec<AttemptRecord>, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut log = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(key) = key(row).map_err(StoreError::query(context))? {
            log.push(attempt_record(row, key, context)?);
        }
    }
    Ok(log)
}

/// The attempt `row` carries, numbered and timed by `key`; the rest of its columns
/// are `a_worker_id`, `a_status`, `exception_class_path`, `traceback`,
/// `fuel_consumed`, `peak_memory_bytes`, `duration_us`, `http_requests`, `stdout`
/// and `stderr`.
fn attempt_record<'r, R>(
    row: &'r R,
    key: AttemptKey,
    context: &'static str,
) -> Result<AttemptRecord, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let get = |e| StoreError::Query { context, cause: e };
    let count = |column| -> Result<u64, StoreError> {
        Ok(row.try_get::<i64, _>(column).map_err(get)? as u64)
    };
    let class: Option<String> = row.try_get("exception_class_path").map_err(get)?;
    let traceback: Option<String> = row.try_get("traceback").map_err(get)?;
    Ok(AttemptRecord {
        attempt: key.attempt,
        worker_id: row.try_get("a_worker_id").map_err(get)?,
        started_at: key.started_at,
        finished_at: key.finished_at,
        status: parse_status(&row.try_get::<String, _>("a_status").map_err(get)?, context)?,
        error: class.map(|exception_class_path| TaskError {
            exception_class_path,
            traceback: traceback.unwrap_or_default(),
        }),
        metrics: AttemptMetrics {
            fuel_consumed: count("fuel_consumed")?,
            peak_memory_bytes: count("peak_memory_bytes")?,
            duration_us: count("duration_us")?,
            http_requests: count("http_requests")?,
        },
        stdout: row.try_get("stdout").map_err(get)?,
        stderr: row.try_get("stderr").map_err(get)?,
    })
}
