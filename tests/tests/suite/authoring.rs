//! A task author's first afternoon: `wasmtasks new` makes a crate, outside this
//! repository, that builds, uploads and runs on the first try; `wasmtasks dev`
//! rebuilds and uploads it on every change, and keeps the version before running
//! when a build fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use wasmtasks_tests::Workspace;

use crate::queue_support::{enqueue, finish, spawn_worker};

/// The guest SDK of this checkout.
fn sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk")
}

/// A target directory whose dependencies the examples' build compiled already.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm-guests")
}

/// `wasmtasks new NAME` in `workspace`; the crate's directory. Tests name their
/// crates apart: they share a target directory.
fn new_crate(workspace: &Workspace, name: &str) -> PathBuf {
    let dir = workspace.path().join(name);
    let run = workspace.run(&[
        "new",
        name,
        "--path",
        dir.to_str().unwrap(),
        "--sdk",
        sdk().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

/// The result of `id` once finished (`result --wait`).
fn returned(workspace: &Workspace, id: &str) -> serde_json::Value {
    let run = workspace.run(&["result", id, "--wait", "60s", "--output", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    run.json()["return_value"].clone()
}

#[test]
fn a_new_crate_builds_uploads_and_runs_on_the_first_try() {
    let workspace = Workspace::new();
    let dir = new_crate(&workspace, "slugs");
    assert!(!dir.starts_with(env!("CARGO_MANIFEST_DIR")));
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for command in ["wasmtasks build", "wasmtasks upload", "wasmtasks enqueue"] {
        assert!(readme.contains(command), "{readme}");
    }
    let again = workspace.run(&["new", "slugs", "--path", dir.to_str().unwrap()]);
    assert_eq!(again.code, 2, "an existing crate is never overwritten");

    // A relative target directory is the caller's, not the crate's.
    let target = shared_target().canonicalize().unwrap();
    let relative: PathBuf = workspace
        .path()
        .components()
        .skip(1)
        .map(|_| Path::new(".."))
        .collect::<PathBuf>()
        .join(target.strip_prefix("/").unwrap());
    let build = workspace.run(&[
        "build",
        dir.to_str().unwrap(),
        "--target-dir",
        relative.to_str().unwrap(),
    ]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let wasm = target.join("wasm32-wasip2/release/slugs.wasm");
    let printed: Vec<PathBuf> = build
        .stdout
        .lines()
        .map(|line| Path::new(line).canonicalize().unwrap())
        .collect();
    assert!(printed.contains(&wasm), "{}", build.stdout);
    assert!(
        !dir.join(&relative).exists(),
        "nothing built under the crate"
    );
    let inspect = workspace.run(&["inspect", wasm.to_str().unwrap()]);
    assert!(
        inspect
            .stdout
            .contains("slugs.slugify(title: str, separator: str | None = None) -> str"),
        "{}",
        inspect.stdout
    );
    let upload = workspace.run(&["upload", wasm.to_str().unwrap()]);
    assert!(
        upload.stdout.starts_with("uploaded slugs version 1"),
        "{}",
        upload.stdout
    );
    let id = enqueue(&workspace, &["slugs.slugify", "Hello, World!"]);
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    assert_eq!(returned(&workspace, &id), "hello-world");

    // Its unit test passes natively.
    let test = std::process::Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "{}",
        String::from_utf8_lossy(&test.stderr)
    );
}

/// Lines a background process writes to stderr, as they come.
fn lines(stderr: std::process::ChildStderr) -> Receiver<String> {
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Waits for a line containing `text`; every line seen is kept in `log`.
fn wait_for(lines: &Receiver<String>, text: &str, log: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            let found = line.contains(text);
            log.push(line);
            if found {
                return;
            }
        }
    }
    panic!("`{text}` never came:\n{}", log.join("\n"));
}

#[test]
fn dev_rebuilds_and_uploads_each_change_and_keeps_the_last_good_version() {
    let workspace = Workspace::new();
    // The crate is the workspace itself: the queue's database and the compile cache
    // are written inside it while dev watches, and must not count as edits.
    let dir = workspace.path().to_owned();
    let run = workspace.run(&[
        "new",
        "dev-slugs",
        "--path",
        dir.to_str().unwrap(),
        "--sdk",
        sdk().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut dev = workspace
        .command()
        .args([
            "dev",
            dir.to_str().unwrap(),
            "--interval",
            "100ms",
            "--target-dir",
        ])
        .arg(shared_target())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = lines(dev.stderr.take().unwrap());
    let mut log = Vec::new();
    // The crate `dev-slugs` makes the component `dev_slugs`, as its error classes say.
    wait_for(&output, "uploaded dev_slugs version 1", &mut log);
    let id = enqueue(&workspace, &["dev_slugs.slugify", "A B"]);
    assert_eq!(returned(&workspace, &id), "a-b");

    let source = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&source).unwrap();
    std::fs::write(
        &source,
        text.replace("\"-\".to_owned()", "\"+\".to_owned()"),
    )
    .unwrap();
    wait_for(&output, "uploaded dev_slugs version 2", &mut log);
    wait_for(&output, "the new version runs", &mut log);
    let id = enqueue(&workspace, &["dev_slugs.slugify", "A B"]);
    assert_eq!(returned(&workspace, &id), "a+b");

    std::fs::write(&source, "this is not Rust").unwrap();
    wait_for(&output, "the version before keeps running", &mut log);
    let id = enqueue(&workspace, &["dev_slugs.slugify", "A B"]);
    assert_eq!(returned(&workspace, &id), "a+b", "version 2 still runs");

    // Time for a rebuild the job's writes would set off (there must be none).
    std::thread::sleep(Duration::from_secs(1));
    crate::queue_support::signal(&dev, "TERM");
    let status = dev.wait().unwrap();
    log.extend(output.try_iter());
    assert!(status.success(), "{status}:\n{}", log.join("\n"));
    let builds = log
        .iter()
        .filter(|line| {
            line.contains("dev: built in") || line.contains("the version before keeps running")
        })
        .count();
    assert_eq!(
        builds,
        3,
        "one build per edit, none for the queue's own writes:\n{}",
        log.join("\n")
    );
}
