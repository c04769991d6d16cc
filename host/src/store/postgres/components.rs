//! Queries on `component_blobs` and `component_versions`.

use sqlx::types::Json;
use sqlx::{PgPool, Row};
use wasmtasks_sandbox::TaskDefinition;

use crate::store::{
    ComponentDelete, ComponentDeleted, ComponentInsert, ComponentInserted, ComponentLookup,
    ComponentResolve, ComponentVersion, StoreError,
};

pub(super) async fn insert(
    pool: &PgPool,
    params: ComponentInsert,
) -> Result<ComponentInserted, StoreError> {
    let context = "storing a component";
    let mut tx = pool.begin().await.map_err(StoreError::query(context))?;
    // Uploads of one name take turns, so two never get the same version number.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
        .bind(&params.tenant)
        .bind(&params.name)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query(context))?;
    let newest: Option<(i32, String)> = sqlx::query_as(
        "SELECT version, digest FROM component_versions
         WHERE tenant = $1 AND name = $2 ORDER BY version DESC LIMIT 1",
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
        "INSERT INTO component_blobs (digest, bytes, size_bytes)
         VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING",
    )
    .bind(&params.digest)
    .bind(&params.bytes)
    .bind(params.bytes.len() as i64)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    sqlx::query(
        "INSERT INTO component_versions (tenant, name, version, digest, tasks)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&params.tenant)
    .bind(&params.name)
    .bind(version)
    .bind(&params.digest)
    .bind(Json(&params.tasks))
    .execute(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(ComponentInserted::Created {
        version: version as u32,
    })
}

pub(super) async fn resolve(
    pool: &PgPool,
    params: ComponentResolve,
) -> Result<ComponentLookup, StoreError> {
    let rows = sqlx::query(
        "SELECT v.tenant, v.name, v.version, v.digest, b.size_bytes, v.tasks, v.uploaded_at
         FROM component_versions v JOIN component_blobs b ON b.digest = v.digest
         WHERE v.tenant = $1 AND v.name = $2
           AND ($3::text IS NULL OR starts_with(v.digest, $3))
         ORDER BY v.version DESC
         LIMIT CASE WHEN $3 IS NULL THEN 1 END",
    )
    .bind(&params.tenant)
    .bind(&params.name)
    .bind(&params.digest_prefix)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("resolving a component"))?;
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

pub(super) async fn get_bytes(pool: &PgPool, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
    sqlx::query_scalar("SELECT bytes FROM component_blobs WHERE digest = $1")
        .bind(digest)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::query("reading component bytes"))
}

pub(super) async fn list(pool: &PgPool, tenant: &str) -> Result<Vec<ComponentVersion>, StoreError> {
    let rows = sqlx::query(
        "SELECT v.tenant, v.name, v.version, v.digest, b.size_bytes, v.tasks, v.uploaded_at
         FROM component_versions v JOIN component_blobs b ON b.digest = v.digest
         WHERE v.tenant = $1 ORDER BY v.name, v.version DESC",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("listing components"))?;
    rows.iter().map(version_from_row).collect()
}

fn version_from_row(row: &sqlx::postgres::PgRow) -> Result<ComponentVersion, StoreError> {
    let get = StoreError::query("reading a component version");
    let read = || -> Result<ComponentVersion, sqlx::Error> {
        Ok(ComponentVersion {
            tenant: row.try_get("tenant")?,
            name: row.try_get("name")?,
            version: row.try_get::<i32, _>("version")? as u32,
            digest: row.try_get("digest")?,
            size_bytes: row.try_get::<i64, _>("size_bytes")? as u64,
            tasks: row.try_get::<Json<Vec<TaskDefinition>>, _>("tasks")?.0,
            uploaded_at: row.try_get("uploaded_at")?,
        })
    };
    read().map_err(get)
}

/// Deletes the bytes that no component version names any more.
pub(super) async fn delete_unnamed_blobs(
    connection: &mut sqlx::PgConnection,
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
    pool: &PgPool,
    params: ComponentDelete,
) -> Result<ComponentDeleted, StoreError> {
    let context = "deleting component versions";
    let mut tx = pool.begin().await.map_err(StoreError::query(context))?;
    // Uploads and deletes of one name take turns.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
        .bind(&params.tenant)
        .bind(&params.name)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query(context))?;
    let versions: Vec<(i32, String)> = sqlx::query_as(
        "SELECT version, digest FROM component_versions
         WHERE tenant = $1 AND name = $2 AND ($3::text IS NULL OR starts_with(digest, $3))
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
    // Claims of these jobs wait for the delete (and the other way round), so a job
    // is never left pinning bytes that are gone.
    let pinned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE tenant = $1 AND component = $2
           AND status IN ('READY', 'RUNNING') AND component_digest = ANY($3)
           FOR SHARE) AS pinning",
    )
    .bind(&params.tenant)
    .bind(&params.name)
    .bind(&digests)
    .fetch_one(&mut *tx)
    .await
    .map_err(StoreError::query(context))?;
    if pinned > 0 {
        return Ok(ComponentDeleted::Pinned {
            jobs: pinned as u64,
        });
    }
    sqlx::query(
        "DELETE FROM component_versions WHERE tenant = $1 AND name = $2 AND digest = ANY($3)",
    )
    .bind(&params.tenant)
    .bind(&params.name)
    .bind(&digests)
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
