//! What an attempt may use beyond computing: its component's configuration values
//! and secrets, resolved when the attempt starts from the configuration file's
//! `[components.NAME]` tables and, over them, the values set in the store
//! (`wasmtasks config set`). A change therefore takes effect for the next attempt.
//! Only the attempt's own component's values are ever resolved.

use wasmtasks_sandbox::Capabilities;

use crate::config::Settings;
use crate::store::{Store, StoreError};

/// The capabilities the configuration file alone grants `component`.
pub fn from_settings(settings: &Settings, component: &str) -> Capabilities {
    let mut capabilities = Capabilities::default();
    for (key, value) in settings.components.get(component).into_iter().flatten() {
        capabilities.set_config(key.clone(), value.clone());
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
    let mut capabilities = from_settings(settings, component);
    for (key, value) in store.component_config_get_all(tenant, component).await? {
        capabilities.set_config(key, value);
    }
    Ok(capabilities)
}
