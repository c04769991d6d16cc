//! The library's three backends behind one interface, and an in-process worker that
//! wakes at once for jobs enqueued in the same process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmtasks::backend::{BackendKind, TaskBackend};
use wasmtasks::config::Settings;
use wasmtasks::enqueue::EnqueueRequest;
use wasmtasks::registry::Registry;
use wasmtasks::sandbox::{Sandbox, SandboxConfig};
use wasmtasks::service::{ServiceError, Services};
use wasmtasks::task::{Arguments, TaskStatus};
use wasmtasks::tenant::Principal;
use wasmtasks::worker::{Shutdown, Worker, WorkerOptions};
use wasmtasks_tests::example;

struct Fixture {
    registry: Arc<Registry>,
    settings: Arc<Settings>,
    services: Services,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// A backend of `kind` acting as the operator within the default tenant.
    fn backend(&self, kind: BackendKind) -> TaskBackend {
        TaskBackend::new(kind, self.services.clone(), Principal::operator("default"))
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("db.sqlite3").display()),
        ..Settings::default()
    };
    let store = wasmtasks::store::connect(&settings.database_url)
        .await
        .unwrap();
    let sandbox = Arc::new(Sandbox::new(SandboxConfig::default()).unwrap());
    let registry = Arc::new(Registry::new(store, sandbox));
    let bytes = std::fs::read(example("arith")).unwrap();
    registry.upload("default", None, bytes).await.unwrap();
    let settings = Arc::new(settings);
    Fixture {
        services: Services::new(registry.clone(), settings.clone()),
        registry,
        settings,
        _dir: dir,
    }
}

fn add(a: i64, b: i64) -> EnqueueRequest {
    EnqueueRequest::new(
        "arith.add",
        Arguments::from_values(json!([a, b]), json!({})).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dummy_stores_in_memory_and_never_runs() {
    let fixture = fixture().await;
    let backend = fixture.backend(BackendKind::Dummy);
    let result = backend.enqueue(add(1, 2)).await.unwrap();
    assert_eq!(
        (result.status, result.backend.as_str()),
        (TaskStatus::Ready, "dummy")
    );
    assert_eq!(backend.get_result(&result.id).await.unwrap(), result);
    assert_eq!(backend.results(), vec![result]);
    assert!(
        fixture
            .registry
            .store()
            .queue_stats(Some("default"))
            .await
            .unwrap()
            .is_empty(),
        "nothing reached the queue"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_runs_now_and_returns_the_finished_result() {
    let fixture = fixture().await;
    let backend = fixture.backend(BackendKind::Immediate);
    let result = backend.enqueue(add(20, 22)).await.unwrap();
    assert_eq!(
        (result.status, result.return_value.clone()),
        (TaskStatus::Successful, Some(json!(42)))
    );
    assert_eq!(result.attempts, 1);
    let mut starved = EnqueueRequest::new(
        "arith.fib",
        Arguments::from_values(json!([30]), json!({})).unwrap(),
    );
    starved.limits.fuel = Some(10_000);
    let failed = backend.enqueue(starved).await.unwrap();
    assert_eq!(failed.status, TaskStatus::Failed);
    assert_eq!(failed.errors[0].exception_class_path, "wasmtasks.OutOfFuel");
    // A call that cannot bind is refused before it runs, as by the database backend.
    let refused = backend
        .enqueue(EnqueueRequest::new("arith.add", Arguments::default()))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, ServiceError::Invalid(m) if m == "add() missing 2 required arguments: 'a' and 'b'"),
        "{refused}"
    );
    assert_eq!(
        backend.get_result(&result.id).await.unwrap().return_value,
        Some(json!(42))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_backend_refuses_the_same_bad_requests() {
    let fixture = fixture().await;
    for kind in [
        BackendKind::Immediate,
        BackendKind::Dummy,
        BackendKind::Database,
    ] {
        let backend = fixture.backend(kind);
        let mut request = add(1, 2);
        request.priority = Some(-101);
        let error = backend.enqueue(request).await.unwrap_err();
        assert!(
            matches!(&error, ServiceError::Invalid(m) if m.contains("priority -101")),
            "{kind:?}: {error}"
        );
        let error = backend
            .enqueue(EnqueueRequest::new(
                "arith.add",
                Arguments::from_values(json!(["two", 2]), json!({})).unwrap(),
            ))
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("argument 'a' of add(): \"two\" is not of type \"integer\""),
            "{kind:?}: {error}"
        );
        let error = backend
            .enqueue(EnqueueRequest::new("arith.mul", Arguments::default()))
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("has no task `mul`"),
            "{kind:?}: {error}"
        );
        assert!(matches!(
            backend.get_result("nope").await,
            Err(ServiceError::NotFound(_))
        ));
    }
    assert!(
        fixture
            .registry
            .store()
            .queue_stats(Some("default"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_results_refresh_as_an_in_process_worker_runs_them() {
    let fixture = fixture().await;
    let backend = fixture.backend(BackendKind::Database);
    let mut options = WorkerOptions::new(&fixture.settings);
    // A poll this slow would fail the test: the worker must be woken by the enqueue.
    options.interval = Duration::from_secs(60);
    let worker = Worker::new(fixture.registry.clone(), fixture.settings.clone(), options).unwrap();
    let shutdown = Shutdown::default();
    let running = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { worker.run(shutdown).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut result = backend.enqueue(add(2, 3)).await.unwrap();
    assert_eq!(result.status, TaskStatus::Ready);
    let started = Instant::now();
    while !result.status.is_finished() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the idle worker was not woken"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
        backend.refresh(&mut result).await.unwrap();
    }
    assert_eq!(
        (result.status, result.return_value.clone()),
        (TaskStatus::Successful, Some(json!(5)))
    );
    let ids = backend
        .enqueue_many((0..20).map(|i| add(i, i)).collect())
        .await
        .unwrap();
    assert_eq!(ids.len(), 20);
    shutdown.stop_claiming.cancel();
    let report = running.await.unwrap().unwrap();
    assert!(report.claimed >= 1);
}
