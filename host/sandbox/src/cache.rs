//! The on-disk cache of compiled components.
//!
//! An entry is `<dir>/<engine-hash>/<sha256>.cwasm`: the engine hash changes with
//! anything that makes compiled code incompatible (wasmtime version, compiler
//! settings, CPU features), so one directory can be shared by different builds.
//! Entries are written to a temporary file and renamed into place, so a reader
//! never sees half a file. An entry that fails to load is a miss: it is removed
//! and the component is compiled again.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::SandboxError;

/// Where a loaded component's compiled code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheStatus {
    /// Read from the on-disk cache.
    Hit,
    /// Compiled, and written to the cache.
    Miss,
    /// The cache entry was unusable; compiled again and the entry replaced.
    Recovered,
    /// Compiled; this sandbox has no cache.
    Disabled,
}

/// A cache directory for one engine.
#[derive(Debug)]
pub(crate) struct CompileCache {
    dir: PathBuf,
}

/// The result of looking a component up.
pub(crate) enum Lookup {
    Hit(Component),
    Miss,
    Unusable,
}

impl CompileCache {
    /// Opens (creating it if needed) the cache for `engine` under `root`.
    pub(crate) fn open(root: &Path, engine: &Engine) -> Result<Self, SandboxError> {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = root.join(format!("{:016x}", hasher.finish()));
        std::fs::create_dir_all(&dir).map_err(|cause| SandboxError::Cache {
            path: dir.clone(),
            cause,
        })?;
        Ok(CompileCache { dir })
    }

    /// The file an entry lives in.
    pub(crate) fn entry_path(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}.cwasm"))
    }

    /// Looks up the compiled form of the component with `digest`.
    pub(crate) fn load(&self, engine: &Engine, digest: &str) -> Lookup {
        let path = self.entry_path(digest);
        if !path.exists() {
            return Lookup::Miss;
        }
        // SAFETY: entries are written only by `store` below, from code this engine
        // compiled, and are replaced atomically; wasmtime checks the header and the
        // engine compatibility before using one. The cache directory must be
        // writable only by the operator, as the docs of `SandboxConfig::cache_dir`
        // imply: a forged entry is native code.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Lookup::Hit(component),
            Err(_) => {
                // Unusable (truncated, corrupted, or from a stale engine): drop it so
                // the fresh compile can take its place.
                let _ = std::fs::remove_file(&path);
                Lookup::Unusable
            }
        }
    }

    /// Writes the compiled form of `component` atomically.
    pub(crate) fn store(&self, digest: &str, component: &Component) -> Result<(), SandboxError> {
        let path = self.entry_path(digest);
        let bytes = component
            .serialize()
            .map_err(|error| SandboxError::Engine(crate::error::describe(&error)))?;
        let cache_error = |cause| SandboxError::Cache {
            path: path.clone(),
            cause,
        };
        let mut file = tempfile::NamedTempFile::new_in(&self.dir).map_err(cache_error)?;
        file.write_all(&bytes).map_err(cache_error)?;
        file.persist(&path)
            .map_err(|error| cache_error(error.error))?;
        Ok(())
    }
}
