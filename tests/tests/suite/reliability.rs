//! An unlucky operator's day: the SQLite disk fills under a running worker. No job
//! is lost or recorded wrongly, the worker claims no more than it can record, and
//! it recovers once there is room — or, when there is none for a whole lease, it
//! says so and exits non-zero.
//!
//! The database lives on a tmpfs of its own, shrunk to full and grown again, which
//! needs root (as CI runs); elsewhere these tests say so and pass only when `CI`
//! is unset.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmtasks_tests::{Run, Workspace};

use crate::queue_support::{
    counts, enqueue_file, finish, signal, spawn_worker, uploaded, worker_report,
};

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a 64 MiB tmpfs, or says why it cannot (then a test under CI fails).
    fn mount() -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64m", "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = format!("cannot mount a tmpfs (needs root): {other:?}");
                assert!(std::env::var_os("CI").is_none(), "{why}");
                eprintln!("skipped: {why}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Resizes it to `kib` KiB.
    fn resize(&self, kib: u64) {
        assert!(self.try_resize(kib), "remount to {kib} KiB");
    }

    /// Resizes it to `kib` KiB; false when the kernel refuses, as it does below
    /// what the tmpfs holds.
    fn try_resize(&self, kib: u64) -> bool {
        Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(self.path())
            .status()
            .unwrap()
            .success()
    }

    /// KiB in use.
    fn used_kib(&self) -> u64 {
        let output = Command::new("df")
            .args(["--output=used,avail", "-k"])
            .arg(self.path())
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let numbers: Vec<u64> = text
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        numbers[0]
    }

    /// Shrinks it to what it holds: the next write that needs a block fails. The
    /// worker writes between reading the use and the remount, so a refused
    /// remount reads the use again.
    fn fill(&self) {
        for _ in 0..50 {
            if self.try_resize(self.used_kib() + 4) {
                return;
            }
        }
        panic!("the tmpfs kept growing past every remount");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

/// A workspace whose SQLite file is on `disk`, with `arith` uploaded and `n`
/// `arith.add` jobs of `max_attempts` enqueued.
fn queue_on(disk: &Tmpfs, n: u64, max_attempts: u32) -> (Workspace, Vec<String>) {
    let file: PathBuf = disk.path().join("queue.sqlite3");
    let workspace = uploaded(
        Workspace::with_database(&format!("sqlite://{}", file.display())),
        &["arith"],
    );
    let lines: Vec<Value> = (0..n)
        .map(|i| json!({"task_path": "arith.add", "args": [i, 1], "max_attempts": max_attempts}))
        .collect();
    let ids = enqueue_file(&workspace, &lines);
    (workspace, ids)
}

/// Waits for a worker to exit, killing it (and failing) after `timeout`.
fn finish_within(mut worker: Child, timeout: Duration) -> Run {
    let started = Instant::now();
    while worker.try_wait().unwrap().is_none() {
        if started.elapsed() > timeout {
            worker.kill().unwrap();
            let run = finish(worker);
            panic!("the worker still ran after {timeout:?}: {}", run.stderr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    finish(worker)
}

fn count(workspace: &Workspace, status: &str) -> u64 {
    counts(workspace)["default"][status].as_u64().unwrap_or(0)
}

/// Waits until no job has finished for a second: the worker is stuck on the disk.
fn wait_stalled(workspace: &Workspace) -> u64 {
    let mut last = count(workspace, "SUCCESSFUL");
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = count(workspace, "SUCCESSFUL");
        if now == last {
            return now;
        }
        last = now;
    }
}

#[test]
fn a_full_disk_holds_claims_back_and_every_job_ends_true_once_there_is_room() {
    let Some(disk) = Tmpfs::mount() else { return };
    let (workspace, _) = queue_on(&disk, 3000, 1);
    let worker = spawn_worker(&workspace, &["--concurrency", "4", "--lease", "120s"]);
    while count(&workspace, "SUCCESSFUL") < 100 {
        std::thread::sleep(Duration::from_millis(20));
    }
    disk.fill();
    let done = wait_stalled(&workspace);
    assert!(done < 3000, "the disk never filled");
    // Claims are held back while finished attempts cannot be written: never more
    // running than the slots plus one completion batch (512).
    std::thread::sleep(Duration::from_secs(2));
    let running = count(&workspace, "RUNNING");
    assert!(running <= 4 + 512, "{running} RUNNING on a full disk");
    disk.resize(64 << 10);
    let started = Instant::now();
    while count(&workspace, "SUCCESSFUL") < 3000 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "stuck after the disk grew: {}",
            counts(&workspace)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(&worker, "TERM");
    let run = finish(worker);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("disk is full"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("transaction depth"),
        "the writer stayed wedged: {}",
        run.stderr
    );
    let finished = counts(&workspace)["default"].clone();
    assert_eq!(finished["SUCCESSFUL"], 3000, "{finished}");
    // Each ran once: nothing was rescued and run again.
    let report = worker_report(&run);
    assert_eq!(report["completions"]["successful"], 3000, "{report}");
    assert_eq!(report["claimed"], 3000, "{report}");
}

#[test]
fn a_worker_that_cannot_record_for_a_lease_exits_non_zero_and_loses_nothing() {
    let Some(disk) = Tmpfs::mount() else { return };
    // The jobs it could not record are run again: they may take a second attempt.
    let (workspace, ids) = queue_on(&disk, 3000, 2);
    let worker = spawn_worker(&workspace, &["--concurrency", "4", "--lease", "2s"]);
    while count(&workspace, "SUCCESSFUL") < 100 {
        std::thread::sleep(Duration::from_millis(20));
    }
    disk.fill();
    let started = Instant::now();
    let run = finish_within(worker, Duration::from_secs(30));
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot record finished attempts"),
        "{}",
        run.stderr
    );
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "gave up before its lease"
    );
    // With room again, a worker rescues the unrecorded jobs and runs them. Not a
    // `--batch` one: a rescued job's retry waits out its backoff, and a batch
    // worker stops once nothing is ready, which on a fast machine is before then.
    disk.resize(64 << 10);
    std::thread::sleep(Duration::from_secs(2));
    let rescuer = spawn_worker(&workspace, &["--concurrency", "4", "--interval", "100ms"]);
    let started = Instant::now();
    while count(&workspace, "SUCCESSFUL") < ids.len() as u64
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(&rescuer, "TERM");
    let drain = finish(rescuer);
    assert_eq!(drain.code, 0, "{}", drain.stderr);
    let finished = counts(&workspace)["default"].clone();
    assert_eq!(
        finished["SUCCESSFUL"],
        ids.len() as u64,
        "{finished}\n{}",
        drain.stderr
    );
    assert_eq!(finished["RUNNING"], 0, "{finished}");
}

#[test]
fn a_worker_stuck_on_a_full_disk_still_stops_at_a_signal() {
    let Some(disk) = Tmpfs::mount() else { return };
    let (workspace, _) = queue_on(&disk, 3000, 1);
    let worker = spawn_worker(
        &workspace,
        &[
            "--concurrency",
            "4",
            "--lease",
            "120s",
            "--grace-period",
            "1s",
        ],
    );
    while count(&workspace, "SUCCESSFUL") < 100 {
        std::thread::sleep(Duration::from_millis(20));
    }
    disk.fill();
    wait_stalled(&workspace);
    signal(&worker, "TERM");
    // Within the grace period and a retry, not the 120 s lease.
    let run = finish_within(worker, Duration::from_secs(15));
    assert!(run.stderr.contains("stopping"), "{}", run.stderr);
}

#[test]
fn a_batch_worker_on_a_corrupt_database_exits_non_zero_with_its_message() {
    let workspace = uploaded(Workspace::new(), &["arith"]);
    let lines: Vec<Value> = (0..2000)
        .map(|i| json!({"task_path": "arith.add", "args": [i, 1]}))
        .collect();
    enqueue_file(&workspace, &lines);
    // Fold the WAL into the file, then overwrite pages in its middle.
    let file = workspace.path().join("wasmtasks.sqlite3");
    checkpoint(&file);
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2 / 4096 * 4096;
    bytes[middle..middle + 4 * 4096].fill(0xA5);
    std::fs::write(&file, bytes).unwrap();
    let worker = spawn_worker(&workspace, &["--batch", "--concurrency", "4"]);
    let run = finish_within(worker, Duration::from_secs(60));
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("malformed"), "{}", run.stderr);
}

/// Folds the WAL of the SQLite file at `path` into it.
fn checkpoint(path: &Path) {
    use wasmtasks::sqlx::{self, Connection};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}", path.display());
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut connection)
            .await
            .unwrap();
        connection.close().await.unwrap();
    });
}
