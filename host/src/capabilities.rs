//! What an attempt may use beyond computing: its component's configuration values
//! and secrets and the HTTP origins it may reach, resolved for the attempt from
//! the configuration file's tables for the component's tenant and name
//! (`[components.NAME]` for the default tenant, `[tenants.T.components.NAME]`
//! for others) and the store (`wasmtasks config set`, `wasmtasks grant`; the
//! store's values win, its origins add to the file's). A worker keeps what it
//! resolved until a claim shows the store's count of capability changes moved,
//! so a change or a revocation takes effect for every attempt claimed after it.
//! Only the attempt's own component's grants, of its own tenant, are ever
//! resolved.

use wasmtasks_sandbox::Capabilities;

use crate::config::Settings;
use crate::store::{Store, StoreError};

/// The capabilities the configuration file alone grants `component` of `tenant`.
pub fn from_settings(settings: &Settings, tenant: &str, component: &str) -> Capabilities {
    let mut capabilities = Capabilities::default();
    capabilities.set_http_limits(settings.http);
    if let Some(granted) = settings.component(tenant, component) {
        for (key, value) in &granted.config {
            capabilities.set_config(key.clone(), value.clone());
        }
        for origin in &granted.allow_http {
            capabilities.allow_http(origin.clone());
        }
    }
    capabilities
}

/// The capabilities `component` of `tenant` has now: the file's, then the store's.
pub async fn resolve(
    store: &dyn Store,
    settings: &Settings,
    tenant: &str,
    component: &str,
) -> Result<Capabilities, StoreError> {
    let mut capabilities = from_settings(settings, tenant, component);
    // Two independent reads, asked together: the attempt waits for the slower one,
    // not for both in turn.
    let (config, origins) = tokio::try_join!(
        store.component_config_get_all(tenant, component),
        store.component_grant_list(tenant, component),
    )?;
    for (key, value) in config {
        capabilities.set_config(key, value);
    }
    for origin in origins {
        capabilities.allow_http(origin);
    }
    Ok(capabilities)
}
