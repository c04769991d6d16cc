//! The registry of components: upload (validate, read the declared name and
//! tasks, check their signatures, store), resolve a task path to a pinned version,
//! load a version into the sandbox from the store (each digest is fetched and
//! compiled once per process, however many attempts ask for it at the same time),
//! and the compiled argument check of each task version.
//!
//! The newest version of a name is kept for [`NEWEST_FOR`] once resolved, so a
//! stream of enqueues costs no read each: an upload or delete through this
//! process applies at once, one made by another process within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use wasmtasks_sandbox::{Sandbox, SandboxError, TaskComponent, TaskDefinition};

use crate::metrics::Metrics;
use crate::signature::ArgumentCheck;
use crate::store::{
    ComponentInsert, ComponentInserted, ComponentLookup, ComponentResolve, ComponentVersion, Store,
    StoreError,
};
use crate::task::TaskPath;
use crate::task::path::is_valid_name;
use crate::ttl_cache::TtlCache;

/// How long the newest version of a component name is kept once resolved.
pub const NEWEST_FOR: Duration = Duration::from_secs(1);

/// What went wrong with a component.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The component name breaks the naming rule.
    #[error("invalid component name `{0}`: use letters, digits, `_` or `-`")]
    InvalidName(String),
    /// The sandbox refused the component.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No component by that name (or no version with that digest).
    #[error("no component `{name}`{} has been uploaded", pinned.as_ref().map(|d| format!(" with a digest starting `{d}`")).unwrap_or_default())]
    NotFound {
        /// The name.
        name: String,
        /// The digest prefix asked for.
        pinned: Option<String>,
    },
    /// A digest prefix matches several versions.
    #[error("digest prefix `{prefix}` of `{name}` is ambiguous: it matches {}", matches.join(", "))]
    Ambiguous {
        /// The name.
        name: String,
        /// The prefix.
        prefix: String,
        /// The digests it matches.
        matches: Vec<String>,
    },
    /// The component has no task of that name.
    #[error("component `{component}` has no task `{task}`; its tasks are: {available}")]
    UnknownTask {
        /// The component.
        component: String,
        /// The task asked for.
        task: String,
        /// Its tasks.
        available: String,
    },
    /// A job pins a digest whose bytes are not in the store.
    #[error("component bytes with digest {0} are missing from the store")]
    MissingBytes(String),
    /// The component gives itself no name and none was given.
    #[error(
        "this component does not name itself (it was built with wasmtasks-guest 0.1); give it a name with --name"
    )]
    Unnamed,
    /// A task records a signature whose schemas cannot be compiled.
    #[error("{0}")]
    InvalidSignature(String),
}

/// The outcome of an upload.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The component name.
    pub name: String,
    /// The name the component gives itself, if it has one.
    pub declared_name: Option<String>,
    /// The version it now has (or already had).
    pub version: u32,
    /// sha256 of the bytes.
    pub digest: String,
    /// Its tasks.
    pub tasks: Vec<TaskDefinition>,
    /// False when these bytes already were the newest version: nothing changed.
    pub created: bool,
}

/// A task path resolved: the version it pins and which of its tasks it names.
#[derive(Debug, Clone)]
pub struct ResolvedTask {
    /// The version.
    pub version: Arc<ComponentVersion>,
    index: usize,
}

impl ResolvedTask {
    /// The task.
    pub fn task(&self) -> &TaskDefinition {
        &self.version.tasks[self.index]
    }
}

/// Components, as stored and as loaded into this process's sandbox.
#[derive(Debug)]
pub struct Registry {
    store: Arc<dyn Store>,
    sandbox: Arc<Sandbox>,
    loading: Mutex<HashMap<String, Arc<OnceCell<Arc<TaskComponent>>>>>,
    /// The argument check of each task version, by digest and task name.
    checks: Mutex<Checks>,
    /// The newest version of each `(tenant, name)` resolved lately.
    newest: TtlCache<(String, String), Arc<ComponentVersion>>,
    /// This process's metrics.
    metrics: Arc<Metrics>,
}

/// The argument checks compiled so far, by digest and task name.
type Checks = HashMap<(String, String), Option<Arc<ArgumentCheck>>>;

impl Registry {
    /// A registry over `store`, loading into `sandbox`.
    pub fn new(store: Arc<dyn Store>, sandbox: Arc<Sandbox>) -> Self {
        Registry {
            store,
            sandbox,
            loading: Mutex::new(HashMap::new()),
            checks: Mutex::new(HashMap::new()),
            newest: TtlCache::new(NEWEST_FOR, 10_000),
            metrics: Arc::default(),
        }
    }

