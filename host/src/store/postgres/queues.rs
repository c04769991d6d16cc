//! Queries on `queue_pauses` (as SQLite's): a resumed queue wakes the workers.

use sqlx::PgPool;

use crate::store::StoreError;

pub(super) async fn set_paused(
    pool: &PgPool,
    tenant: &str,
    queue: &str,
    paused: bool,
) -> Result<bool, StoreError> {
    let context = if paused {
        "pausing a queue"
    } else {
        "resuming a queue"
    };
    let query = if paused {
        sqlx::query(
            "INSERT INTO queue_pauses (tenant, queue_name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
    } else {
        sqlx::query(
            "WITH resumed AS (DELETE FROM queue_pauses WHERE tenant = $1 AND queue_name = $2
                              RETURNING queue_name)
             SELECT pg_notify('wasmtasks_jobs', queue_name) FROM resumed",
        )
    };
    let changed = query
        .bind(tenant)
        .bind(queue)
        .execute(pool)
        .await
        .map_err(StoreError::query(context))?
        .rows_affected();
    Ok(changed > 0)
}

pub(super) async fn paused(pool: &PgPool, tenant: &str) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar("SELECT queue_name FROM queue_pauses WHERE tenant = $1 ORDER BY queue_name")
        .bind(tenant)
        .fetch_all(pool)
        .await
        .map_err(StoreError::query("listing paused queues"))
}
