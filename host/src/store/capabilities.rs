//! Queries on `component_config` that read alike in both dialects, written once
//! (`$n` placeholders are positional in SQLite too). Each dialect writes its own
//! `set`, since they keep times differently.

use std::collections::BTreeMap;

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Pool, Type};
use wasmtasks_sandbox::ConfigValue;

use super::StoreError;

/// Deletes one value; false if it was not set.
pub(crate) async fn delete<DB>(
    pool: &Pool<DB>,
    tenant: &str,
    component: &str,
    key: &str,
) -> Result<bool, StoreError>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    let deleted: Option<(String,)> = sqlx::query_as(
        "DELETE FROM component_config WHERE tenant = $1 AND component = $2 AND key = $3
         RETURNING key",
    )
    .bind(tenant)
    .bind(component)
    .bind(key)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::query("deleting a configuration value"))?;
    Ok(deleted.is_some())
}

/// Every value of one component, by key.
pub(crate) async fn get_all<DB>(
    pool: &Pool<DB>,
    tenant: &str,
    component: &str,
) -> Result<BTreeMap<String, ConfigValue>, StoreError>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    (String, String, bool): for<'r> FromRow<'r, DB::Row>,
{
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT key, value, secret FROM component_config WHERE tenant = $1 AND component = $2",
    )
    .bind(tenant)
    .bind(component)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("reading a component's configuration"))?;
    Ok(rows
        .into_iter()
        .map(|(key, value, secret)| (key, ConfigValue { value, secret }))
        .collect())
}
