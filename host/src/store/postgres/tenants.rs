//! Queries on `tenants` and `tokens`.

use sqlx::types::Json;
use sqlx::{PgPool, Row};
use wasmtasks_sandbox::OriginPattern;

use crate::store::{
    NewToken, Quotas, StoreError, Tenant, TenantDeleted, TokenRecord, UsageCounts, UsageDay,
};

/// The query a [`Tenant`] is read with, before its `WHERE` or `ORDER BY`.
macro_rules! select_tenants {
    () => {
        "SELECT name, http_ceiling, created_at, max_running, max_queued, enqueue_rate,
            enqueue_burst, max_fuel, max_timeout_ms, max_memory_bytes, max_component_bytes,
            max_components, weight FROM tenants"
    };
}

pub(super) async fn create(pool: &PgPool, name: &str) -> Result<bool, StoreError> {
    let created =
        sqlx::query("INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(pool)
            .await
            .map_err(StoreError::query("creating a tenant"))?;
    Ok(created.rows_affected() == 1)
}

fn tenant_from_row(row: &sqlx::postgres::PgRow) -> Result<Tenant, StoreError> {
    let read = || -> Result<Tenant, sqlx::Error> {
        let small = |column: &str| -> Result<Option<u32>, sqlx::Error> {
            Ok(row
                .try_get::<Option<i32>, _>(column)?
                .map(|n| n.max(0) as u32))
        };
        let count = |column: &str| -> Result<Option<u64>, sqlx::Error> {
            Ok(row
                .try_get::<Option<i64>, _>(column)?
                .map(|n| n.max(0) as u64))
        };
        Ok(Tenant {
            name: row.try_get("name")?,
            http_ceiling: row
                .try_get::<Json<Vec<OriginPattern>>, _>("http_ceiling")?
                .0,
            quotas: Quotas {
                max_running: small("max_running")?,
                max_queued: count("max_queued")?,
                enqueue_rate: row.try_get("enqueue_rate")?,
                enqueue_burst: small("enqueue_burst")?,
                max_fuel: count("max_fuel")?,
                max_timeout_ms: count("max_timeout_ms")?,
                max_memory_bytes: count("max_memory_bytes")?,
                max_component_bytes: count("max_component_bytes")?,
                max_components: small("max_components")?,
                weight: small("weight")?.unwrap_or(1),
            },
            created_at: row.try_get("created_at")?,
        })
    };
    read().map_err(StoreError::query("reading a tenant"))
}

pub(super) async fn get(pool: &PgPool, name: &str) -> Result<Option<Tenant>, StoreError> {
    sqlx::query(concat!(select_tenants!(), " WHERE name = $1"))
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::query("reading a tenant"))?
        .as_ref()
        .map(tenant_from_row)
        .transpose()
}

pub(super) async fn list(pool: &PgPool) -> Result<Vec<Tenant>, StoreError> {
    sqlx::query(concat!(select_tenants!(), " ORDER BY name"))
        .fetch_all(pool)
        .await
        .map_err(StoreError::query("listing tenants"))?
        .iter()
        .map(tenant_from_row)
        .collect()
}

pub(super) async fn set_http_ceiling(
    pool: &PgPool,
    name: &str,
    ceiling: &[OriginPattern],
) -> Result<bool, StoreError> {
    let updated = sqlx::query("UPDATE tenants SET http_ceiling = $2 WHERE name = $1")
        .bind(name)
        .bind(Json(ceiling))
        .execute(pool)
        .await
        .map_err(StoreError::query("setting a tenant's HTTP ceiling"))?;
    Ok(updated.rows_affected() == 1)
}

pub(super) async fn set_quotas(
    pool: &PgPool,
    name: &str,
    quotas: &Quotas,
) -> Result<bool, StoreError> {
    let int = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let small = |n: Option<u32>| n.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    let updated = sqlx::query(
        "UPDATE tenants SET max_running = $2, max_queued = $3, enqueue_rate = $4,
            enqueue_burst = $5, max_fuel = $6, max_timeout_ms = $7, max_memory_bytes = $8,
            max_component_bytes = $9, max_components = $10, weight = $11
         WHERE name = $1",
    )
    .bind(name)
    .bind(small(quotas.max_running))
    .bind(int(quotas.max_queued))
    .bind(quotas.enqueue_rate)
    .bind(small(quotas.enqueue_burst))
    .bind(int(quotas.max_fuel))
    .bind(int(quotas.max_timeout_ms))
    .bind(int(quotas.max_memory_bytes))
    .bind(int(quotas.max_component_bytes))
    .bind(small(quotas.max_components))
    .bind(small(Some(quotas.weight.max(1))))
    .execute(pool)
    .await
    .map_err(StoreError::query("setting a tenant's quotas"))?;
    Ok(updated.rows_affected() == 1)
}