    /// This process's metrics: what its services and workers did.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The store behind it.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The sandbox it loads into.
    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    /// Validates `bytes` as a task component, reads its name and tasks, checks
    /// their signatures and stores it as the newest version of `name` (by default
    /// the name the component gives itself).
    pub async fn upload(
        &self,
        tenant: &str,
        name: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<Upload, RegistryError> {
        if let Some(name) = name
            && !is_valid_name(name)
        {
            return Err(RegistryError::InvalidName(name.to_owned()));
        }
        let component = self.sandbox.load(bytes.clone()).await?;
        let declared_name = component.declared_name().map(str::to_owned);
        let name = match (name, &declared_name) {
            (Some(name), _) => name.to_owned(),
            (None, Some(declared)) => declared.clone(),
            (None, None) => return Err(RegistryError::Unnamed),
        };
        let tasks = component.tasks().to_vec();
        for task in &tasks {
            self.argument_check(component.digest(), task)?;
        }
        let inserted = self
            .store
            .component_insert(ComponentInsert {
                tenant: tenant.to_owned(),
                name: name.clone(),
                digest: component.digest().to_owned(),
                bytes,
                tasks: tasks.clone(),
            })
            .await?;
        let (version, created) = match inserted {
            ComponentInserted::Created { version } => (version, true),
            ComponentInserted::Unchanged { version } => (version, false),
        };
        self.forget_component(tenant, &name);
        Ok(Upload {
            name,
            declared_name,
            version,
            digest: component.digest().to_owned(),
            tasks,
            created,
        })
    }

    /// The compiled argument check of `task` in the version with `digest` (`None`
    /// when the task records no signature), compiled once per process.
    pub fn argument_check(
        &self,
        digest: &str,
        task: &TaskDefinition,
    ) -> Result<Option<Arc<ArgumentCheck>>, RegistryError> {
        let key = (digest.to_owned(), task.name.clone());
        let mut checks = self
            .checks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(check) = checks.get(&key) {
            return Ok(check.clone());
        }
        let check = ArgumentCheck::compile(task)
            .map_err(RegistryError::InvalidSignature)?
            .map(Arc::new);
        checks.insert(key, check.clone());
        Ok(check)
    }

    /// The component version and task a task path names.
    pub async fn resolve(
        &self,
        tenant: &str,
        path: &TaskPath,
    ) -> Result<ResolvedTask, RegistryError> {
        let newest = (tenant.to_owned(), path.component.clone());
        let cached = match path.digest_prefix {
            None => self.newest.get(&newest),
            Some(_) => None,
        };
        let version = match cached {
            Some(version) => version,
            None => {
                let version = self.lookup(tenant, path).await?;
                if path.digest_prefix.is_none() {
                    self.newest.put(newest, version.clone());
                }
                version
            }
        };
        let index = version
            .tasks
            .iter()
            .position(|task| task.name == path.task)
            .ok_or_else(|| RegistryError::UnknownTask {
                component: path.component.clone(),
                task: path.task.clone(),
                available: version
                    .tasks
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        Ok(ResolvedTask { version, index })
    }

    /// Forgets what was resolved of `tenant`'s component `name` (uploaded or
    /// deleted through this process).
    pub fn forget_component(&self, tenant: &str, name: &str) {
        self.newest
            .forget_where(|(owner, component)| owner == tenant && component == name);
    }

    /// Forgets what was resolved of `tenant`'s components (the tenant was deleted).
    pub fn forget_tenant(&self, tenant: &str) {
        self.newest.forget_where(|(owner, _)| owner == tenant);
    }

    /// The version a task path names, read from the store.
    async fn lookup(
        &self,
        tenant: &str,
        path: &TaskPath,
    ) -> Result<Arc<ComponentVersion>, RegistryError> {
        let lookup = self
            .store
            .component_resolve(ComponentResolve {
                tenant: tenant.to_owned(),
                name: path.component.clone(),
                digest_prefix: path.digest_prefix.clone(),
            })
            .await?;
        match lookup {
            ComponentLookup::Found(version) => Ok(Arc::from(version)),
            ComponentLookup::NotFound => Err(RegistryError::NotFound {
                name: path.component.clone(),
                pinned: path.digest_prefix.clone(),
            }),
            ComponentLookup::Ambiguous(matches) => Err(RegistryError::Ambiguous {
                name: path.component.clone(),
                prefix: path.digest_prefix.clone().unwrap_or_default(),
                matches,
            }),
        }
    }

    /// The loaded component with `digest`, fetched from the store and compiled (or
    /// taken from the disk cache) the first time any attempt asks for it.
    pub async fn load(&self, digest: &str) -> Result<Arc<TaskComponent>, RegistryError> {
        if let Some(component) = self.sandbox.loaded(digest) {
            return Ok(component);
        }
        let cell = self
            .loading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(digest.to_owned())
            .or_default()
            .clone();
        let component = cell
            .get_or_try_init(|| async {
                let bytes = self
                    .store
                    .component_get_bytes(digest)
                    .await?
                    .ok_or_else(|| RegistryError::MissingBytes(digest.to_owned()))?;
                Ok::<_, RegistryError>(self.sandbox.load(bytes).await?)
            })
            .await?
            .clone();
        self.loading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(digest);
        Ok(component)
    }
}
