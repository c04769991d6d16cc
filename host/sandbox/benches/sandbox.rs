//! What an attempt costs, and what loading a component costs cold and from the
//! on-disk cache.
//!
//! - `instantiate_call_drop/arith.add`: one warm attempt of `add(2, 3)` on a loaded
//!   component: a fresh store and instance from the pre-instantiated form, the
//!   call, and dropping it all, on a current-thread tokio runtime.
//! - `compile/arith`: loading the component into a fresh sandbox without a cache:
//!   validation, compilation, linking and the `list-tasks` call.
//! - `load/cache-hit`: the same into a fresh sandbox whose cache directory already
//!   holds the compiled component.
//!
//! The example components must be built first: `./scripts/quickstart.sh`, or
//! `cd tasks-examples && cargo build --release --target-dir ../target/wasm-guests`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use wasmtasks_sandbox::{
    AttemptOutcome, CacheStatus, Capabilities, Limits, Sandbox, SandboxConfig, TaskCall,
    TaskContext,
};

/// The bytes of the `arith` example component.
fn arith_bytes() -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path: PathBuf = root.join("target/wasm-guests/wasm32-wasip2/release/arith.wasm");
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read the arith example at {} ({error}); build the examples first: \
             `./scripts/quickstart.sh`, or `cd tasks-examples && cargo build --release \
             --target-dir ../target/wasm-guests`",
            path.display()
        )
    })
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn add_call() -> TaskCall {
    TaskCall {
        task: "add".into(),
        args: "[2, 3]".into(),
        kwargs: "{}".into(),
        context: TaskContext {
            task_result_id: "bench".into(),
            attempt: 1,
            task_path: "arith.add".into(),
            queue_name: "default".into(),
            priority: 0,
        },
        capabilities: Capabilities::default(),
    }
}

fn instantiate_call_drop(c: &mut Criterion) {
    let runtime = runtime();
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("a sandbox");
    let component = runtime
        .block_on(sandbox.load(arith_bytes()))
        .expect("arith loads");
    let call = add_call();
    let limits = Limits::default();
    let check = runtime
        .block_on(sandbox.run(&component, &call, limits))
        .expect("add runs");
    assert_eq!(check.outcome, AttemptOutcome::Returned(5.into()));

    let mut group = c.benchmark_group("instantiate_call_drop");
    group.bench_function("arith.add", |b| {
        b.to_async(&runtime).iter(|| async {
            let report = sandbox.run(&component, &call, limits).await;
            black_box(report.expect("add runs"))
        })
    });
    group.finish();
}

fn compile(c: &mut Criterion) {
    let runtime = runtime();
    let bytes = arith_bytes();
    let mut group = c.benchmark_group("compile");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("arith", |b| {
        b.iter_batched(
            || {
                let sandbox = Sandbox::new(SandboxConfig::default()).expect("a sandbox");
                (sandbox, bytes.clone())
            },
            |(sandbox, bytes)| {
                let component = runtime.block_on(sandbox.load(bytes)).expect("arith loads");
                debug_assert_eq!(component.cache_status(), CacheStatus::Disabled);
                // Dropped after the measurement, with the sandbox.
                (sandbox, component)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn load_cache_hit(c: &mut Criterion) {
    let runtime = runtime();
    let bytes = arith_bytes();
    let cache = tempfile::tempdir().expect("a temporary directory");
    let config = SandboxConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..SandboxConfig::default()
    };
    // Warm the cache.
    let warm = Sandbox::new(config.clone()).expect("a sandbox");
    let component = runtime
        .block_on(warm.load(bytes.clone()))
        .expect("arith loads");
    assert_eq!(component.cache_status(), CacheStatus::Miss);
    drop((component, warm));

    let mut group = c.benchmark_group("load");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("cache-hit", |b| {
        b.iter_batched(
            || {
                let sandbox = Sandbox::new(config.clone()).expect("a sandbox");
                (sandbox, bytes.clone())
            },
            |(sandbox, bytes)| {
                let component = runtime.block_on(sandbox.load(bytes)).expect("arith loads");
                assert_eq!(component.cache_status(), CacheStatus::Hit);
                (sandbox, component)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, instantiate_call_drop, compile, load_cache_hit);
criterion_main!(benches);
