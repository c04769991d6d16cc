//! What the commands share: the validated settings, the store, the sandbox and the
//! registry, opened once from the global flags.

use std::path::PathBuf;
use std::sync::Arc;

use wasmtasks::config::Settings;
use wasmtasks::registry::Registry;
use wasmtasks::sandbox::{Sandbox, SandboxConfig};

use super::GlobalArgs;

/// Settings, store, sandbox and registry of one command.
pub struct Context {
    pub settings: Arc<Settings>,
    pub registry: Arc<Registry>,
}

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
        ..SandboxConfig::default()
    };
    Ok(Sandbox::new(config)?)
}

impl Context {
    /// Opens the store and builds the sandbox.
    pub async fn open(global: &GlobalArgs, concurrency: u32) -> anyhow::Result<Context> {
        let settings = settings(global)?;
        let store = wasmtasks::store::connect(&settings.database_url).await?;
        let sandbox = Arc::new(sandbox(&settings, concurrency)?);
        Ok(Context {
            registry: Arc::new(Registry::new(store, sandbox)),
            settings: Arc::new(settings),
        })
    }

    /// The tenant this command acts for.
    pub fn tenant(&self) -> &str {
        &self.settings.tenant
    }
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("wasmtasks"))
}
