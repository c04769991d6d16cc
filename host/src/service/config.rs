//! The configuration values and secrets a component reads with
//! `wasmtasks_guest::config::get`: set and unset by the tenant's admins, listed
//! with secrets' values never shown. A change applies from the next attempt.

use serde::{Deserialize, Serialize};
use wasmtasks_sandbox::ConfigValue;

use super::grants::check_component_name;
use super::{ServiceError, Services};
use crate::store::ComponentConfigSet;
use crate::task::path::is_valid_name;
use crate::tenant::{Principal, Role};

/// One value a component reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigEntry {
    /// The key.
    pub key: String,
    /// The value; never given for a secret.
    pub value: Option<String>,
    /// Whether it is a secret.
    pub secret: bool,
    /// Where it comes from: `store` (set through wasmtasks) or `file` (the
    /// configuration file, which the store's values override).
    pub source: String,
}

/// The configuration operations.
#[derive(Debug, Clone, Copy)]
pub struct Config<'a>(pub(super) &'a Services);

impl Config<'_> {
    /// Sets one value (or secret) of a component, replacing any.
    pub async fn set(
        &self,
        principal: &Principal,
        component: &str,
        key: &str,
        value: ConfigValue,
    ) -> Result<(), ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        check_names(component, key)?;
        if value.value.contains('\0') {
            return Err(ServiceError::Invalid(format!(
                "the value of `{key}` contains a NUL character (U+0000), which the database cannot store"
            )));
        }
        Ok(self
            .0
            .store()
            .component_config_set(ComponentConfigSet {
                tenant: principal.tenant().to_owned(),
                component: component.to_owned(),
                key: key.to_owned(),
                value,
            })
            .await?)
    }

    /// Removes one value of a component from the store.
    pub async fn unset(
        &self,
        principal: &Principal,
        component: &str,
        key: &str,
    ) -> Result<(), ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        check_names(component, key)?;
        if self
            .0
            .store()
            .component_config_delete(principal.tenant(), component, key)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!(
                "{component} has no value `{key}` in the store"
            )))
        }
    }

    /// Every value the component reads, from the store and the configuration file;
    /// secrets' values are left out.
    pub async fn list(
        &self,
        principal: &Principal,
        component: &str,
    ) -> Result<Vec<ConfigEntry>, ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        check_component_name(component)?;
        let stored = self
            .0
            .store()
            .component_config_get_all(principal.tenant(), component)
            .await?;
        let mut entries: Vec<ConfigEntry> = Vec::new();
        if let Some(file) = self.0.settings().component(principal.tenant(), component) {
            for (key, value) in &file.config {
                if !stored.contains_key(key) {
                    entries.push(entry(key, value, "file"));
                }
            }
        }
        entries.extend(stored.iter().map(|(key, value)| entry(key, value, "store")));
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(entries)
    }
}

fn entry(key: &str, value: &ConfigValue, source: &str) -> ConfigEntry {
    ConfigEntry {
        key: key.to_owned(),
        value: (!value.secret).then(|| value.value.clone()),
        secret: value.secret,
        source: source.to_owned(),
    }
}

fn check_names(component: &str, key: &str) -> Result<(), ServiceError> {
    check_component_name(component)?;
    if is_valid_name(key) {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "invalid key `{key}`: use letters, digits, `_` or `-`"
        )))
    }
}
