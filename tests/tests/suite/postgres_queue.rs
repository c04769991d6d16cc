//! The queue on PostgreSQL, end to end: worker processes sharing one database, a
//! worker killed mid-batch, a lost notification, and enqueueing inside the
//! caller's transaction. Each test gets a database of its own and is skipped (with
//! a message) when no server is reachable, unless `CI=true`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmtasks::backend::{BackendKind, TaskBackend};
use wasmtasks::config::Settings;
use wasmtasks::enqueue::EnqueueRequest;
use wasmtasks::registry::Registry;
use wasmtasks::sandbox::{Sandbox, SandboxConfig};
use wasmtasks::service::{ServiceError, Services};
use wasmtasks::sqlx::{self, PgPool};
use wasmtasks::task::{Arguments, TaskStatus};
use wasmtasks::tenant::Principal;
use wasmtasks::worker::{Shutdown, Worker, WorkerOptions};
use wasmtasks_tests::postgres::TestDatabase;
use wasmtasks_tests::{Workspace, example};

use crate::queue_support::*;

/// A fresh database and a workspace on it with `components` uploaded.
fn postgres_queue_with(components: &[&str]) -> Option<(Workspace, TestDatabase)> {
    let database = TestDatabase::create()?;
    let workspace = uploaded(Workspace::with_database(database.url()), components);
    Some((workspace, database))
}

/// Runs `work` against the test database on a runtime of its own.
fn with_pool<T>(database: &TestDatabase, work: impl AsyncFnOnce(&PgPool) -> T) -> T {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = PgPool::connect(database.url()).await.unwrap();
        let result = work(&pool).await;
        pool.close().await;
        result
    })
}

/// The `claimed` count of a finished worker's report.
fn claimed(run: &wasmtasks_tests::Run) -> u64 {
    worker_report(run)["claimed"].as_u64().unwrap()
}

#[test]
fn four_worker_processes_drain_20000_jobs_each_exactly_once() {
    let Some((workspace, database)) = postgres_queue_with(&["arith"]) else {
        return;
    };
    let lines: Vec<Value> = (0..20_000)
        .map(|i| json!({"task_path": "arith.add", "args": [i, 1]}))
        .collect();
    assert_eq!(enqueue_file(&workspace, &lines).len(), 20_000);
    let workers: Vec<_> = (1..=4)
        .map(|i| {
            let id = format!("w{i}");
            spawn_worker(
                &workspace,
                &["--batch", "--concurrency", "16", "--worker-id", &id],
            )
        })
        .collect();
    let runs: Vec<_> = workers.into_iter().map(finish).collect();
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(runs.iter().map(claimed).sum::<u64>(), 20_000);
    let (jobs, attempts, per_worker) = with_pool(&database, async |pool| {
        let jobs: (i64, i64, i32, i32) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE status = 'SUCCESSFUL'), min(attempt),
                max(attempt) FROM tasks",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let attempts: (i64, i64) =
            sqlx::query_as("SELECT count(*), count(DISTINCT task_id) FROM task_attempts")
                .fetch_one(pool)
                .await
                .unwrap();
        let per_worker: Vec<(String, i64)> = sqlx::query_as(
            "SELECT worker_id, count(*) FROM task_attempts GROUP BY worker_id ORDER BY 1",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        (jobs, attempts, per_worker)
    });
    assert_eq!(
        jobs,
        (20_000, 20_000, 1, 1),
        "every job SUCCESSFUL on attempt 1"
    );
    assert_eq!(attempts, (20_000, 20_000), "one attempt per job");
    let workers: Vec<&str> = per_worker.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(workers, ["w1", "w2", "w3", "w4"], "{per_worker:?}");
    assert!(
        per_worker.iter().all(|(_, n)| *n >= 1_000),
        "the work is spread across the workers: {per_worker:?}"
    );
}

