//! Queries on `queue_pauses`: a tenant's paused queues, which no claim takes from.

use chrono::Utc;
use sqlx::SqlitePool;

use super::micros;
use crate::store::StoreError;

pub(super) async fn set_paused(
    pool: &SqlitePool,
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
            "INSERT INTO queue_pauses (tenant, queue_name, paused_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(queue)
        .bind(micros(Utc::now()))
    } else {
        sqlx::query("DELETE FROM queue_pauses WHERE tenant = ?1 AND queue_name = ?2")
            .bind(tenant)
            .bind(queue)
    };
    let changed = query
        .execute(pool)
        .await
        .map_err(StoreError::query(context))?
        .rows_affected();
    Ok(changed > 0)
}

pub(super) async fn paused(pool: &SqlitePool, tenant: &str) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar("SELECT queue_name FROM queue_pauses WHERE tenant = ?1 ORDER BY queue_name")
        .bind(tenant)
        .fetch_all(pool)
        .await
        .map_err(StoreError::query("listing paused queues"))
}
