//! Workers as processes: order, run_after, retries, concurrency between workers
//! and with other writers, SIGKILL (rescue) and SIGTERM (graceful shutdown), and
//! guests that misbehave.

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::queue_support::*;

fn status_of(workspace: &wasmtasks_tests::Workspace, ids: &[String]) -> Vec<Value> {
    ids.iter().map(|id| result(workspace, id)).collect()
}

/// Enqueues `n` jobs of `hostile.sleep_ms` for `ms` each; their ids.
fn sleepers(workspace: &wasmtasks_tests::Workspace, n: usize, ms: u64) -> Vec<String> {
    let lines: Vec<Value> = (0..n)
        .map(|_| json!({"task_path": "hostile.sleep_ms", "args": [ms]}))
        .collect();
    enqueue_file(workspace, &lines)
}

/// A worker running two attempts at once and holding three more claimed jobs.
fn prefetching_worker(workspace: &wasmtasks_tests::Workspace, grace_period: &str) -> Child {
    let options = ["--concurrency", "2", "--prefetch", "3", "--grace-period"];
    spawn_worker(workspace, &[&options[..], &[grace_period]].concat())
}

/// Of `ids`, how many are SUCCESSFUL and how many READY with no attempt counted.
fn successful_and_untouched(
    workspace: &wasmtasks_tests::Workspace,
    ids: &[String],
) -> (usize, usize) {
    let results = status_of(workspace, ids);
    let successful = results
        .iter()
        .filter(|r| r["status"] == "SUCCESSFUL")
        .count();
    let untouched = results
        .iter()
        .filter(|r| r["status"] == "READY" && r["attempts"] == 0 && r["errors"] == json!([]))
        .count();
    (successful, untouched)
}

