"""The SDK type-checks under `mypy --strict`, natively and inside a component, and is ruff clean.

Inside a component (`sys.platform == "wasi"`) the SDK talks to the bindings
componentize-py generates from the SDK's WIT; generating them here lets mypy
check that code against the real generated API.
"""

import os
import subprocess
import sys
from pathlib import Path

from wasmtasks_guest.build import WIT_DIRECTORY, WORLD

SDK = Path(__file__).resolve().parents[1]


def check(*command: str, env: dict[str, str] | None = None) -> None:
    ran = subprocess.run(command, cwd=SDK, capture_output=True, text=True, check=False, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_mypy_strict_natively() -> None:
    check(sys.executable, "-m", "mypy")


def test_mypy_strict_inside_a_component(tmp_path: Path) -> None:
    bindings = tmp_path / "bindings"
    generate = "import componentize_py; componentize_py.script()"
    check(
        sys.executable,
        "-c",
        generate,
        "-d",
        str(WIT_DIRECTORY),
        "-w",
        WORLD,
        "bindings",
        str(bindings),
    )
    check(
        sys.executable, "-m", "mypy", "--platform", "wasi", "src",
        env={**os.environ, "MYPYPATH": str(bindings)},
    )  # fmt: skip


def test_ruff_is_clean() -> None:
    check(sys.executable, "-m", "ruff", "check", ".", "../../tasks-examples/python")
    check(sys.executable, "-m", "ruff", "format", "--check", ".", "../../tasks-examples/python")
