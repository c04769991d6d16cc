//! Queries on `component_config` and `component_http_grants` that read alike in
//! both dialects, written once (`$n` placeholders are positional in SQLite too)
//! and instantiated for each. Each dialect writes its own configuration `set`,
//! since they keep times differently.

/// The shared queries over a pool of `$db`.
macro_rules! capability_queries {
    ($db:ty) => {
        use std::collections::BTreeMap;

        use sqlx::Pool;
        use wasmtasks_sandbox::{ConfigValue, OriginPattern, OriginPatternError};

        use crate::store::{ComponentGrant, StoreError};

        /// Deletes one value; false if it was not set.
        pub(crate) async fn delete(
            pool: &Pool<$db>,
            tenant: &str,
            component: &str,
            key: &str,
        ) -> Result<bool, StoreError> {
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
        pub(crate) async fn get_all(
            pool: &Pool<$db>,
            tenant: &str,
            component: &str,
        ) -> Result<BTreeMap<String, ConfigValue>, StoreError> {
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

        /// Grants or revokes one origin; true if that changed anything.
        pub(crate) async fn grant_change(
            pool: &Pool<$db>,
            grant: &ComponentGrant,
        ) -> Result<bool, StoreError> {
            let (sql, context) = if grant.granted {
                (
                    "INSERT INTO component_http_grants (tenant, component, origin) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING RETURNING origin",
                    "granting an HTTP origin",
                )
            } else {
                (
                    "DELETE FROM component_http_grants
                     WHERE tenant = $1 AND component = $2 AND origin = $3 RETURNING origin",
                    "revoking an HTTP origin",
                )
            };
            let changed: Option<(String,)> = sqlx::query_as(sql)
                .bind(grant.tenant.as_str())
                .bind(grant.component.as_str())
                .bind(grant.origin.to_string().as_str())
                .fetch_optional(pool)
                .await
                .map_err(StoreError::query(context))?;
            Ok(changed.is_some())
        }

        /// The origins one component may reach, in order.
        pub(crate) async fn grant_list(
            pool: &Pool<$db>,
            tenant: &str,
            component: &str,
        ) -> Result<Vec<OriginPattern>, StoreError> {
            let context = "reading a component's HTTP grants";
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT origin FROM component_http_grants WHERE tenant = $1 AND component = $2
                 ORDER BY origin",
            )
            .bind(tenant)
            .bind(component)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(context))?;
            rows.into_iter()
                .map(|(origin,)| {
                    origin
                        .parse()
                        .map_err(|e: OriginPatternError| StoreError::Corrupt {
                            context,
                            message: e.to_string(),
                        })
                })
                .collect()
        }
    };
}

/// For SQLite.
pub(crate) mod sqlite {
    capability_queries!(sqlx::Sqlite);
}

/// For PostgreSQL.
pub(crate) mod postgres {
    capability_queries!(sqlx::Postgres);
}
