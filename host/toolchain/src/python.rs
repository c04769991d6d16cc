//! Building Python task projects: a directory whose `pyproject.toml` has a
//! `[tool.wasmtasks]` table, built by the Python guest SDK's builder
//! (`python -m wasmtasks_guest.build`, which runs componentize-py).
//!
//! The builder runs in the project's own Python environment, the first of:
//! `$WASMTASKS_PYTHON`, the active virtualenv (`$VIRTUAL_ENV`), the project's
//! `.venv`, `python3` on `PATH`. Nothing is installed for the user: when that
//! Python lacks the SDK, the error says what to install.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::ToolchainError;

/// How to install the SDK with its builder into the project's environment.
pub const SDK_INSTALL: &str = "pip install 'wasmtasks-guest[build] @ git+https://github.com/wasmtasks/wasmtasks#subdirectory=guest-sdk/python' (or the path of a checkout's guest-sdk/python)";

/// Whether `dir` holds a Python task project (and no Rust crate).
pub fn is_python_project(dir: &Path) -> bool {
    !dir.join("Cargo.toml").exists()
        && std::fs::read_to_string(dir.join("pyproject.toml"))
            .is_ok_and(|text| text.lines().any(|line| line.trim() == "[tool.wasmtasks]"))
}

/// The Python that builds the project in `dir` (see the module's documentation).
pub fn python_for(dir: &Path) -> PathBuf {
    choose_python(
        dir,
        std::env::var_os("WASMTASKS_PYTHON"),
        std::env::var_os("VIRTUAL_ENV"),
    )
}

/// [`python_for`], given the two variables' values.
fn choose_python(
    dir: &Path,
    wasmtasks_python: Option<OsString>,
    virtual_env: Option<OsString>,
) -> PathBuf {
    if let Some(python) = wasmtasks_python.filter(|python| !python.is_empty()) {
        return PathBuf::from(python);
    }
    let bin = if cfg!(windows) { "Scripts" } else { "bin" };
    let exe = format!("python{}", std::env::consts::EXE_SUFFIX);
    [virtual_env.map(PathBuf::from), Some(dir.join(".venv"))]
        .into_iter()
        .flatten()
        .map(|venv| venv.join(bin).join(&exe))
        .find(|python| python.is_file())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Builds the Python task project in `dir` into a component and returns its
/// path (the builder's default, `dir/build/MODULE.wasm`, or in `out_dir` when
/// given). The builder's messages go to this process's stderr.
pub fn build_python(dir: &Path, out_dir: Option<&Path>) -> Result<PathBuf, ToolchainError> {
    let python = python_for(dir);
    let spawn = |cause| ToolchainError::Spawn {
        program: python.display().to_string(),
        cause,
    };
    let probe = Command::new(&python)
        .args(["-c", "import wasmtasks_guest.build"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(spawn)?;
    if !probe.success() {
        return Err(ToolchainError::PythonSdkMissing {
            python: python.display().to_string(),
        });
    }
    let output = Command::new(&python)
        .args(["-m", "wasmtasks_guest.build"])
        .arg(dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(spawn)?;
    if !output.status.success() {
        return Err(ToolchainError::BuildFailed {
            dir: dir.to_owned(),
        });
    }
    let built = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let Some(out_dir) = out_dir else {
        return Ok(built);
    };
    let copy = |cause| ToolchainError::Spawn {
        program: format!("a copy of {} to {}", built.display(), out_dir.display()),
        cause,
    };
    std::fs::create_dir_all(out_dir).map_err(copy)?;
    let target = out_dir.join(built.file_name().unwrap_or_default());
    std::fs::copy(&built, &target).map_err(copy)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_project_is_a_pyproject_with_a_wasmtasks_table_and_no_crate() {
        let dir = std::env::temp_dir().join(format!("wasmtasks-python-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(!is_python_project(&dir));
        std::fs::write(dir.join("pyproject.toml"), "[project]\nname = \"x\"\n").unwrap();
        assert!(!is_python_project(&dir));
        std::fs::write(
            dir.join("pyproject.toml"),
            "[project]\nname = \"x\"\n\n[tool.wasmtasks]\nmodule = \"x\"\n",
        )
        .unwrap();
        assert!(is_python_project(&dir));
        std::fs::write(dir.join("Cargo.toml"), "[package]\n").unwrap();
        assert!(!is_python_project(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_python_is_the_named_one_then_the_active_venv_then_the_projects_then_python3() {
        let dir = std::env::temp_dir().join(format!("wasmtasks-venv-{}", std::process::id()));
        let active = dir.join("active");
        assert_eq!(
            choose_python(&dir, None, Some(active.clone().into())),
            PathBuf::from("python3"),
            "a virtualenv without a python is passed over"
        );
        let python_in = |venv: &Path| {
            let bin = venv.join(if cfg!(windows) { "Scripts" } else { "bin" });
            std::fs::create_dir_all(&bin).unwrap();
            let python = bin.join(format!("python{}", std::env::consts::EXE_SUFFIX));
            std::fs::write(&python, "").unwrap();
            python
        };
        let project = python_in(&dir.join(".venv"));
        assert_eq!(
            choose_python(&dir, None, Some(active.clone().into())),
            project
        );
        let activated = python_in(&active);
        assert_eq!(
            choose_python(&dir, None, Some(active.clone().into())),
            activated
        );
        assert_eq!(
            choose_python(
                &dir,
                Some("/opt/py/bin/python3.12".into()),
                Some(active.into())
            ),
            PathBuf::from("/opt/py/bin/python3.12")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