#[test]
fn a_worker_killed_mid_batch_loses_no_job() {
    let Some((workspace, database)) = postgres_queue_with(&["hostile"]) else {
        return;
    };
    let lines: Vec<Value> = (0..48)
        .map(|_| json!({"task_path": "hostile.sleep_ms", "args": [250], "max_attempts": 3, "backoff_factor": 0.1}))
        .collect();
    let ids = enqueue_file(&workspace, &lines);
    let fast = ["--concurrency", "8", "--lease", "1s", "--interval", "100ms"];
    let mut doomed = spawn_worker(
        &workspace,
        &[&fast[..], &["--worker-id", "doomed"]].concat(),
    );
    let survivor = spawn_worker(
        &workspace,
        &[&fast[..], &["--worker-id", "survivor"]].concat(),
    );
    let doomed_running = async |pool: &PgPool| -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM tasks WHERE status = 'RUNNING' AND lease_owner = 'doomed'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    };
    // Kill it in the middle of a batch: while it holds leases.
    with_pool(&database, async |pool| {
        let started = Instant::now();
        while doomed_running(pool).await == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "doomed never claimed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    // A statement the server had already received still commits; its leases last
    // 1 s, so nothing is rescued yet.
    std::thread::sleep(Duration::from_millis(200));
    let in_flight = with_pool(&database, doomed_running);
    assert!(in_flight > 0, "the kill caught attempts in flight");
    wait_successful(&workspace, 48, Duration::from_secs(60));
    signal(&survivor, "TERM");
    let report = finish(survivor);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let lost = attempts_lost_by(&workspace, &ids, "doomed");
    assert_eq!(
        lost, in_flight as u64,
        "every attempt in flight at the kill was rescued once"
    );
}

/// Waits until a worker's `LISTEN` connection is open on the test database.
async fn listening(pool: &PgPool) {
    let started = Instant::now();
    loop {
        let listeners: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if listeners > 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no worker listens"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Seconds from `id`'s enqueue (or the given time) to its end, by the database's clock.
fn seconds_to_finish(workspace: &Workspace, id: &str, from: Option<&str>) -> f64 {
    let done = wait_finished(workspace, id, Duration::from_secs(30));
    assert_eq!(done["status"], "SUCCESSFUL", "{done}");
    let time = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap();
    let start = time(from.unwrap_or(done["enqueued_at"].as_str().unwrap()));
    (time(done["finished_at"].as_str().unwrap()) - start).as_seconds_f64()
}

#[test]
fn a_lost_notification_costs_one_poll_at_most() {
    let Some((workspace, database)) = postgres_queue_with(&["arith"]) else {
        return;
    };
    // Polling every 5 s: a job that finishes well within that was woken for.
    let worker = spawn_worker(&workspace, &["--interval", "5s", "--worker-id", "idle"]);
    with_pool(&database, listening);
    let notified = enqueue(&workspace, &["arith.add", "1", "2"]);
    let woken = seconds_to_finish(&workspace, &notified, None);
    assert!(woken < 1.5, "the notification woke the worker: {woken} s");

    // A job made available without a notification (one that got lost) waits for
    // the poll, and no longer.
    let silent = enqueue(&workspace, &["arith.add", "3", "4", "--run-after", "+1h"]);
    let made_ready: String = with_pool(&database, async |pool| {
        sqlx::query_scalar(
            "UPDATE tasks SET available_at = now() WHERE id = $1
             RETURNING to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
        )
        .bind(&silent)
        .fetch_one(pool)
        .await
        .unwrap()
    });
    let polled = seconds_to_finish(&workspace, &silent, Some(&made_ready));
    assert!(polled < 5.0 + 2.0, "the poll found it: {polled} s");

    // The listening connection is killed: the worker reconnects and is woken again.
    with_pool(&database, async |pool| {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .execute(pool)
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        listening(pool).await;
    });
    let after_reconnect = enqueue(&workspace, &["arith.add", "5", "6"]);
    let woken = seconds_to_finish(&workspace, &after_reconnect, None);
    assert!(
        woken < 1.5,
        "woken after the listener reconnected: {woken} s"
    );
    signal(&worker, "TERM");
    let run = finish(worker);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(claimed(&run), 3);
}

fn add(a: i64, b: i64) -> EnqueueRequest {
    EnqueueRequest::new(
        "arith.add",
        Arguments::from_values(json!([a, b]), json!({})).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_in_the_callers_transaction_exists_only_if_it_commits() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let settings = Arc::new(Settings {
        database_url: database.url().to_owned(),
        ..Settings::default()
    });
    let store = wasmtasks::store::connect(database.url()).await.unwrap();
    let sandbox = Arc::new(Sandbox::new(SandboxConfig::default()).unwrap());
    let registry = Arc::new(Registry::new(store, sandbox));
    let bytes = std::fs::read(example("arith")).unwrap();
    registry.upload("default", None, bytes).await.unwrap();
    let services = Services::new(registry.clone(), settings.clone());
    let operator = Principal::operator("default");
    let backend = TaskBackend::new(BackendKind::Database, services.clone(), operator.clone());
    let pool = PgPool::connect(database.url()).await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    let rolled_back = backend.enqueue_in(&mut tx, add(1, 2)).await.unwrap();
    assert_eq!(rolled_back.status, TaskStatus::Ready);
    assert!(
        matches!(
            backend.get_result(&rolled_back.id).await,
            Err(ServiceError::NotFound(_))
        ),
        "invisible before the commit"
    );
    tx.rollback().await.unwrap();
    assert!(matches!(
        backend.get_result(&rolled_back.id).await,
        Err(ServiceError::NotFound(_))
    ));

    let mut tx = pool.begin().await.unwrap();
    let committed = backend.enqueue_in(&mut tx, add(20, 22)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        backend.get_result(&committed.id).await.unwrap().status,
        TaskStatus::Ready
    );
    let mut options = WorkerOptions::new(&settings);
    options.batch = true;
    let report = Worker::new(registry.clone(), settings.clone(), options)
        .unwrap()
        .run(Shutdown::default())
        .await
        .unwrap();
    assert_eq!(report.claimed, 1, "only the committed job ever ran");
    let done = backend.get_result(&committed.id).await.unwrap();
    assert_eq!(
        (done.status, done.return_value),
        (TaskStatus::Successful, Some(json!(42)))
    );

    // Other backends cannot join a transaction.
    let dummy = TaskBackend::new(BackendKind::Dummy, services, operator);
    let mut connection = pool.acquire().await.unwrap();
    assert!(dummy.enqueue_in(&mut connection, add(1, 1)).await.is_err());
}
