//! Setting a value in `component_config` (the other queries are in
//! `store/capabilities.rs`, shared by both dialects).

use chrono::Utc;
use sqlx::SqlitePool;

use super::micros;
use crate::store::{ComponentConfigSet, StoreError};

pub(super) async fn set(pool: &SqlitePool, params: ComponentConfigSet) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO component_config (tenant, component, key, value, secret, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (tenant, component, key)
         DO UPDATE SET value = excluded.value, secret = excluded.secret,
                       updated_at = excluded.updated_at",
    )
    .bind(&params.tenant)
    .bind(&params.component)
    .bind(&params.key)
    .bind(&params.value.value)
    .bind(params.value.secret)
    .bind(micros(Utc::now()))
    .execute(pool)
    .await
    .map_err(StoreError::query("setting a configuration value"))?;
    Ok(())
}
