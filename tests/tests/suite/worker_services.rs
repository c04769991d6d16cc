//! The worker's services driven step by step through simulated time: the
//! scheduler (several racing, on both dialects, and catching up after a worker was
//! down) and the pruner (ages, stale READY jobs, batches).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration as Age, Utc};
use wasmtasks::config::Settings;
use wasmtasks::registry::Registry;
use wasmtasks::sandbox::{Sandbox, SandboxConfig};
use wasmtasks::schedule::{CatchUp, ScheduleSpec};
use wasmtasks::store::{JobList, Store};
use wasmtasks::worker::{ManualClock, Pruner, PrunerConfig, Scheduler};
use wasmtasks_tests::example;
use wasmtasks_tests::postgres::TestDatabase;

/// A database for one test: a SQLite file, or a PostgreSQL database of its own.
enum Database {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

impl Database {
    fn url(&self) -> String {
        match self {
            Database::Sqlite(dir) => {
                format!("sqlite://{}", dir.path().join("db.sqlite3").display())
            }
            Database::Postgres(database) => database.url().to_owned(),
        }
    }
}

fn sqlite() -> Option<Database> {
    Some(Database::Sqlite(tempfile::tempdir().unwrap()))
}

fn postgres() -> Option<Database> {
    TestDatabase::create().map(Database::Postgres)
}

/// A registry on its own connections to `url` (as another worker process has),
/// with `arith` uploaded.
async fn registry(url: &str) -> Arc<Registry> {
    let store = wasmtasks::store::connect(url).await.unwrap();
    let sandbox = Arc::new(Sandbox::new(SandboxConfig::default()).unwrap());
    let registry = Arc::new(Registry::new(store, sandbox));
    registry
        .upload("default", None, std::fs::read(example("arith")).unwrap())
        .await
        .unwrap();
    registry
}

fn minutely(catch_up: CatchUp) -> Arc<Settings> {
    let spec = ScheduleSpec {
        cron: "* * * * *".into(),
        timezone: "UTC".into(),
        task_path: "arith.add".into(),
        args: vec![1.into(), 2.into()],
        kwargs: Default::default(),
        queue_name: None,
        priority: None,
        catch_up,
    };
    Arc::new(Settings {
        schedules: BTreeMap::from([(
            "default".to_owned(),
            BTreeMap::from([("every-minute".to_owned(), spec)]),
        )]),
        ..Settings::default()
    })
}

fn start() -> DateTime<Utc> {
    "2026-03-01T00:00:30Z".parse().unwrap()
}

async fn jobs(store: &Arc<dyn Store>) -> usize {
    store
        .job_list(JobList {
            tenant: "default".into(),
            limit: 10_000,
            ..JobList::default()
        })
        .await
        .unwrap()
        .jobs
        .len()
}

/// Three schedulers, each on its own connections, step through an hour of
/// simulated time together, racing for every tick: sixty jobs, one a tick.
async fn racing_schedulers_enqueue_one_job_a_tick(database: Option<Database>) {
    let Some(database) = database else { return };
    let url = database.url();
    let settings = minutely(CatchUp::Latest);
    let clock = Arc::new(ManualClock::new(start()));
    let mut schedulers = Vec::new();
    for _ in 0..3 {
        let scheduler = Scheduler::new(registry(&url).await, settings.clone(), clock.clone());
        scheduler.sync_file().await.unwrap();
        schedulers.push(Arc::new(scheduler));
    }
    let mut enqueued = 0;
    for _ in 0..60 {
        clock.advance(Age::minutes(1));
        let mut racing = tokio::task::JoinSet::new();
        for scheduler in &schedulers {
            let scheduler = scheduler.clone();
            racing.spawn(async move { scheduler.step().await.unwrap() });
        }
        while let Some(taken) = racing.join_next().await {
            enqueued += taken.unwrap();
        }
    }
    let store = registry(&url).await.store().clone();
    assert_eq!(jobs(&store).await, 60, "one job a tick");
    assert_eq!(enqueued, 60, "each tick taken once");
    let schedule = &store.schedule_list(Some("default")).await.unwrap()[0];
    assert_eq!(
        schedule.last_run_at,
        Some("2026-03-01T01:00:00Z".parse().unwrap())
    );
    assert_eq!(
        schedule.next_run_at,
        "2026-03-01T01:01:00Z".parse::<DateTime<Utc>>().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_schedulers_enqueue_one_job_a_tick_on_sqlite() {
    racing_schedulers_enqueue_one_job_a_tick(sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_schedulers_enqueue_one_job_a_tick_on_postgres() {
    racing_schedulers_enqueue_one_job_a_tick(postgres()).await;
}

/// A worker down for ten ticks catches up once (`latest`), or not at all (`none`).
async fn missed_ticks_catch_up_once(database: fn() -> Option<Database>) {
    for (catch_up, expected) in [(CatchUp::Latest, 2), (CatchUp::None, 1)] {
        let Some(database) = database() else { return };
        let registry = registry(&database.url()).await;
        let store = registry.store().clone();
        let clock = Arc::new(ManualClock::new(start()));
        let scheduler = Scheduler::new(registry, minutely(catch_up), clock.clone());
        scheduler.sync_file().await.unwrap();
        clock.advance(Age::minutes(1));
        assert_eq!(scheduler.step().await.unwrap(), 1, "the tick on time");
        clock.advance(Age::minutes(10) + Age::seconds(20));
        let caught_up = scheduler.step().await.unwrap();
        assert_eq!(caught_up, expected - 1, "{catch_up:?}");
        assert_eq!(scheduler.step().await.unwrap(), 0, "nothing twice");
        assert_eq!(jobs(&store).await, expected as usize, "{catch_up:?}");
        let schedule = &store.schedule_list(Some("default")).await.unwrap()[0];
        assert_eq!(
            schedule.next_run_at,
            "2026-03-01T00:12:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_ticks_catch_up_once_on_sqlite() {
    missed_ticks_catch_up_once(sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_ticks_catch_up_once_on_postgres() {
    missed_ticks_catch_up_once(postgres).await;
}

/// The pruner deletes finished jobs past their ages and READY jobs past the stale
/// age, in batches, and keeps the rest.
async fn the_pruner_deletes_by_age_in_batches(database: Option<Database>) {
    let Some(database) = database else { return };
    let url = database.url();
    let registry = registry(&url).await;
    let store = registry.store().clone();
    let services =
        wasmtasks::service::Services::new(registry.clone(), Arc::new(Settings::default()));
    let principal = wasmtasks::tenant::Principal::operator("default");
    let request = || {
        wasmtasks::enqueue::EnqueueRequest::new(
            "arith.add",
            wasmtasks::task::Arguments::from_values(
                serde_json::json!([1, 2]),
                serde_json::json!({}),
            )
            .unwrap(),
        )
    };
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            services
                .jobs()
                .enqueue(&principal, request())
                .await
                .unwrap()
                .result
                .id,
        );
    }
    for id in &ids[..3] {
        services.jobs().cancel(&principal, id).await.unwrap();
    }
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let config = PrunerConfig {
        finished_age: std::time::Duration::from_secs(86_400),
        failed_age: std::time::Duration::from_secs(86_400),
        stale_age: std::time::Duration::from_secs(7 * 86_400),
        batch_size: 2,
        interval: std::time::Duration::from_secs(3600),
    };
    let pruner = Pruner::new(store.clone(), clock.clone(), config);
    let now = pruner.step().await.unwrap();
    assert_eq!((now.cancelled, now.stale), (0, 0), "nothing is old yet");
    clock.advance(Age::days(2));
    let first = pruner.step().await.unwrap();
    assert_eq!((first.cancelled, first.stale), (2, 0), "a batch of two");
    let rest = pruner.run_once(&Default::default()).await.unwrap();
    assert_eq!((rest.cancelled, rest.stale), (1, 0));
    assert_eq!(
        jobs(&store).await,
        2,
        "the READY jobs stay until they are stale"
    );
    clock.advance(Age::days(7));
    let stale = pruner.run_once(&Default::default()).await.unwrap();
    assert_eq!(stale.stale, 2);
    assert_eq!(jobs(&store).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pruner_deletes_by_age_in_batches_on_sqlite() {
    the_pruner_deletes_by_age_in_batches(sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pruner_deletes_by_age_in_batches_on_postgres() {
    the_pruner_deletes_by_age_in_batches(postgres()).await;
}
