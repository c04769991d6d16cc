//! Queries on `component_blobs` and `component_versions`.

use chrono::Utc;
use sqlx::{Row, SqlitePool};
use wasmtasks_sandbox::TaskDefinition;

use super::{from_micros, micros};
use crate::store::{
    ComponentDelete, ComponentDeleted, ComponentInsert, ComponentInserted, ComponentLookup,
    ComponentResolve, ComponentVersion, StoreError,
};

pub(super) async fn insert(
    pool: &SqlitePool,
    params: ComponentInsert,
) -> Result<ComponentInserted, StoreError> {
    let context = "storing a component";
    let tasks = serde_json::to_string(&params.tasks).map_err(|e| StoreError::Corrupt {
        context,
        message: e.to_string(),
    })?;
    let now = micros(Utc::now());
    let mut connection = pool.acquire().await.map_err(StoreError::query(context))?;
    let mut tx = sqlx::Connection::begin_with(&mut *connection, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::query(context))?;
    let newest: Option<(i64, String)> = sqlx::query_as(
        "SELECT version, digest FROM component_versions
         WHERE tenant = ?1 AND name = ?2 ORDER BY version DESC LIMIT 1",
    )
    .bind(&params.tenant)
    .bind(&params.name)
    .fetch_optional(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    if let Some((version, digest)) = &newest
        && *digest == params.digest
    {
        return Ok(ComponentInserted::Unchanged {
            version: *version as u32,
        });
    }
    let version = newest.map_or(1, |(version, _)| version + 1);
    sqlx::query(
        "INSERT INTO component_blobs (digest, bytes, size_bytes, created_at)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (digest) DO NOTHING",
    )
    .bind(&params.digest)
    .bind(&params.bytes)
    .bind(params.bytes.len() as i64)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    sqlx::query(
        "INSERT INTO component_versions (tenant, name, version, digest, tasks, uploaded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(&params.tenant)
    .bind(&params.name)
    .bind(version)
    .bind(&params.digest)
    .bind(tasks)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(ComponentInserted::Created {
        version: version as u32,
    })
}

pub(super) async fn resolve(
    pool: &SqlitePool,
    params: ComponentResolve,
) -> Result<ComponentLookup, StoreError> {
    let context = "resolving a component";
    let rows =
        match &params.digest_prefix {
            None => sqlx::query(
                "SELECT v.tenant, v.name, v.version, v.digest, length(b.bytes) AS size_bytes, v.tasks, v.uploaded_at
             FROM component_versions v JOIN component_blobs b ON b.digest = v.digest
             WHERE v.tenant = ?1 AND v.name = ?2 ORDER BY v.version DESC LIMIT 1",
            )
            .bind(&params.tenant)
            .bind(&params.name)
            .fetch_all(pool)
            .await,
            Some(prefix) => sqlx::query(
                "SELECT v.tenant, v.name, v.version, v.digest, length(b.bytes) AS size_bytes, v.tasks, v.uploaded_at
             FROM component_versions v JOIN component_blobs b ON b.digest = v.digest
             WHERE v.tenant = ?1 AND v.name = ?2 AND substr(v.digest, 1, length(?3)) = ?3
             ORDER BY v.version DESC",
            )
            .bind(&params.tenant)
            .bind(&params.name)
            .bind(prefix)
            .fetch_all(pool)
            .await,
        }
        .map_err(StoreError::query(context))?;
    let versions = rows
        .iter()
        .map(version_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let mut digests: Vec<String> = versions.iter().map(|v| v.digest.clone()).collect();
    digests.dedup();
    Ok(match versions.into_iter().next() {
        None => ComponentLookup::NotFound,
        Some(_) if digests.len() > 1 => ComponentLookup::Ambiguous(digests),
        Some(version) => ComponentLookup::Found(Box::new(version)),
    })
}

pub(super) async fn get_bytes(
    pool: &SqlitePool,
    digest: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    sqlx::query_scalar("SELECT bytes FROM component_blobs WHERE digest = ?1")
        .bind(digest)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::query("reading component bytes"))
}

pub(super) async fn list(
    pool: &SqlitePool,
    tenant: &str,
) -> Result<Vec<ComponentVersion>, StoreError> {
    let rows = sqlx::query(
        "SELECT v.tenant, v.name, v.version, v.digest, length(b.bytes) AS size_bytes, v.tasks, v.uploaded_at
         FROM component_versions v JOIN component_blobs b ON b.digest = v.digest
         WHERE v.tenant = ?1 ORDER BY v.name, v.version DESC",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("listing components"))?;
    rows.iter().map(version_from_row).collect()
}

fn version_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<ComponentVersion, StoreError> {
    let context = "reading a component version";
    let get = |e: sqlx::Error| StoreError::Query { context, cause: e };
    let tasks: String = row.try_get("tasks").map_err(get)?;
    let tasks: Vec<TaskDefinition> =
        serde_json::from_str(&tasks).map_err(|e| StoreError::Corrupt {
            context,
            message: e.to_string(),
        })?;
    Ok(ComponentVersion {
        tenant: row.try_get("tenant").map_err(get)?,
        name: row.try_get("name").map_err(get)?,
        version: row.try_get::<i64, _>("version").map_err(get)? as u32,
        digest: row.try_get("digest").map_err(get)?,
        size_bytes: row.try_get::<i64, _>("size_bytes").map_err(get)? as u64,
        tasks,
        uploaded_at: from_micros(row.try_get("uploaded_at").map_err(get)?),
    })
}

/// Deletes the bytes that no component version names any more.
pub(super) async fn delete_unnamed_blobs(
    connection: &mut sqlx::SqliteConnection,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "DELETE FROM component_blobs WHERE NOT EXISTS
           (SELECT 1 FROM component_versions v WHERE v.digest = component_blobs.digest)",
    )
    .execute(connection)
    .await
    .map_err(StoreError::query("deleting unused component bytes"))?
    .rows_affected())
}

pub(super) async fn delete(
    pool: &SqlitePool,
    params: ComponentDelete,
) -> Result<ComponentDeleted, StoreError> {
    let context = "deleting component versions";
    let mut connection = pool.acquire().await.map_err(StoreError::query(context))?;
    let mut tx = sqlx::Connection::begin_with(&mut *connection, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::query(context))?;
    let versions: Vec<(i64, String)> = sqlx::query_as(
        "SELECT version, digest FROM component_versions
         WHERE tenant = ?1 AND name = ?2 AND (?3 IS NULL OR substr(digest, 1, length(?3)) = ?3)
         ORDER BY version DESC",
    )
    .bind(&params.tenant)
    .bind(&params.name)
    .bind(&params.digest_prefix)
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    let mut digests: Vec<String> = versions.iter().map(|(_, d)| d.clone()).collect();
    digests.sort();
    digests.dedup();
    if versions.is_empty() {
        return Ok(ComponentDeleted::NotFound);
    }
    if params.digest_prefix.is_some() && digests.len() > 1 {
        return Ok(ComponentDeleted::Ambiguous(digests));
    }
    let digests_json = serde_json::to_string(&digests).map_err(|e| StoreError::Corrupt {
        context,
        message: e.to_string(),
    })?;
    let pinned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tasks WHERE tenant = ?1 AND component = ?2
           AND status IN ('READY', 'RUNNING')
           AND component_digest IN (SELECT value FROM jsonb_each(?3))",
    )
    .bind(&params.tenant)
    .bind(&params.name)
    .bind(&digests_json)
    .fetch_one(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    if pinned > 0 {
        return Ok(ComponentDeleted::Pinned {
            jobs: pinned as u64,
        });
    }
    sqlx::query(
        "DELETE FROM component_versions WHERE tenant = ?1 AND name = ?2
           AND digest IN (SELECT value FROM jsonb_each(?3))",
    )
    .bind(&params.tenant)
    .bind(&params.name)
    .bind(&digests_json)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    delete_unnamed_blobs(&mut tx).await?;
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(ComponentDeleted::Deleted(
        versions
            .into_iter()
            .map(|(version, digest)| (version as u32, digest))
            .collect(),
    ))
}
