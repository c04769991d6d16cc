//! What each stage of a job's way through the queue costs in isolation, on a
//! SQLite file, and on PostgreSQL too when `WASMTASKS_BENCH_POSTGRES_URL` names a
//! server (a database is created for the run and dropped after it):
//!
//! - `enqueue/one`: one job through the service layer: its arguments checked
//!   against the task's signature, inserted, committed.
//! - `enqueue/bulk_64`: 64 jobs in one call.
//! - `claim/64`: one claim of 64 READY jobs (a fair claim over one tenant).
//! - `complete/64`: 64 successful attempts recorded in one batch, as the
//!   completer writes them.
//!
//! The attempt itself (a fresh instance, the call, dropping it) is
//! `cargo bench -p wasmtasks-sandbox`. The arith example component must be built
//! first: `./scripts/quickstart.sh`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tokio::runtime::Runtime;
use wasmtasks::backend::{BackendKind, TaskBackend};
use wasmtasks::config::Settings;
use wasmtasks::enqueue::EnqueueRequest;
use wasmtasks::registry::Registry;
use wasmtasks::sandbox::{Sandbox, SandboxConfig};
use wasmtasks::service::Services;
use wasmtasks::service::components::UploadRequest;
use wasmtasks::store::{ClaimedJob, Completion, JobClaim, QueueFilter, Store};
use wasmtasks::task::Arguments;
use wasmtasks::tenant::{DEFAULT_TENANT, Principal};

/// Jobs per batch in the batched stages.
const BATCH: usize = 64;

/// A queue on one database with the arith component uploaded.
struct Queue {
    backend: TaskBackend,
    store: Arc<dyn Store>,
}

impl Queue {
    async fn open(url: &str, cache: &Path) -> Queue {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let arith = root.join("target/wasm-guests/wasm32-wasip2/release/arith.wasm");
        let bytes = std::fs::read(&arith).unwrap_or_else(|error| {
            panic!(
                "cannot read {} ({error}); build the examples first: ./scripts/quickstart.sh",
                arith.display()
            )
        });
        let settings = Settings {
            database_url: url.to_owned(),
            cache_dir: Some(cache.to_owned()),
            ..Settings::default()
        };
        let store = wasmtasks::store::connect(url)
            .await
            .expect("the store opens");
        let sandbox = Sandbox::new(SandboxConfig {
            cache_dir: Some(cache.to_owned()),
            ..SandboxConfig::default()
        })
        .expect("a sandbox");
        let services = Services::new(
            Arc::new(Registry::new(store.clone(), Arc::new(sandbox))),
            Arc::new(settings),
        );
        let principal = Principal::operator(DEFAULT_TENANT);
        let upload = UploadRequest {
            bytes,
            name: Some("arith".into()),
            ..UploadRequest::default()
        };
        services
            .components()
            .upload(&principal, upload)
            .await
            .expect("arith uploads");
        Queue {
            backend: TaskBackend::new(BackendKind::Database, services, principal),
            store,
        }
    }

    async fn enqueue(&self, count: usize) {
        self.backend
            .enqueue_many(additions(count))
            .await
            .expect("the jobs are enqueued");
    }

    /// Claims up to `limit` READY jobs.
    async fn claim_up_to(&self, limit: u32) -> Vec<ClaimedJob> {
        let claim = JobClaim {
            worker_id: "bench".into(),
            queues: QueueFilter::All {
                exclude: Vec::new(),
            },
            tenants: None,
            limit,
            lease: Duration::from_secs(600),
        };
        self.store.job_claim(claim).await.expect("a claim")
    }

    /// Claims the batch just enqueued.
    async fn claim(&self) -> Vec<ClaimedJob> {
        let claimed = self.claim_up_to(BATCH as u32).await;
        assert_eq!(claimed.len(), BATCH, "the claim took every READY job");
        claimed
    }

    async fn complete(&self, jobs: &[ClaimedJob]) {
        let completions: Vec<Completion> = jobs
            .iter()
            .map(|job| Completion::succeeded(job, "bench", json!(2)))
            .collect();
        let applied = self
            .store
            .job_complete_many(&completions)
            .await
            .expect("the completions are written");
        assert_eq!(applied.len(), jobs.len());
    }
}

/// `arith.add(1, 1)`, `count` times.
fn additions(count: usize) -> Vec<EnqueueRequest> {
    (0..count)
        .map(|_| {
            EnqueueRequest::new(
                "arith.add",
                Arguments::from_values(json!([1, 1]), json!({})).expect("two numbers"),
            )
        })
        .collect()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn stages(c: &mut Criterion, dialect: &str, url: &str) {
    let runtime = runtime();
    let cache = tempfile::tempdir().expect("a temporary directory");
    let queue = runtime.block_on(Queue::open(url, cache.path()));
    let mut group = c.benchmark_group(dialect);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("enqueue/one", |b| {
        b.to_async(&runtime).iter(|| async {
            queue
                .backend
                .enqueue(additions(1).remove(0))
                .await
                .expect("the job is enqueued")
        })
    });
    group.bench_function("enqueue/bulk_64", |b| {
        b.to_async(&runtime).iter(|| queue.enqueue(BATCH))
    });
    // The stages below start from an empty queue: claim what was enqueued so far.
    runtime.block_on(async {
        loop {
            let claimed = queue.claim_up_to(4096).await;
            if claimed.is_empty() {
                break;
            }
            queue.complete(&claimed).await;
        }
    });
    group.bench_function("claim/64", |b| {
        let queue = &queue;
        b.to_async(&runtime).iter_custom(|iters| async move {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                queue.enqueue(BATCH).await;
                let started = Instant::now();
                let claimed = queue.claim().await;
                spent += started.elapsed();
                queue.complete(&claimed).await;
            }
            spent
        })
    });
    group.bench_function("complete/64", |b| {
        let queue = &queue;
        b.to_async(&runtime).iter_custom(|iters| async move {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                queue.enqueue(BATCH).await;
                let claimed = queue.claim().await;
                let started = Instant::now();
                queue.complete(&claimed).await;
                spent += started.elapsed();
            }
            spent
        })
    });
    group.finish();
    runtime.block_on(queue.store.close());
}

fn sqlite(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("queue.sqlite3").display());
    stages(c, "sqlite", &url);
}

fn postgres(c: &mut Criterion) {
    let Ok(server) = std::env::var("WASMTASKS_BENCH_POSTGRES_URL") else {
        eprintln!("postgres: skipped (set WASMTASKS_BENCH_POSTGRES_URL to a server)");
        return;
    };
    let runtime = runtime();
    let name = format!("wasmtasks_queue_bench_{}", std::process::id());
    let url = runtime
        .block_on(wasmtasks::store::postgres::create_database(&server, &name))
        .expect("a database for the run");
    stages(c, "postgres", &url);
    runtime
        .block_on(wasmtasks::store::postgres::drop_database(&server, &name))
        .expect("the run's database is dropped");
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
