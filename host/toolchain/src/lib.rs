//! Building task crates for `wasm32-wasip2`, from a build script or the
//! `wasmtasks` binary alike.
//!
//! rustup installs the targets `rust-toolchain.toml` lists only when it installs
//! the toolchain itself; on a machine where the pinned toolchain is already
//! present, nothing adds `wasm32-wasip2`, and the first guest build fails with
//! `can't find crate for core`. [`ensure_target`] looks for the target in the
//! sysroot of the `rustc` that will do the build and, when it is missing, runs
//! `rustup target add` for exactly that toolchain. When that is impossible (no
//! rustup, no network), the error is one line saying what to run.
//!
//! [`build`] then runs `cargo build --release --target wasm32-wasip2` on a crate
//! or workspace, with none of the outer build's settings leaking into it;
//! [`python`] builds Python task projects.

#![warn(missing_docs)]

pub mod python;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every task component is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// Why guests could not be built.
#[derive(Debug)]
pub enum ToolchainError {
    /// The target is missing and could not be installed.
    TargetMissing {
        /// What went wrong while trying.
        cause: String,
        /// The command that installs it.
        fix: String,
    },
    /// A command could not be started.
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        cause: std::io::Error,
    },
    /// The Python that builds a Python project cannot import the SDK's builder.
    PythonSdkMissing {
        /// That Python.
        python: String,
    },
    /// The target directory given cannot be made absolute (no working directory).
    TargetDir {
        /// The directory as given.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The build (`cargo build`, or the Python SDK's builder) failed; its output
    /// went to the inherited stderr.
    BuildFailed {
        /// The crate or workspace directory.
        dir: PathBuf,
    },
}

impl fmt::Display for ToolchainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolchainError::TargetMissing { cause, fix } => write!(
                f,
                "the {TARGET} target is not installed and could not be added ({cause}); install it with: {fix}"
            ),
            ToolchainError::Spawn { program, cause } => write!(f, "cannot run {program}: {cause}"),
            ToolchainError::PythonSdkMissing { python } => write!(
                f,
                "{python} cannot import wasmtasks_guest.build: install the Python guest SDK with its builder there ({}), or name another Python in WASMTASKS_PYTHON",
                python::SDK_INSTALL
            ),
            ToolchainError::TargetDir { path, cause } => write!(
                f,
                "cannot resolve the target directory {}: {cause}",
                path.display()
            ),
            ToolchainError::BuildFailed { dir } => write!(
                f,
                "building {} for {TARGET} failed (the build's messages are above)",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for ToolchainError {}

/// The environment variables of an outer cargo build (a build script's, or one
/// that runs `wasmtasks`) that must not reach the guests' build.
const OUTER_BUILD_VARS: &[&str] = &[
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "RUSTC",
    "RUSTDOC",
];

/// The `rustc` that a build started in `dir` uses: `$RUSTC` when a build script
/// runs us, else the `rustc` rustup picks for `dir` (its `rust-toolchain.toml`).
fn rustc(dir: &Path) -> Command {
    let program = std::env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let mut command = Command::new(program);
    command.current_dir(dir);
    command
}

/// The sysroot of the toolchain that builds in `dir`.
fn sysroot(dir: &Path) -> Result<PathBuf, ToolchainError> {
    let output = rustc(dir)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|cause| ToolchainError::Spawn {
            program: "rustc".into(),
            cause,
        })?;
    if !output.status.success() {
        return Err(ToolchainError::TargetMissing {
            cause: format!(
                "`rustc --print sysroot` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            fix: format!("rustup target add {TARGET}"),
        });
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    ))
}

