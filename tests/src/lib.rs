//! Helpers for the end-to-end tests: where the example components and the
//! `wasmtasks` binary are, and a way to run the binary as a user would, each test
//! in its own temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub mod postgres;
pub mod server;

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
    /// The database its runs use, when not the SQLite file in the directory.
    database: Option<String>,
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

/// One entry of a TaskResult's `errors`, as the CLI prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `exception_class_path`, e.g. `wasmtasks.OutOfFuel`.
    pub class: String,
    /// The traceback, which starts with `<class>: <message>`.
    pub traceback: String,
}

impl Failure {
    /// The one-line message: the traceback's first line after `<class>: `.
    pub fn message(&self) -> &str {
        let first = self.traceback.lines().next().unwrap_or_default();
        first
            .strip_prefix(&self.class)
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(first)
    }
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} instead of {code}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// The return value of a run that exited 0 with a SUCCESSFUL TaskResult.
    #[track_caller]
    pub fn returned(&self) -> Value {
        self.expect_code(0);
        let result = self.json();
        assert_eq!(result["status"], "SUCCESSFUL", "{result:#}");
        assert_eq!(result["errors"], Value::Array(Vec::new()), "{result:#}");
        result["return_value"].clone()
    }

    /// The single error of a run that exited 1 with a FAILED TaskResult.
    #[track_caller]
    pub fn failure(&self) -> Failure {
        self.expect_code(1);
        let result = self.json();
        assert_eq!(result["status"], "FAILED", "{result:#}");
        assert_eq!(result["return_value"], Value::Null, "{result:#}");
        let errors = result["errors"].as_array().expect("errors is an array");
        assert_eq!(errors.len(), 1, "{result:#}");
        Failure {
            class: errors[0]["exception_class_path"]
                .as_str()
                .expect("exception_class_path is a string")
                .to_owned(),
            traceback: errors[0]["traceback"]
                .as_str()
                .expect("traceback is a string")
                .to_owned(),
        }
    }

    /// The one attempt in the TaskResult's `attempt_log`.
    #[track_caller]
    pub fn attempt(&self) -> Value {
        let result = self.json();
        let log = result["attempt_log"]
            .as_array()
            .expect("attempt_log is an array");
        assert_eq!(log.len(), 1, "{result:#}");
        log[0].clone()
    }

    /// A refusal: exit code 2, nothing on stdout, and the error on stderr.
    #[track_caller]
    pub fn refusal(&self) -> &str {
        self.expect_code(2);
        assert_eq!(self.stdout, "", "a refused run prints no TaskResult");
        assert!(
            self.stderr.starts_with("error: "),
            "stderr does not start with `error: `:\n{}",
            self.stderr
        );
        &self.stderr
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
            database: None,
        }
    }

    /// A fresh directory whose runs use the database at `url`.
    pub fn with_database(url: &str) -> Self {
        Workspace {
            database: Some(url.to_owned()),
            ..Workspace::new()
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
        match &self.database {
            Some(url) => command.env("WASMTASKS_DATABASE_URL", url),
            None => command.env_remove("WASMTASKS_DATABASE_URL"),
        };
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

    /// Runs `wasmtasks run <example component> <task> ARGS…`.
    pub fn task(&self, component: &str, task: &str, args: &[&str]) -> Run {
        let path = example(component);
        let mut all = vec!["run", path.to_str().expect("a UTF-8 path"), task];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// Runs `wasmtasks inspect --json <component>` and returns its report.
    #[track_caller]
    pub fn inspect(&self, component: &Path) -> Value {
        let run = self.run(&[
            "inspect",
            "--json",
            component.to_str().expect("a UTF-8 path"),
        ]);
        run.expect_code(0);
        run.json()
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
