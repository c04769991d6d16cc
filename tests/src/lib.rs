//! Helpers for the end-to-end tests: where the example components and the
//! `wasmtasks` binary are, and a way to run the binary as a user would, each test
//! in its own temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The compiled example component `name` (`arith`, `welcome`, `flaky`, `hostile`).
pub fn example(name: &str) -> PathBuf {
    let path = Path::new(env!("WASMTASKS_EXAMPLES_DIR")).join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "example {name} was not built at {}",
        path.display()
    );
    path
}

/// The `wasmtasks` binary of this build. It is built with the workspace, so run the
/// tests with `cargo test --workspace`.
pub fn wasmtasks_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let bin = profile_dir.join(format!("wasmtasks{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds it",
        bin.display()
    );
    bin
}

/// A temporary directory of one test, with the `wasmtasks` binary pointed at it.
pub struct Workspace {
    dir: tempfile::TempDir,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Standard output parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Workspace {
    /// A fresh, empty directory.
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The compile cache this workspace's runs use.
    pub fn cache_dir(&self) -> PathBuf {
        self.path().join("cache")
    }

    /// A `wasmtasks` command running in this directory, with its own cache.
    pub fn command(&self) -> Command {
        let mut command = Command::new(wasmtasks_bin());
        command
            .current_dir(self.path())
            .env("WASMTASKS_CACHE_DIR", self.cache_dir())
            .env_remove("RUST_LOG");
        command
    }

    /// Runs `wasmtasks ARGS…` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        self.command()
            .args(args)
            .output()
            .expect("the binary runs")
            .into()
    }

    /// Writes `bytes` to a file in this directory and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, bytes).expect("write a test file");
        path
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace::new()
    }
}
