//! Helpers for the queue tests: a workspace with the examples uploaded, background
//! workers, and reading results.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmtasks_tests::{Run, Workspace, example};

/// A workspace (own directory, own SQLite file) with `components` uploaded.
pub fn queue_with(components: &[&str]) -> Workspace {
    uploaded(Workspace::new(), components)
}

/// `workspace` with `components` uploaded.
pub fn uploaded(workspace: Workspace, components: &[&str]) -> Workspace {
    for name in components {
        let upload = workspace.run(&["upload", example(name).to_str().unwrap()]);
        assert_eq!(upload.code, 0, "upload {name}: {}", upload.stderr);
    }
    workspace
}

/// Enqueues and returns the new result's id.
pub fn enqueue(workspace: &Workspace, args: &[&str]) -> String {
    let run = workspace.run(&[&["enqueue"], args].concat());
    assert_eq!(run.code, 0, "enqueue {args:?}: {}", run.stderr);
    run.json()["id"].as_str().unwrap().to_owned()
}

/// The TaskResult of `id` as JSON (`result` exits 1 for a FAILED or CANCELLED job).
pub fn result(workspace: &Workspace, id: &str) -> Value {
    let run = workspace.run(&["result", id]);
    assert!(
        run.code == 0 || run.code == 1,
        "result {id}: {}",
        run.stderr
    );
    let result = run.json();
    let failed = ["FAILED", "CANCELLED"].contains(&result["status"].as_str().unwrap());
    assert_eq!(run.code, i32::from(failed), "{result}");
    result
}

/// Waits until `id` is finished; returns its TaskResult.
pub fn wait_finished(workspace: &Workspace, id: &str, timeout: Duration) -> Value {
    let started = Instant::now();
    loop {
        let result = result(workspace, id);
        if ["SUCCESSFUL", "FAILED", "CANCELLED"].contains(&result["status"].as_str().unwrap()) {
            return result;
        }
        assert!(
            started.elapsed() < timeout,
            "{id} still {} after {timeout:?}",
            result["status"]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Per-status counts of every queue (`{"default": {"READY": 2, …}}`), from
/// `wasmtasks queues --json`.
pub fn counts(workspace: &Workspace) -> Value {
    let run = workspace.run(&["queues", "--json"]);
    assert_eq!(run.code, 0, "queues: {}", run.stderr);
    let queues = run.json();
    let by_name = queues
        .as_array()
        .expect("queues --json is a list")
        .iter()
        .map(|queue| {
            (
                queue["queue_name"].as_str().unwrap().to_owned(),
                queue["counts"].clone(),
            )
        })
        .collect();
    Value::Object(by_name)
}

/// A worker process running in the background. Its per-attempt log lines are
/// turned off (`WASMTASKS_LOG=warn`): nothing reads its stderr until it exits, and
/// a full pipe would stop it.
pub fn spawn_worker(workspace: &Workspace, args: &[&str]) -> Child {
    workspace
        .command()
        .env("WASMTASKS_LOG", "warn")
        .arg("worker")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the worker starts")
}

/// The report a worker prints when it stops (`worker ID stopped: {…}`).
pub fn worker_report(run: &Run) -> Value {
    let report = run
        .stderr
        .lines()
        .find_map(|l| l.split_once(" stopped: "))
        .unwrap_or_else(|| panic!("no report:\n{}", run.stderr))
        .1;
    serde_json::from_str(report).unwrap()
}

/// Waits for a worker process to exit.
pub fn finish(child: Child) -> Run {
    child.wait_with_output().expect("the worker ends").into()
}

/// Sends SIGTERM (or another signal) to a process.
pub fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// The ids a bulk enqueue of `lines` (JSON lines) printed.
pub fn enqueue_file(workspace: &Workspace, lines: &[Value]) -> Vec<String> {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let file = workspace.write("jobs.jsonl", text.as_bytes());
    let run = workspace.run(&["enqueue", "--file", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "bulk enqueue: {}", run.stderr);
    run.stdout.lines().map(str::to_owned).collect()
}

/// Waits until `n` jobs of the default queue are SUCCESSFUL.
pub fn wait_successful(workspace: &Workspace, n: u64, timeout: Duration) {
    let started = Instant::now();
    while counts(workspace)["default"]["SUCCESSFUL"].as_u64() != Some(n) {
        assert!(
            started.elapsed() < timeout,
            "not all jobs finished: {}",
            counts(workspace)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts that every job of `ids` ended SUCCESSFUL exactly once and that each of
/// its failed attempts was one `worker` lost (`wasmtasks.WorkerLost`); returns how
/// many attempts were lost.
pub fn attempts_lost_by(workspace: &Workspace, ids: &[String], worker: &str) -> u64 {
    let mut lost = 0;
    for id in ids {
        let done = result(workspace, id);
        assert_eq!(done["status"], "SUCCESSFUL");
        let log = done["attempt_log"].as_array().unwrap();
        let successes = log.iter().filter(|a| a["status"] == "SUCCESSFUL").count();
        assert_eq!(successes, 1, "finalised exactly once: {done}");
        for attempt in log.iter().filter(|a| a["status"] == "FAILED") {
            assert_eq!(
                attempt["error"]["exception_class_path"],
                "wasmtasks.WorkerLost"
            );
            assert_eq!(attempt["worker_id"], worker);
            lost += 1;
        }
    }
    lost
}
