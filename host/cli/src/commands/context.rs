//! What the commands share: the validated settings, and the way in — the service
//! layer on the database (local, as the operator) or a server's API (remote, as a
//! token's principal), chosen once from the global flags.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use wasmtasks::config::Settings;
use wasmtasks::registry::Registry;
use wasmtasks::sandbox::{Sandbox, SandboxConfig};
use wasmtasks::service::Services;
use wasmtasks::tenant::Principal;

use super::GlobalArgs;
use crate::client::{Api, Local, Remote};

/// The settings the global flags, the environment and the file give.
pub fn settings(global: &GlobalArgs) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(global.config.as_deref())?;
    if let Some(url) = &global.database {
        settings.database_url = url.clone();
    }
    if let Some(dir) = &global.cache_dir {
        settings.cache_dir = Some(dir.clone());
    }
    if settings.cache_dir.is_none() {
        settings.cache_dir = default_cache_dir();
    }
    Ok(settings)
}

/// A sandbox for `settings`, with room for `concurrency` attempts at once.
pub fn sandbox(settings: &Settings, concurrency: u32) -> anyhow::Result<Sandbox> {
    let config = SandboxConfig {
        default_limits: settings.limits,
        max_memory_bytes: settings.max_memory_bytes,
        pool_slots: SandboxConfig::default().pool_slots.max(concurrency + 8),
        cache_dir: settings.cache_dir.clone(),
        keep_resident_bytes: settings.worker.keep_resident_bytes,
        max_loaded_bytes: settings.worker.component_memory_bytes,
        ..SandboxConfig::default()
    };
    Ok(Sandbox::new(config)?)
}

/// The service layer on the database `settings` name, with a sandbox for
/// `concurrency` attempts at once.
pub async fn services(settings: Settings, concurrency: u32) -> anyhow::Result<Services> {
    let store = wasmtasks::store::connect(&settings.database_url).await?;
    let sandbox = Arc::new(sandbox(&settings, concurrency)?);
    Ok(Services::new(
        Arc::new(Registry::new(store, sandbox)),
        Arc::new(settings),
    ))
}

/// The way in for a tenant-facing command: the server's API when `--server` (or
/// `WASMTASKS_SERVER`) names one, else the database, as the operator within
/// `--tenant`.
pub async fn api(global: &GlobalArgs) -> anyhow::Result<Box<dyn Api>> {
    if let Some(server) = &global.server {
        return Ok(Box::new(Remote::new(
            server,
            global.token.as_deref(),
            global.tenant.as_deref(),
        )?));
    }
    let services = services(settings(global)?, 1).await?;
    let tenant = global
        .tenant
        .clone()
        .unwrap_or_else(|| wasmtasks::tenant::DEFAULT_TENANT.to_owned());
    Ok(Box::new(Local {
        services,
        principal: Principal::operator(tenant),
    }))
}

/// Refuses a command that needs the database when `--server` is given.
pub fn local_only(global: &GlobalArgs, command: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        global.server.is_none(),
        "`wasmtasks {command}` works on the database, not through a server: unset --server (WASMTASKS_SERVER)"
    );
    Ok(())
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("wasmtasks"))
}

/// Reads a file, saying which one when it cannot.
pub fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