/// Whether the toolchain with `sysroot` has the standard library for [`TARGET`].
fn has_target(sysroot: &Path) -> bool {
    sysroot
        .join("lib")
        .join("rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
}

/// Makes sure the toolchain that builds in `dir` has the [`TARGET`] standard
/// library, adding it with rustup if it does not. Returns whether it was added.
pub fn ensure_target(dir: &Path) -> Result<bool, ToolchainError> {
    let sysroot = sysroot(dir)?;
    if has_target(&sysroot) {
        return Ok(false);
    }
    // A rustup toolchain lives in `<rustup home>/toolchains/<name>`; name it
    // exactly, so the target goes to the toolchain that builds, whatever the
    // directory's override says.
    let toolchain = sysroot
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|_| sysroot.parent().and_then(Path::file_name) == Some("toolchains".as_ref()));
    let fix = match &toolchain {
        Some(name) => format!("rustup target add {TARGET} --toolchain {name}"),
        None => format!("rustup target add {TARGET}"),
    };
    let Some(toolchain) = toolchain else {
        return Err(ToolchainError::TargetMissing {
            cause: format!(
                "the toolchain at {} was not installed by rustup",
                sysroot.display()
            ),
            fix,
        });
    };
    eprintln!("wasmtasks: adding the {TARGET} target to the {toolchain} toolchain (once)");
    let mut add = Command::new("rustup");
    add.current_dir(dir)
        .args(["target", "add", TARGET, "--toolchain", &toolchain]);
    for var in OUTER_BUILD_VARS {
        add.env_remove(var);
    }
    let output = add
        .output()
        .map_err(|cause| ToolchainError::TargetMissing {
            cause: format!("cannot run rustup: {cause}"),
            fix: fix.clone(),
        })?;
    if !output.status.success() || !has_target(&sysroot) {
        return Err(ToolchainError::TargetMissing {
            cause: format!(
                "`rustup target add` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            fix,
        });
    }
    Ok(true)
}

/// Builds the crate or workspace in `dir` for [`TARGET`] in release mode, into
/// `target_dir` (the crate's own `target/` when `None`; a relative one is taken
/// from this process's working directory, not from `dir`); returns the directory
/// holding the `.wasm` files. The compiler's output goes to this process's stderr.
pub fn build(dir: &Path, target_dir: Option<&Path>) -> Result<PathBuf, ToolchainError> {
    let target_dir = target_dir
        .map(|path| {
            std::path::absolute(path).map_err(|cause| ToolchainError::TargetDir {
                path: path.to_owned(),
                cause,
            })
        })
        .transpose()?;
    let target_dir = target_dir.as_deref();
    ensure_target(dir)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(&cargo);
    command
        .current_dir(dir)
        .args(["build", "--release", "--target", TARGET]);
    if let Some(target_dir) = target_dir {
        command.arg("--target-dir").arg(target_dir);
    }
    for var in OUTER_BUILD_VARS {
        command.env_remove(var);
    }
    let status = command.status().map_err(|cause| ToolchainError::Spawn {
        program: cargo.to_string_lossy().into_owned(),
        cause,
    })?;
    if !status.success() {
        return Err(ToolchainError::BuildFailed {
            dir: dir.to_owned(),
        });
    }
    let target_dir = match target_dir {
        Some(dir) => dir.to_owned(),
        None => dir.join("target"),
    };
    Ok(target_dir.join(TARGET).join("release"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_target_error_says_what_to_run() {
        let error = ToolchainError::TargetMissing {
            cause: "no network".into(),
            fix: "rustup target add wasm32-wasip2 --toolchain 1.95.0-x86_64-unknown-linux-gnu"
                .into(),
        };
        let message = error.to_string();
        assert_eq!(message.lines().count(), 1);
        assert!(
            message.ends_with(
                "install it with: rustup target add wasm32-wasip2 --toolchain 1.95.0-x86_64-unknown-linux-gnu"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_sysroot_without_the_target_is_seen_as_such() {
        let dir = std::env::temp_dir().join(format!("wasmtasks-sysroot-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib/rustlib/x86_64-unknown-linux-gnu/lib")).unwrap();
        assert!(!has_target(&dir));
        std::fs::create_dir_all(dir.join("lib/rustlib").join(TARGET).join("lib")).unwrap();
        assert!(has_target(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
