"""The `wasmtasks` binary on Python projects: `new --python`, then `build`, then `run`.

Marked `components`: it needs componentize-py (in this interpreter's environment)
and the `wasmtasks` binary (`WASMTASKS_BIN`, default: the checkout's
`target/debug/wasmtasks`).
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[1]
REPOSITORY = SDK.parents[1]
WASMTASKS = Path(os.environ.get("WASMTASKS_BIN", REPOSITORY / "target" / "debug" / "wasmtasks"))

pytestmark = pytest.mark.components


def wasmtasks(
    *arguments: str, cwd: Path, python: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the binary in `cwd`, building with `python` (`WASMTASKS_PYTHON`)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("WASMTASKS_")}
    env.pop("VIRTUAL_ENV", None)
    if python is not None:
        env["WASMTASKS_PYTHON"] = python
    return subprocess.run(
        [str(WASMTASKS), *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_new_python_builds_and_runs_on_the_first_try(tmp_path: Path) -> None:
    created = wasmtasks("new", "slugs", "--python", "--sdk", str(SDK), cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "slugs"
    assert sorted(path.name for path in project.iterdir()) == [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "requirements.txt",
        "slugs.py",
        "test_slugs.py",
    ]
    assert f"{SDK}[build]" in (project / "requirements.txt").read_text()
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout

    built = wasmtasks("build", cwd=project, python=sys.executable)
    assert built.returncode == 0, built.stderr
    component = Path(built.stdout.strip())
    assert component == project / "build" / "slugs.wasm"
    assert component.is_file()

    ran = wasmtasks(
        "run",
        str(component),
        "slugify",
        '"Hello, Python World"',
        "--kwargs",
        '{"separator": "_"}',
        "--json",
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert (result["status"], result["return_value"]) == ("SUCCESSFUL", "hello_python_world")


def test_a_python_without_the_sdk_is_named_with_what_to_install(tmp_path: Path) -> None:
    created = wasmtasks("new", "bare", "--python", "--sdk", str(SDK), cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    # The interpreter this virtualenv was made from has no SDK installed.
    base = Path(sys.base_prefix) / "bin" / "python3"
    built = wasmtasks("build", "bare", cwd=tmp_path, python=str(base))
    assert built.returncode == 2, built.stderr
    assert f"{base} cannot import wasmtasks_guest.build" in built.stderr
    assert "pip install 'wasmtasks-guest[build]" in built.stderr
    assert not (tmp_path / "bare" / "build").exists()


def test_dev_rebuilds_a_python_project_on_save_and_new_jobs_run_the_new_version(
    tmp_path: Path,
) -> None:
    created = wasmtasks("new", "slugs", "--python", "--sdk", str(SDK), cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    module = tmp_path / "slugs" / "slugs.py"
    env = {name: value for name, value in os.environ.items() if not name.startswith("WASMTASKS_")}
    env["WASMTASKS_PYTHON"] = sys.executable
    dev = subprocess.Popen(
        [str(WASMTASKS), "dev", "slugs"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []

    def wait_for(text: str) -> None:
        assert dev.stderr is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = dev.stderr.readline()
            assert line, "dev ended:\n" + "".join(lines)
            lines.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} in:\n" + "".join(lines))

    try:
        wait_for("dev: watching")
        assert any("uploaded slugs version" in line for line in lines), lines
        module.write_text(module.read_text().replace("word.lower()", "word.upper()"))
        wait_for("dev: the new version runs")
        enqueued = wasmtasks("enqueue", "slugs.slugify", '"new version"', "--json", cwd=tmp_path)
        assert enqueued.returncode == 0, enqueued.stderr
        job = json.loads(enqueued.stdout)["id"]
        result = wasmtasks("result", job, "--wait", "60s", "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["return_value"] == "NEW-VERSION"
    finally:
        dev.terminate()
        dev.wait(timeout=30)
