//! The queue from the command line: upload, enqueue and its validation, results,
//! cancel, prune, components, queues, configuration and database errors.

use serde_json::json;
use wasmtasks_tests::{Workspace, example};

use crate::queue_support::*;

#[test]
fn upload_stores_versions_and_says_when_nothing_changed() {
    let workspace = queue_with(&["arith"]);
    let again = workspace.run(&["upload", example("arith").to_str().unwrap()]);
    assert_eq!(again.code, 0);
    assert!(
        again.stdout.contains("these bytes already are version 1")
            && again.stdout.contains("nothing changed"),
        "{}",
        again.stdout
    );
    let renamed = workspace.run(&[
        "upload",
        example("welcome").to_str().unwrap(),
        "--name",
        "arith",
        "--json",
    ]);
    assert_eq!(renamed.json()["version"], 2);
    let list = workspace.run(&["components", "--json"]).json();
    let versions: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].clone(), v["version"].clone()))
        .collect();
    assert_eq!(
        versions,
        [(json!("arith"), json!(2)), (json!("arith"), json!(1))]
    );
}

#[test]
fn upload_refuses_what_is_not_a_task_component() {
    let workspace = Workspace::new();
    let junk = workspace.write("junk.wasm", b"not wasm at all");
    let run = workspace.run(&["upload", junk.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a WebAssembly file"),
        "{}",
        run.stderr
    );
    assert_eq!(workspace.run(&["components", "--json"]).json(), json!([]));
}

#[test]
fn enqueue_validates_like_django_and_stores_nothing_on_error() {
    let workspace = queue_with(&["arith", "welcome"]);
    let refusals: [(&[&str], &str); 12] = [
        (
            &["arith.add", "1", "2", "--priority", "101"],
            "priority 101 is outside -100..=100",
        ),
        (
            &["arith.add", "1", "2", "--queue", "nope"],
            "queue `nope` is not configured; configured queues: default",
        ),
        (
            &["arith.nope"],
            "component `arith` has no task `nope`; its tasks are: add, fib, sum",
        ),
        (&["missing.add"], "no component `missing` has been uploaded"),
        (&["arith"], "invalid task path `arith`"),
        (
            &["arith.add", "--kwargs", "{oops"],
            "--kwargs is not valid JSON",
        ),
        (
            &["arith.add", "--run-after", "tomorrow"],
            "`tomorrow` is neither an RFC 3339 time",
        ),
        (
            &["arith.add", "1", "2", "--max-attempts", "0"],
            "max_attempts must be 1..=10000, got 0",
        ),
        (
            &["arith.add", "1"],
            "add() missing 1 required argument: 'b'",
        ),
        (
            &["arith.add", "1", "2", "3"],
            "add() takes 2 positional arguments but 3 were given",
        ),
        (
            &["arith.add", "1", "--kwargs", r#"{"c": 2}"#],
            "add() got an unexpected keyword argument 'c'",
        ),
        (
            &["arith.add", "one", "2"],
            "argument 'a' of add(): \"one\" is not of type \"integer\"",
        ),
    ];
    for (args, message) in refusals {
        let run = workspace.run(&[&["enqueue"], args].concat());
        assert_eq!(run.code, 2, "{args:?} should be refused");
        assert!(
            run.stderr.contains(message),
            "{args:?}: expected `{message}` in:\n{}",
            run.stderr
        );
    }
    // welcome's declared queue, `emails`, is not configured here either.
    let run = workspace.run(&["enqueue", "welcome.welcome", "a@b", "A"]);
    assert!(
        run.stderr.contains("queue `emails` is not configured"),
        "{}",
        run.stderr
    );
    assert_eq!(
        counts(&workspace),
        json!({"default": {"READY": 0, "RUNNING": 0, "SUCCESSFUL": 0, "FAILED": 0, "CANCELLED": 0}})
    );
}

#[test]
fn enqueue_uses_task_defaults_and_overrides() {
    let workspace = queue_with(&["welcome"]);
    workspace.write(
        "wasmtasks.toml",
        b"[queues.default]\n[queues.emails]\nmax_attempts = 4\n",
    );
    let run = workspace.run(&["enqueue", "welcome.welcome", "a@b.c", "Ann"]);
    let declared = run.json();
    assert_eq!(
        (declared["priority"].clone(), declared["queue_name"].clone()),
        (json!(10), json!("emails"))
    );
    assert_eq!(declared["status"], "READY");
    assert_eq!(declared["backend"], "database");
    let overridden = workspace
        .run(&[
            "enqueue",
            "welcome.welcome",
            "--kwargs",
            r#"{"user_email": "x@y", "username": "X"}"#,
            "--priority",
            "-5",
            "--queue",
            "default",
            "--run-after",
            "2030-01-01T09:00:00Z",
        ])
        .json();
    assert_eq!(
        (
            overridden["priority"].clone(),
            overridden["queue_name"].clone()
        ),
        (json!(-5), json!("default"))
    );
    assert_eq!(overridden["run_after"], "2030-01-01T09:00:00Z");
    let stored = result(&workspace, overridden["id"].as_str().unwrap());
    assert_eq!(
        stored["kwargs"],
        json!({"user_email": "x@y", "username": "X"})
    );
    assert_eq!(stored["run_after"], "2030-01-01T09:00:00Z");
}

#[test]
fn pinned_task_paths_run_the_version_they_name() {
    let workspace = queue_with(&["arith"]);
    let digest = workspace.run(&["components", "--json"]).json()[0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    workspace.run(&[
        "upload",
        example("welcome").to_str().unwrap(),
        "--name",
        "arith",
    ]);
    let path = format!("arith@{}.add", &digest[..8]);
    let pinned = workspace.run(&["enqueue", &path, "1", "2"]).json();
    assert_eq!(pinned["component_digest"], digest);
    assert_eq!(pinned["task_path"], path);
    let newest = workspace.run(&["enqueue", "arith.add", "1"]);
    assert!(
        newest.stderr.contains("has no task `add`"),
        "the newest arith is welcome: {}",
        newest.stderr
    );
}

#[test]
fn bulk_enqueue_is_all_or_nothing() {
    let workspace = queue_with(&["arith"]);
    let lines: Vec<_> = (0..50)
        .map(|i| json!({"task_path": "arith.add", "args": [i, 1]}))
        .collect();
    assert_eq!(enqueue_file(&workspace, &lines).len(), 50);
    let mut broken = lines.clone();
    broken.push(json!({"task_path": "arith.add", "args": [1, 2], "priority": 500}));
    let text: String = broken.iter().map(|l| format!("{l}\n")).collect();
    let file = workspace.write("broken.jsonl", text.as_bytes());
    let run = workspace.run(&["enqueue", "--file", file.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("broken.jsonl line 51: priority 500 is outside"),
        "{}",
        run.stderr
    );
    let run = workspace.run(&[
        "enqueue",
        "--file",
        workspace
            .write("bad.jsonl", b"{\"task_path\": 1}\n")
            .to_str()
            .unwrap(),
    ]);
    assert!(run.stderr.contains("bad.jsonl line 1"), "{}", run.stderr);
    assert_eq!(counts(&workspace)["default"]["READY"], 50);
}

#[test]
fn cancel_withdraws_ready_jobs_only() {
    let workspace = queue_with(&["arith"]);
    let id = enqueue(&workspace, &["arith.add", "1", "2"]);
    let cancel = workspace.run(&["cancel", &id]);
    assert_eq!(
        (cancel.code, cancel.stdout.trim()),
        (0, format!("cancelled {id}").as_str())
    );
    assert_eq!(result(&workspace, &id)["status"], "CANCELLED");
    let again = workspace.run(&["cancel", &id]);
    assert_eq!(again.code, 2, "a refused request");
    assert!(
        again
            .stderr
            .contains("it is CANCELLED; only READY jobs can be cancelled"),
        "{}",
        again.stderr
    );
    let missing = workspace.run(&["cancel", "no-such-id"]);
    assert_eq!(missing.code, 2);
    let done = enqueue(&workspace, &["arith.add", "1", "2"]);
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    let refused = workspace.run(&["cancel", &done]);
    assert!(
        refused.stderr.contains("it is SUCCESSFUL"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        result(&workspace, &id)["status"],
        "CANCELLED",
        "the worker never ran the cancelled job"
    );
}

#[test]
fn prune_deletes_finished_results_and_keeps_the_rest() {
    let workspace = queue_with(&["arith"]);
    let done = enqueue(&workspace, &["arith.add", "1", "2"]);
    let failed = enqueue(&workspace, &["arith.fib", "30", "--fuel", "1000"]);
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    let waiting = enqueue(&workspace, &["arith.add", "3", "4"]);
    let kept = workspace.run(&["prune", "--min-age-days", "1"]);
    assert!(
        kept.stdout.contains("deleted 0 successful, 0 failed"),
        "{}",
        kept.stdout
    );
    let dry = workspace.run(&["prune", "--min-age-days", "0", "--dry-run"]);
    assert!(
        dry.stdout.contains("would delete 1 successful, 1 failed"),
        "{}",
        dry.stdout
    );
    let pruned = workspace.run(&["prune", "--min-age-days", "0"]);
    assert!(
        pruned
            .stdout
            .contains("deleted 1 successful, 1 failed, 0 cancelled"),
        "{}",
        pruned.stdout
    );
    assert_eq!(workspace.run(&["result", &done]).code, 2);
    assert_eq!(workspace.run(&["result", &failed]).code, 2);
    assert_eq!(result(&workspace, &waiting)["status"], "READY");
}

#[test]
fn a_unique_enqueue_shows_the_existing_job_instead_of_a_second_one() {
    let workspace = queue_with(&["arith"]);
    let first = enqueue(
        &workspace,
        &["arith.add", "1", "2", "--unique-key", "invoice-9"],
    );
    let again = workspace.run(&[
        "enqueue",
        "arith.add",
        "3",
        "4",
        "--unique-key",
        "invoice-9",
        "--output",
        "json",
    ]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["id"], first.as_str());
    assert!(again.stderr.contains("not enqueued"), "{}", again.stderr);
    // By arguments: other arguments are another job.
    let by_args = enqueue(
        &workspace,
        &[
            "arith.add",
            "1",
            "2",
            "--unique-key",
            "x",
            "--unique-by-args",
        ],
    );
    let other_args = enqueue(
        &workspace,
        &[
            "arith.add",
            "5",
            "6",
            "--unique-key",
            "x",
            "--unique-by-args",
        ],
    );
    assert_ne!(by_args, other_args);
    let bad = workspace.run(&["enqueue", "arith.add", "1", "2", "--unique-states", "READY"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("READY and RUNNING"), "{}", bad.stderr);
    let bad = workspace.run(&["enqueue", "arith.add", "1", "2", "--unique-states", "DONE"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("is not a status"), "{}", bad.stderr);
}

#[test]
fn a_paused_queue_keeps_its_jobs_ready_until_resumed_even_across_workers() {
    let workspace = queue_with(&["arith"]);
    let run = workspace.run(&["queue", "pause", "default"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "queue default: paused");
    let again = workspace.run(&["queue", "pause", "default"]);
    assert!(
        again.stdout.contains("(it already was)"),
        "{}",
        again.stdout
    );
    let id = enqueue(&workspace, &["arith.add", "1", "2"]);
    // A draining worker finds nothing to claim; the pause is stored, not in a worker.
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    assert_eq!(result(&workspace, &id)["status"], "READY");
    let queues = workspace.run(&["queues", "--json"]).json();
    let default = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue_name"] == "default")
        .unwrap()
        .clone();
    assert_eq!(default["paused"], true, "{default}");
    assert!(workspace.run(&["queues"]).stdout.contains("paused"));
    let run = workspace.run(&["queue", "resume", "default"]);
    assert_eq!(
        run.stdout.trim(),
        "queue default: running",
        "{}",
        run.stderr
    );
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    assert_eq!(result(&workspace, &id)["status"], "SUCCESSFUL");
    let bad = workspace.run(&["queue", "pause", "no such queue"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("invalid queue name"), "{}", bad.stderr);
}

#[test]
fn schedules_are_set_listed_paused_and_deleted_and_the_files_are_kept() {
    let workspace = queue_with(&["arith"]);
    workspace.write(
        "wasmtasks.toml",
        b"[schedules.from-file]\ncron = \"0 3 * * *\"\ntimezone = \"Europe/Paris\"\ntask = \"arith.add\"\nargs = [1, 2]\n",
    );
    let set = workspace.run(&[
        "schedule",
        "set",
        "hourly",
        "--cron",
        "0 * * * *",
        "--task",
        "arith.add",
        "3",
        "4",
    ]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(
        set.stdout.starts_with("schedule hourly: next run"),
        "{}",
        set.stdout
    );
    let listed = workspace.run(&["schedules", "--json"]).json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["from-file", "hourly"]);
    assert_eq!(listed[0]["source"], "file");
    assert_eq!(listed[1]["spec"]["args"], serde_json::json!([3, 4]));
    assert_eq!(listed[1]["upcoming"].as_array().unwrap().len(), 5);
    let table = workspace.run(&["schedules"]).stdout;
    assert!(
        table.contains("hourly") && table.contains("from the file"),
        "{table}"
    );
    assert_eq!(
        workspace
            .run(&["schedule", "pause", "hourly"])
            .stdout
            .trim(),
        "schedule hourly: paused"
    );
    assert_eq!(
        workspace.run(&["schedules", "--json"]).json()[1]["paused"],
        true
    );
    // The file's schedule is changed in the file only.
    let refused = workspace.run(&["schedule", "delete", "from-file"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("configuration file"),
        "{}",
        refused.stderr
    );
    // Bad definitions are named.
    let bad = workspace.run(&[
        "schedule",
        "set",
        "bad",
        "--cron",
        "61 * * * *",
        "--task",
        "arith.add",
    ]);
    assert!(
        bad.stderr.contains("invalid cron pattern `61 * * * *`"),
        "{}",
        bad.stderr
    );
    let bad = workspace.run(&[
        "schedule",
        "set",
        "bad",
        "--cron",
        "* * * * *",
        "--task",
        "arith.add",
        "1",
    ]);
    assert!(
        bad.stderr
            .contains("add() missing 1 required argument: 'b'"),
        "{}",
        bad.stderr
    );
    let bad = workspace.run(&[
        "schedule",
        "set",
        "bad",
        "--cron",
        "* * * * *",
        "--task",
        "arith.add",
        "--timezone",
        "Mars/Olympus",
    ]);
    assert!(bad.stderr.contains("unknown time zone"), "{}", bad.stderr);
    assert_eq!(workspace.run(&["schedule", "delete", "hourly"]).code, 0);
    let missing = workspace.run(&["schedule", "delete", "hourly"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
}

#[test]
fn three_worker_processes_racing_enqueue_one_job_a_tick() {
    let workspace = queue_with(&["arith"]);
    workspace.write(
        "wasmtasks.toml",
        b"[schedules.every-second]\ncron = \"* * * * * *\"\ntask = \"arith.add\"\nargs = [1, 2]\n",
    );
    let workers: Vec<_> = (0..3)
        .map(|_| spawn_worker(&workspace, &["--interval", "100ms"]))
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(4500));
    for worker in &workers {
        signal(worker, "TERM");
    }
    for worker in workers {
        assert_eq!(finish(worker).code, 0);
    }
    let jobs = workspace.run(&["jobs", "--json", "--limit", "1000"]).json();
    let jobs = jobs["jobs"].as_array().unwrap();
    // About 4.5 s of ticks: at most 6 jobs (three racing workers enqueueing each
    // tick would make three times that), at least 3.
    assert!(
        (3..=6).contains(&jobs.len()),
        "{} jobs: {jobs:?}",
        jobs.len()
    );
}

#[test]
fn result_wait_returns_when_finished_or_times_out() {
    let workspace = queue_with(&["arith"]);
    let id = enqueue(&workspace, &["arith.add", "20", "22"]);
    let pending = workspace.run(&["result", &id, "--wait", "200ms"]);
    assert_eq!(pending.code, 3, "still READY: {}", pending.stderr);
    let worker = spawn_worker(&workspace, &["--max-tasks", "1"]);
    let done = workspace.run(&["result", &id, "--wait", "30s"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(done.json()["return_value"], 42);
    assert_eq!(finish(worker).code, 0);
}

#[test]
fn a_closed_pipe_ends_a_listing_quietly_and_does_not_stop_a_worker_from_stopping() {
    use std::io::Read;
    use std::process::Stdio;
    let workspace = queue_with(&["arith"]);
    let ids: Vec<String> = (0..200)
        .map(|n| enqueue(&workspace, &["arith.add", &n.to_string(), "1"]))
        .collect();
    assert_eq!(ids.len(), 200);
    // `wasmtasks jobs --json | head -c 1`: the reader goes away after one byte.
    let mut listing = workspace
        .command()
        .args(["jobs", "--json", "--limit", "200"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    listing
        .stdout
        .take()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    let output = listing.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A worker whose stderr reader is gone still stops on SIGTERM.
    let mut worker = workspace
        .command()
        .args(["worker"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    drop(worker.stderr.take());
    let pid = worker.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = worker.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker is still running 20 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_broken_configuration_names_the_file_and_the_key() {
    let workspace = Workspace::new();
    workspace.write("wasmtasks.toml", b"[queues.emails]\nmax_attempts = 0\n");
    let run = workspace.run(&["queues"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("wasmtasks.toml: `queues.emails.max_attempts`: must be 1..=1000, got 0"),
        "{}",
        run.stderr
    );
    workspace.write("other.toml", b"[worker]\nconcurency = 3\n");
    let run = workspace.run(&["--config", "other.toml", "queues"]);
    assert!(
        run.stderr.contains("other.toml") && run.stderr.contains("unknown field `concurency`"),
        "{}",
        run.stderr
    );
    let run = workspace.run(&["--config", "missing.toml", "queues"]);
    assert!(
        run.stderr.contains("cannot read missing.toml"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_database_that_is_not_sqlite_or_is_read_only_is_a_clear_error() {
    let workspace = Workspace::new();
    workspace.write(
        "notes.sqlite3",
        b"these are my notes, not a database, please keep them intact",
    );
    let run = workspace.run(&["--database", "sqlite://notes.sqlite3", "queues"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not an SQLite database"),
        "{}",
        run.stderr
    );
    let notes = std::fs::read(workspace.path().join("notes.sqlite3")).unwrap();
    assert!(
        notes.starts_with(b"these are my notes"),
        "the file is left as it was"
    );

    // Tests run as root, which ignores file permissions: open the file read-only instead.
    let readonly = queue_with(&["arith"]);
    let url = "sqlite://wasmtasks.sqlite3?mode=ro";
    let upload = readonly.run(&[
        "--database",
        url,
        "upload",
        example("welcome").to_str().unwrap(),
    ]);
    assert_eq!(upload.code, 2);
    assert!(
        upload.stderr.contains("the database is read-only"),
        "{}",
        upload.stderr
    );
    assert_eq!(
        readonly
            .run(&["components", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing was half-written"
    );
    let run = readonly.run(&["--database", "sqlite:///no/such/dir/x.sqlite3", "queues"]);
    assert!(
        run.stderr.contains("check that the directory exists"),
        "{}",
        run.stderr
    );
}
