//! PostgreSQL restarted under running workers: they log the lost connection, back
//! off, reconnect and carry on; no job is lost and none is finalised twice.
//!
//! A test binary of its own: cargo runs the tests of one binary in parallel but
//! binaries one after another, so no other test's database connections are cut.
//!
//! The restart is `WASMTASKS_TEST_POSTGRES_RESTART` (a shell command) or, when the
//! test server is on this machine and it is a Debian-style installation with one
//! cluster, `pg_ctlcluster <version> main restart`. Without either (or without a server) the test is skipped with a
//! message, unless `CI=true`, where that fails it. The server is left running.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmtasks::sqlx::{self, PgPool};
use wasmtasks_tests::postgres::TestDatabase;
use wasmtasks_tests::{Workspace, example};

const JOBS: i64 = 6_000;

/// The shell command that restarts the test server, if one is known.
fn restart_command() -> Option<String> {
    if let Ok(command) = std::env::var("WASMTASKS_TEST_POSTGRES_RESTART") {
        return Some(command);
    }
    let server = wasmtasks_tests::postgres::server_url();
    if !["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|local| server.contains(local))
    {
        return None;
    }
    let versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|version| {
            Path::new("/etc/postgresql")
                .join(version)
                .join("main")
                .is_dir()
        })
        .collect();
    match versions.as_slice() {
        [version] => Some(format!("pg_ctlcluster {version} main restart")),
        _ => None,
    }
}

fn shell(command: &str) -> bool {
    Command::new("sh")
        .args(["-c", command])
        .status()
        .is_ok_and(|status| status.success())
}

/// Leaves the server running, however the test ends.
struct ServerRunning(String);

impl Drop for ServerRunning {
    fn drop(&mut self) {
        let command = self.0.replace(" restart", " start");
        if !shell("pg_isready -q -h 127.0.0.1") && command != self.0 {
            shell(&command);
        }
    }
}

fn worker(workspace: &Workspace, id: &str) -> Child {
    workspace
        .command()
        .args(["worker", "--concurrency", "16", "--lease", "2s"])
        .args(["--interval", "200ms", "--worker-id", id])
        // Warnings only (the lost connection): nothing reads stderr until the end.
        .env("WASMTASKS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the worker starts")
}

/// Counts per status and attempt outcome, retrying while the server is away.
async fn tally(url: &str) -> Option<(i64, i64, i64, Vec<(String, i64)>)> {
    let pool = PgPool::connect(url).await.ok()?;
    let jobs: (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'SUCCESSFUL'), count(*) FILTER (WHERE status = 'FAILED')
         FROM tasks",
    )
    .fetch_one(&pool)
    .await
    .ok()?;
    let doubles: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT task_id FROM task_attempts WHERE status = 'SUCCESSFUL'
         GROUP BY task_id HAVING count(*) > 1) AS twice",
    )
    .fetch_one(&pool)
    .await
    .ok()?;
    let failures: Vec<(String, i64)> = sqlx::query_as(
        "SELECT exception_class_path, count(*) FROM task_attempts WHERE status = 'FAILED'
         GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .ok()?;
    pool.close().await;
    Some((jobs.0, jobs.1, doubles, failures))
}

#[test]
fn workers_ride_out_a_postgres_restart() {
    let Some(restart) = restart_command() else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI=true needs a way to restart PostgreSQL: set WASMTASKS_TEST_POSTGRES_RESTART"
        );
        eprintln!(
            "skipped: no way to restart PostgreSQL; set WASMTASKS_TEST_POSTGRES_RESTART to a command that does"
        );
        return;
    };
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let _running = ServerRunning(restart.clone());
    let workspace = Workspace::with_database(database.url());
    let upload = workspace.run(&["upload", example("hostile").to_str().unwrap()]);
    assert_eq!(upload.code, 0, "{}", upload.stderr);
    let lines: String = (0..JOBS)
        .map(|_| {
            let job = json!({"task_path": "hostile.sleep_ms", "args": [20], "max_attempts": 5, "backoff_factor": 0.1});
            format!("{job}\n")
        })
        .collect();
    let file = workspace.write("jobs.jsonl", lines.as_bytes());
    let enqueue = workspace.run(&["enqueue", "--file", file.to_str().unwrap()]);
    assert_eq!(enqueue.code, 0, "{}", enqueue.stderr);

    let workers = [worker(&workspace, "one"), worker(&workspace, "two")];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    loop {
        let done = runtime.block_on(tally(database.url())).map_or(0, |t| t.0);
        if done >= JOBS / 4 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the workers did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let restarting = Instant::now();
    assert!(shell(&restart), "`{restart}` failed");
    eprintln!("PostgreSQL restarted in {:?}", restarting.elapsed());

    let started = Instant::now();
    let (successful, failed, doubles, failures) = loop {
        if let Some(tally) = runtime.block_on(tally(database.url()))
            && tally.0 + tally.1 == JOBS
        {
            break tally;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the workers did not finish after the restart"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut logs = Vec::new();
    for child in workers {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        logs.push(stderr);
    }
    let logs = logs.join("\n");
    let warnings: Vec<&str> = logs.lines().filter(|line| line.contains("WARN")).collect();
    eprintln!(
        "{} warnings, e.g.:\n{}\nre-run attempts: {failures:?}",
        warnings.len(),
        warnings
            .iter()
            .take(4)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!((successful, failed), (JOBS, 0), "no job lost or failed");
    assert_eq!(doubles, 0, "no job finalised twice");
    for (class, _) in &failures {
        assert_eq!(
            class, "wasmtasks.WorkerLost",
            "only attempts cut off by the restart failed"
        );
    }
    assert!(
        !warnings.is_empty(),
        "the workers logged the lost connection:\n{logs}"
    );
    let reports: Vec<Value> = logs
        .lines()
        .filter_map(|line| line.split_once(" stopped: "))
        .map(|(_, report)| serde_json::from_str(report).unwrap())
        .collect();
    assert_eq!(reports.len(), 2, "{logs}");
}