#[test]
fn runs_by_priority_and_respects_run_after() {
    let workspace = queue_with(&["arith"]);
    let low = enqueue(&workspace, &["arith.add", "1", "1", "--priority", "-5"]);
    let middle = enqueue(&workspace, &["arith.add", "2", "2"]);
    let high = enqueue(&workspace, &["arith.add", "3", "3", "--priority", "10"]);
    let later = enqueue(
        &workspace,
        &[
            "arith.add",
            "4",
            "4",
            "--priority",
            "100",
            "--run-after",
            "+1h",
        ],
    );
    let run = finish(spawn_worker(&workspace, &["--batch", "--concurrency", "1"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let started: Vec<String> = [&high, &middle, &low]
        .iter()
        .map(|id| {
            result(&workspace, id)["started_at"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = started.clone();
    sorted.sort();
    assert_eq!(started, sorted, "priority 10, then 0, then -5");
    assert_eq!(result(&workspace, &high)["return_value"], 6);
    let waiting = result(&workspace, &later);
    assert_eq!(
        (waiting["status"].clone(), waiting["attempts"].clone()),
        (json!("READY"), json!(0))
    );
}

#[test]
fn retries_with_backoff_until_the_task_succeeds() {
    let workspace = queue_with(&["flaky"]);
    let id = enqueue(
        &workspace,
        &["flaky.until_attempt", "3", "--backoff-factor", "0.2"],
    );
    let worker = spawn_worker(&workspace, &["--max-tasks", "3", "--interval", "50ms"]);
    let done = wait_finished(&workspace, &id, Duration::from_secs(30));
    assert_eq!(finish(worker).code, 0);
    assert_eq!(done["status"], "SUCCESSFUL");
    assert_eq!(done["return_value"], "succeeded on attempt 3");
    assert_eq!(done["attempts"], 3);
    let classes: Vec<&str> = done["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["exception_class_path"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["flaky.TransientError", "flaky.TransientError"]);
    assert_eq!(done["worker_ids"].as_array().unwrap().len(), 3);
    let log = done["attempt_log"].as_array().unwrap();
    assert_eq!(
        log.iter()
            .map(|a| a["attempt"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // Each retry waited for its backoff: attempt n+1 starts after attempt n ended.
    assert!(log[1]["started_at"].as_str() > log[0]["finished_at"].as_str());
}

#[test]
fn a_retry_waits_its_backoff_even_on_a_worker_whose_file_lacks_the_queue() {
    let workspace = queue_with(&["flaky"]);
    workspace.write(
        "wasmtasks.toml",
        b"[queues.default]\n[queues.slow]\nmax_attempts = 2\nbackoff_factor = 60\n",
    );
    let id = enqueue(&workspace, &["flaky.until_attempt", "2", "--queue", "slow"]);
    // Another host's worker, whose file does not name the queue: the retry policy
    // (and its cap, `max_backoff`) travel with the job.
    workspace.write("other.toml", b"[queues.default]\n");
    let first = finish(spawn_worker(
        &workspace,
        &["--config", "other.toml", "--batch"],
    ));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let after_one = result(&workspace, &id);
    assert_eq!(
        (after_one["status"].as_str(), after_one["attempts"].as_u64()),
        (Some("READY"), Some(1))
    );
    // The retry is a minute away: a draining worker finds nothing to run yet.
    let second = finish(spawn_worker(
        &workspace,
        &["--config", "other.toml", "--batch"],
    ));
    assert_eq!(second.code, 0, "{}", second.stderr);
    let still = result(&workspace, &id);
    assert_eq!(
        (still["status"].as_str(), still["attempts"].as_u64()),
        (Some("READY"), Some(1)),
        "{still}"
    );
}

#[test]
fn attempts_run_out_and_bad_arguments_are_never_retried() {
    let workspace = queue_with(&["flaky"]);
    let exhausted = enqueue(
        &workspace,
        &[
            "flaky.until_attempt",
            "10",
            "--max-attempts",
            "2",
            "--backoff-factor",
            "0.1",
        ],
    );
    // The schema of a `u32` has no maximum: enqueue accepts this, the guest's
    // binding refuses it, and such a refusal is never retried.
    let invalid = enqueue(
        &workspace,
        &["flaky.until_attempt", "99999999999", "--max-attempts", "5"],
    );
    let worker = spawn_worker(&workspace, &["--max-tasks", "3", "--interval", "50ms"]);
    let exhausted = wait_finished(&workspace, &exhausted, Duration::from_secs(30));
    let invalid = wait_finished(&workspace, &invalid, Duration::from_secs(30));
    assert_eq!(finish(worker).code, 0);
    assert_eq!(
        (exhausted["status"].clone(), exhausted["attempts"].clone()),
        (json!("FAILED"), json!(2))
    );
    assert_eq!(
        (invalid["status"].clone(), invalid["attempts"].clone()),
        (json!("FAILED"), json!(1))
    );
    let error = &invalid["errors"][0];
    assert_eq!(error["exception_class_path"], "wasmtasks.InvalidArguments");
    assert!(
        error["traceback"].as_str().unwrap().contains("'n'"),
        "{error}"
    );
}

#[test]
fn misbehaving_guests_fail_alone_and_the_worker_carries_on() {
    let workspace = queue_with(&["hostile", "arith"]);
    let cases = [
        (
            enqueue(&workspace, &["hostile.spin", "--timeout", "300ms"]),
            "wasmtasks.Timeout",
        ),
        (
            enqueue(&workspace, &["hostile.spin", "--fuel", "1000000"]),
            "wasmtasks.OutOfFuel",
        ),
        (
            enqueue(&workspace, &["hostile.memory_bomb", "--memory", "32MiB"]),
            "wasmtasks.MemoryLimit",
        ),
        (
            enqueue(&workspace, &["hostile.panic", "boom"]),
            "wasmtasks.Panic",
        ),
        (
            enqueue(&workspace, &["hostile.recurse", "100000000"]),
            "wasmtasks.StackOverflow",
        ),
        (
            enqueue(&workspace, &["hostile.read_file", "/etc/passwd"]),
            "hostile.Denied",
        ),
    ];
    let fine = enqueue(&workspace, &["arith.add", "1", "2"]);
    let run = finish(spawn_worker(&workspace, &["--batch", "--concurrency", "4"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (id, class) in &cases {
        let failed = result(&workspace, id);
        assert_eq!(failed["status"], "FAILED", "{class}");
        assert_eq!(failed["errors"][0]["exception_class_path"], *class);
    }
    assert_eq!(result(&workspace, &fine)["return_value"], 3);
}

#[test]
fn two_worker_processes_on_one_file_never_run_a_job_twice() {
    let workspace = queue_with(&["arith"]);
    let lines: Vec<Value> = (0..400)
        .map(|i| json!({"task_path": "arith.fib", "args": [12 + i % 8]}))
        .collect();
    let ids = enqueue_file(&workspace, &lines);
    let first = spawn_worker(
        &workspace,
        &["--batch", "--concurrency", "4", "--worker-id", "one"],
    );
    let second = spawn_worker(
        &workspace,
        &["--batch", "--concurrency", "4", "--worker-id", "two"],
    );
    let (first, second) = (finish(first), finish(second));
    assert_eq!(
        (first.code, second.code),
        (0, 0),
        "{}\n{}",
        first.stderr,
        second.stderr
    );
    let claimed = |run: &wasmtasks_tests::Run| worker_report(run)["claimed"].as_u64().unwrap();
    assert_eq!(
        claimed(&first) + claimed(&second),
        400,
        "each job claimed once in all"
    );
    for done in status_of(&workspace, &ids) {
        assert_eq!(done["status"], "SUCCESSFUL");
        assert_eq!(done["attempts"], 1, "{}", done["id"]);
        assert_eq!(done["attempt_log"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn a_killed_worker_loses_no_job() {
    let workspace = queue_with(&["hostile"]);
    let lines: Vec<Value> = (0..24)
        .map(|_| json!({"task_path": "hostile.sleep_ms", "args": [250], "max_attempts": 3, "backoff_factor": 0.1}))
        .collect();
    let ids = enqueue_file(&workspace, &lines);
    let mut doomed = spawn_worker(
        &workspace,
        &[
            "--concurrency",
            "8",
            "--lease",
            "1s",
            "--worker-id",
            "doomed",
        ],
    );
    std::thread::sleep(Duration::from_millis(700));
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let running = counts(&workspace)["default"]["RUNNING"].as_u64().unwrap();
    assert!(running > 0, "the kill caught attempts in flight");
    let rescuer = spawn_worker(
        &workspace,
        &[
            "--concurrency",
            "8",
            "--lease",
            "1s",
            "--interval",
            "100ms",
            "--worker-id",
            "rescuer",
        ],
    );
    wait_successful(&workspace, 24, Duration::from_secs(60));
    signal(&rescuer, "TERM");
    let report = finish(rescuer);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let lost = attempts_lost_by(&workspace, &ids, "doomed");
    assert_eq!(
        lost, running,
        "every attempt in flight at the kill was rescued once"
    );
}

#[test]
fn sigterm_lets_running_attempts_finish_and_claims_nothing_more() {
    let workspace = queue_with(&["hostile"]);
    let ids = sleepers(&workspace, 6, 1200);
    let worker = spawn_worker(&workspace, &["--concurrency", "2", "--grace-period", "30s"]);
    std::thread::sleep(Duration::from_millis(600));
    signal(&worker, "TERM");
    let run = finish(worker);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        successful_and_untouched(&workspace, &ids),
        (2, 4),
        "the two running finished; the rest were never claimed"
    );
}

#[test]
fn attempts_past_the_grace_period_go_back_to_ready() {
    let workspace = queue_with(&["hostile"]);
    let ids: Vec<String> = (0..2)
        .map(|_| {
            enqueue(
                &workspace,
                &["hostile.sleep_ms", "30000", "--timeout", "60s"],
            )
        })
        .collect();
    let worker = spawn_worker(
        &workspace,
        &["--concurrency", "2", "--grace-period", "300ms"],
    );
    std::thread::sleep(Duration::from_millis(700));
    let stopping = Instant::now();
    signal(&worker, "TERM");
    let run = finish(worker);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "stopped after the grace period"
    );
    assert!(run.stderr.contains("\"released\":2"), "{}", run.stderr);
    for interrupted in status_of(&workspace, &ids) {
        assert_eq!(interrupted["status"], "READY");
        assert_eq!(
            interrupted["attempts"], 0,
            "an interrupted attempt is not counted"
        );
        assert_eq!(interrupted["errors"], json!([]));
    }
}

#[test]
fn a_second_signal_interrupts_at_once() {
    let workspace = queue_with(&["hostile"]);
    let id = enqueue(
        &workspace,
        &["hostile.sleep_ms", "30000", "--timeout", "60s"],
    );
    let worker = spawn_worker(&workspace, &["--grace-period", "60s"]);
    std::thread::sleep(Duration::from_millis(700));
    let stopping = Instant::now();
    signal(&worker, "TERM");
    std::thread::sleep(Duration::from_millis(200));
    signal(&worker, "INT");
    let run = finish(worker);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "did not wait out the 60s grace"
    );
    assert_eq!(result(&workspace, &id)["status"], "READY");
}

/// SQLite's own busy handler looks for the write lock every 100 ms, and a process
/// that writes back to back (a worker draining a backlog) frees it for well under
/// a millisecond at a time: an enqueue from another process waited out the busy
/// timeout ("database is locked"). The store polls the lock instead, so the
/// enqueue gets its turn.
#[test]
fn an_enqueue_from_another_process_gets_its_turn_while_writes_go_back_to_back() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use sqlx::Connection;

    let workspace = queue_with(&["arith"]);
    let url = format!(
        "sqlite://{}",
        workspace.path().join("wasmtasks.sqlite3").display()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut connection = runtime
        .block_on(sqlx::SqliteConnection::connect(&url))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writing = Arc::clone(&stop);
    // Write transactions back to back, each holding the lock for 47 ms, as a
    // worker's claims and completions nearly do.
    let writer = runtime.spawn(async move {
        let mut writes = 0u64;
        while !writing.load(Ordering::Relaxed) {
            let mut tx = connection.begin_with("BEGIN IMMEDIATE").await.unwrap();
            sqlx::query("PRAGMA user_version = 7")
                .execute(&mut *tx)
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(47)).await;
            tx.commit().await.unwrap();
            writes += 1;
        }
        writes
    });
    std::thread::sleep(Duration::from_millis(200));
    let late: Vec<Value> = (0..1_000)
        .map(|i| json!({"task_path": "arith.add", "args": [i, 2]}))
        .collect();
    let ids = enqueue_file(&workspace, &late);
    stop.store(true, Ordering::Relaxed);
    let writes = runtime.block_on(writer).unwrap();
    assert_eq!(ids.len(), 1_000);
    assert!(
        writes >= 3,
        "the other writer was writing: {writes} transactions"
    );
}

/// When an attempt (an entry of a result's `attempt_log`) started and finished.
fn span(attempt: &Value) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let at = |field: &str| {
        attempt[field]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .unwrap_or_else(|| panic!("{field} of {attempt}"))
            .to_utc()
    };
    (at("started_at"), at("finished_at"))
}

#[test]
fn prefetched_jobs_wait_for_a_slot_so_no_more_than_concurrency_run_at_once() {
    let workspace = queue_with(&["hostile"]);
    let ids = sleepers(&workspace, 6, 300);
    let run = finish(spawn_worker(
        &workspace,
        &["--batch", "--concurrency", "2", "--prefetch", "4"],
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = worker_report(&run);
    assert_eq!(report["claimed"], 6, "{report}");
    assert_eq!(report["completions"]["successful"], 6, "{report}");
    let spans: Vec<_> = status_of(&workspace, &ids)
        .iter()
        .map(|done| span(&done["attempt_log"][0]))
        .collect();
    for (started, _) in &spans {
        let at_once = spans
            .iter()
            .filter(|(from, to)| from <= started && started < to)
            .count();
        assert!(at_once <= 2, "{at_once} attempts ran at once: {spans:?}");
    }
    let first = spans.iter().map(|s| s.0).min().unwrap();
    let last = spans.iter().map(|s| s.1).max().unwrap();
    assert!(
        last - first >= chrono::TimeDelta::milliseconds(900),
        "three waves of two: {spans:?}"
    );
}

#[test]
fn prefetched_jobs_are_claimed_and_go_back_to_ready_when_interrupted() {
    let workspace = queue_with(&["hostile"]);
    let ids = sleepers(&workspace, 6, 30_000);
    let worker = prefetching_worker(&workspace, "300ms");
    std::thread::sleep(Duration::from_millis(700));
    let queued = counts(&workspace)["default"].clone();
    assert_eq!(
        (queued["RUNNING"].as_u64(), queued["READY"].as_u64()),
        (Some(5), Some(1)),
        "two running and three waiting for a slot are claimed: {queued}"
    );
    signal(&worker, "TERM");
    let run = finish(worker);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("\"released\":5"), "{}", run.stderr);
    for job in status_of(&workspace, &ids) {
        assert_eq!(job["status"], "READY");
        assert_eq!(job["attempts"], 0, "{job}");
        assert_eq!(job["errors"], json!([]));
    }
}

#[test]
fn sigterm_puts_prefetched_jobs_back_at_once_and_lets_running_ones_finish() {
    let workspace = queue_with(&["hostile"]);
    let ids = sleepers(&workspace, 6, 1200);
    let worker = prefetching_worker(&workspace, "30s");
    std::thread::sleep(Duration::from_millis(600));
    let stopping = Instant::now();
    signal(&worker, "TERM");
    let run = finish(worker);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        stopping.elapsed() < Duration::from_millis(2000),
        "the waiting jobs ran in the grace period instead of going back: {:?}",
        stopping.elapsed()
    );
    assert!(run.stderr.contains("\"released\":3"), "{}", run.stderr);
    assert_eq!(
        successful_and_untouched(&workspace, &ids),
        (2, 4),
        "the two running finished; three waiting went back, one was never claimed"
    );
}
