//! The [`Sandbox`]: one wasmtime engine per process with the pooling allocator,
//! fuel and epoch interruption; the WASI linker every component is linked with;
//! and the components loaded so far, each kept pre-instantiated.

use std::path::Path;
use std::sync::{Arc, Mutex};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, WasmBacktraceDetails,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::cache::{CacheStatus, CompileCache, Lookup};
use crate::capabilities::Capabilities;
use crate::component::{self, TaskComponent, check_preamble, digest};
use crate::config::SandboxConfig;
use crate::contract::{self, ComponentPre};
use crate::epoch::Ticker;
use crate::error::{SandboxError, describe};
use crate::http::AttemptHttp;
use crate::limits::AttemptLimiter;
use crate::loaded::Loaded;

/// What one attempt's store holds: its WASI context (no files, no environment, no
/// sockets; captured stdio), its resource table, its limiter, what the operator
/// granted the component and the `wasi:http` state that enforces it.
pub(crate) struct AttemptState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: AttemptLimiter,
    pub(crate) capabilities: Capabilities,
    pub(crate) http: WasiHttpCtx,
    pub(crate) http_hooks: AttemptHttp,
}

impl WasiHttpView for AttemptState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_hooks,
        }
    }
}

impl WasiView for AttemptState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The sandbox in which every attempt runs. Create one per process and share it.
pub struct Sandbox {
    pub(crate) engine: Engine,
    pub(crate) config: SandboxConfig,
    pub(crate) slots: tokio::sync::Semaphore,
    pub(crate) ticker: Ticker,
    linker: Linker<AttemptState>,
    cache: Option<CompileCache>,
    loaded: Mutex<Loaded>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Builds the engine, starts its epoch ticker and links WASI, `wasi:http` and
    /// `config`.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        config.validate()?;
        let engine =
            Engine::new(&engine_config(&config)).map_err(|e| SandboxError::Engine(describe(&e)))?;
        let ticker = Ticker::spawn(&engine, config.epoch_tick)
            .map_err(|e| SandboxError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| SandboxError::Engine(describe(&e)))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| SandboxError::Engine(describe(&e)))?;
        contract::add_to_linker(&mut linker)?;
        let cache = config
            .cache_dir
            .as_deref()
            .map(|dir| CompileCache::open(dir, &engine))
            .transpose()?;
        let max_loaded_bytes = config.max_loaded_bytes;
        Ok(Sandbox {
            slots: tokio::sync::Semaphore::new(config.pool_slots as usize),
            ticker,
            engine,
            config,
            linker,
            cache,
            loaded: Mutex::new(Loaded::new(max_loaded_bytes)),
        })
    }

    /// The settings this sandbox was built with.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// The component with `digest`, if this sandbox has it loaded.
    pub fn loaded(&self, digest: &str) -> Option<Arc<TaskComponent>> {
        self.loaded_components().get(digest)
    }

    /// How many components it keeps loaded, and their machine code in bytes.
    pub fn loaded_usage(&self) -> (usize, u64) {
        self.loaded_components().usage()
    }

    /// Reads, validates and loads the component in `path`.
    pub async fn load_file(&self, path: &Path) -> Result<Arc<TaskComponent>, SandboxError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|cause| SandboxError::Read {
                path: path.to_owned(),
                cause,
            })?;
        self.load(bytes).await
    }

    /// Validates and loads a component: checks it is a component of the wasmtasks
    /// world, compiles it (or takes it from the cache), links it, and reads its tasks.
    /// Loading the same bytes again returns the component already loaded.
    pub async fn load(&self, bytes: Vec<u8>) -> Result<Arc<TaskComponent>, SandboxError> {
        check_preamble(&bytes)?;
        let digest = digest(&bytes);
        if let Some(component) = self.loaded(&digest) {
            return Ok(component);
        }
        let size_bytes = bytes.len();
        let (compiled, cache) = self.compile(bytes, &digest).await?;
        let code = compiled.image_range();
        let code_bytes = (code.end as usize - code.start as usize) as u64;
        let pre = ComponentPre::link(&self.linker, &compiled)?;
        let description = self.describe(&pre).await?;
        let name = description.name.map(component::check_name).transpose()?;
        let tasks = component::definitions(description.tasks)?;
        let component = Arc::new(TaskComponent {
            digest: digest.clone(),
            size_bytes,
            code_bytes,
            name,
            tasks,
            cache,
            pre,
        });
        Ok(self.loaded_components().insert(component))
    }

    fn loaded_components(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn compile(
        &self,
        bytes: Vec<u8>,
        digest: &str,
    ) -> Result<(Component, CacheStatus), SandboxError> {
        let status = match &self.cache {
            None => CacheStatus::Disabled,
            Some(cache) => match cache.load(&self.engine, digest) {
                Lookup::Hit(component) => return Ok((component, CacheStatus::Hit)),
                Lookup::Miss => CacheStatus::Miss,
                Lookup::Unusable => CacheStatus::Recovered,
            },
        };
        let engine = self.engine.clone();
        // Compiling takes milliseconds to seconds of CPU: keep it off the executor.
        let component =
            tokio::task::spawn_blocking(move || Component::from_binary(&engine, &bytes))
                .await
                .map_err(|e| SandboxError::Engine(format!("the compiler thread failed: {e}")))?
                .map_err(|e| SandboxError::Invalid(describe(&e)))?;
        if let Some(cache) = &self.cache {
            cache.store(digest, &component)?;
        }
        Ok((component, status))
    }
}

fn engine_config(config: &SandboxConfig) -> Config {
    let slots = config.pool_slots;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_core_instances(slots * 8)
        .total_memories(slots * 2)
        .total_tables(slots * 4)
        .total_stacks(slots)
        .max_memory_size(config.max_memory_bytes as usize)
        // Resetting a slot copies the image back over (or zeroes) this much and unmaps
        // the rest. Unmapped pages are faulted in again by the next attempt, and a
        // page first read then written costs a second, copy-on-write fault that must
        // flush the TLB of every CPU running the worker's threads: in a busy worker
        // those interrupts took half the CPU. Copying the whole memory back is far
        // cheaper (W1: Rust arith 12.5k → 15.3k jobs/s, Python arith 456 → 1,323).
        // (`pagemap_scan`, which copies only dirty pages, would be faster still, but
        // in wasmtime 48 it can skip dirty pages that were swapped out, leaking one
        // attempt's data to the next, and it stops after 32 dirty runs.)
        .linear_memory_keep_resident(
            usize::try_from(config.keep_resident_bytes).unwrap_or(usize::MAX),
        )
        .table_keep_resident(64 << 10);
    let mut engine = Config::new();
    engine
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .wasm_backtrace_details(WasmBacktraceDetails::Disable)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    engine
}