pub(super) async fn delete(pool: &PgPool, name: &str) -> Result<Option<TenantDeleted>, StoreError> {
    let context = "deleting a tenant";
    let mut tx = pool.begin().await.map_err(StoreError::query(context))?;
    let mut deleted = TenantDeleted::default();
    let mut run = async |sql: &'static str| -> Result<u64, StoreError> {
        Ok(sqlx::query(sql)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(context))?
            .rows_affected())
    };
    // task_attempts has no foreign key here: its rows go first, by tenant.
    run("DELETE FROM task_attempts WHERE tenant = $1").await?;
    deleted.jobs = run("DELETE FROM tasks WHERE tenant = $1").await?;
    deleted.component_versions = run("DELETE FROM component_versions WHERE tenant = $1").await?;
    run("DELETE FROM task_events WHERE tenant = $1").await?;
    run("DELETE FROM queue_pauses WHERE tenant = $1").await?;
    run("DELETE FROM schedules WHERE tenant = $1").await?;
    // Its throughput (its job counts went with its jobs, by the triggers).
    run("DELETE FROM finished_minutes WHERE tenant = $1").await?;
    deleted.tokens = run("DELETE FROM tokens WHERE tenant = $1").await?;
    if run("DELETE FROM tenants WHERE name = $1").await? == 0 {
        return Ok(None);
    }
    // Late: these take the lock on the count of capability changes (0013), which
    // every tenant's configuration and grant writes wait for until this commits.
    run("DELETE FROM component_config WHERE tenant = $1").await?;
    run("DELETE FROM component_http_grants WHERE tenant = $1").await?;
    super::components::delete_unnamed_blobs(&mut tx).await?;
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(Some(deleted))
}

pub(super) async fn token_insert(pool: &PgPool, token: NewToken) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tokens (id, tenant, role, name, secret_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&token.id)
    .bind(&token.tenant)
    .bind(token.role.as_str())
    .bind(&token.name)
    .bind(&token.secret_hash)
    .bind(token.expires_at)
    .execute(pool)
    .await
    .map_err(StoreError::query("storing a token"))?;
    Ok(())
}

fn token_from_row(row: &sqlx::postgres::PgRow) -> Result<TokenRecord, StoreError> {
    let context = "reading a token";
    let get = |e| StoreError::Query { context, cause: e };
    Ok(TokenRecord {
        id: row.try_get("id").map_err(get)?,
        tenant: row.try_get("tenant").map_err(get)?,
        role: row
            .try_get::<String, _>("role")
            .map_err(get)?
            .parse()
            .map_err(|message| StoreError::Corrupt { context, message })?,
        name: row.try_get("name").map_err(get)?,
        secret_hash: row.try_get("secret_hash").map_err(get)?,
        created_at: row.try_get("created_at").map_err(get)?,
        expires_at: row.try_get("expires_at").map_err(get)?,
        revoked_at: row.try_get("revoked_at").map_err(get)?,
    })
}

const TOKEN_COLUMNS: &str =
    "SELECT id, tenant, role, name, secret_hash, created_at, expires_at, revoked_at FROM tokens";

pub(super) async fn token_get(pool: &PgPool, id: &str) -> Result<Option<TokenRecord>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{TOKEN_COLUMNS} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::query("reading a token"))?
    .as_ref()
    .map(token_from_row)
    .transpose()
}

pub(super) async fn token_list(
    pool: &PgPool,
    tenant: Option<&str>,
) -> Result<Vec<TokenRecord>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{TOKEN_COLUMNS} WHERE $1::text IS NULL OR tenant = $1 ORDER BY tenant, created_at, id"
    )))
    .bind(tenant)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("listing tokens"))?
    .iter()
    .map(token_from_row)
    .collect()
}

pub(super) async fn token_revoke(pool: &PgPool, id: &str) -> Result<bool, StoreError> {
    let revoked =
        sqlx::query("UPDATE tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .execute(pool)
            .await
            .map_err(StoreError::query("revoking a token"))?;
    Ok(revoked.rows_affected() == 1)
}

pub(super) async fn usage_days(
    pool: &PgPool,
    tenant: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<Vec<UsageDay>, StoreError> {
    let rows = sqlx::query(
        "SELECT day, successful, failed, cancelled, attempts, fuel_consumed, attempt_us,
            peak_memory_bytes, http_requests
         FROM tenant_usage WHERE tenant = $1 AND day BETWEEN $2 AND $3 ORDER BY day",
    )
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("reading a tenant's usage"))?;
    rows.iter()
        .map(|row| {
            let count = |column: &str| -> Result<u64, sqlx::Error> {
                Ok(row.try_get::<i64, _>(column)?.max(0) as u64)
            };
            Ok(UsageDay {
                day: row.try_get("day")?,
                used: UsageCounts {
                    successful: count("successful")?,
                    failed: count("failed")?,
                    cancelled: count("cancelled")?,
                    attempts: count("attempts")?,
                    fuel_consumed: count("fuel_consumed")?,
                    attempt_us: count("attempt_us")?,
                    peak_memory_bytes: count("peak_memory_bytes")?,
                    http_requests: count("http_requests")?,
                },
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::query("reading a tenant's usage"))
}
