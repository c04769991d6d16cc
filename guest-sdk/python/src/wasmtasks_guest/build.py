"""Builds a Python task project into a wasmtasks component with componentize-py.

    python -m wasmtasks_guest.build PROJECT_DIR [-o OUT.wasm]

writes the component (default: `PROJECT_DIR/build/MODULE.wasm`), prints its path
alone on stdout, and exits 0; progress and errors go to stderr. Exit status 2:
the directory is not a task project (or the arguments are wrong); 1: the build
failed (a dependency cannot be bundled, the module raised on import, ...).

The component holds CPython (componentize-py's, 3.14), the SDK as installed
here, the project's module and its dependencies, installed from pure-Python
wheels only: a package with C extensions cannot be bundled unless it publishes a
WASI wheel. The module is imported while building, and the interpreter's state
is saved into the component, so module-level code runs once, at build time.
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import wasmtasks_guest
from wasmtasks_guest.project import Project, ProjectError

COMPONENTIZE_PY = "componentize-py==0.25.1"
"""The componentize-py this SDK is tested with (the `build` extra installs it)."""
COMPONENT_PYTHON = "3.14"
"""The CPython componentize-py 0.25 embeds: dependencies are resolved for it."""
WORLD = "python-task-component"
"""The world in the SDK's `wit/world.wit`: the contract plus `wasi:http`."""
ENTRY_MODULE = "_wasmtasks_component"
"""The module the build writes to export the project's tasks."""
SDK_DIRECTORY = Path(wasmtasks_guest.__file__).resolve().parent
WIT_DIRECTORY = SDK_DIRECTORY / "wit"

ENTRY_SOURCE = '''\
"""The entry point of component {module}, written by wasmtasks_guest.build."""

from wasmtasks_guest import Component
from wasmtasks_guest._exports import ComponentTasks


class Tasks(ComponentTasks):
    """The contract's `tasks` export: the tasks of module {module}."""

    component = Component.load("{module}")
'''


class BuildError(Exception):
    """A build that did not produce a component; `str()` says why."""


def build(project: Project, output: Path) -> Path:
    """Builds `project` into the component file `output`; returns its path."""
    if importlib.util.find_spec("componentize_py") is None:
        raise BuildError(
            f"componentize-py is not installed: pip install 'wasmtasks-guest[build]' "
            f"(it brings {COMPONENTIZE_PY})"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wasmtasks-build-") as work:
        app = Path(work)
        _copy(SDK_DIRECTORY, app / "wasmtasks_guest", skip=("wit",))
        _copy(project.source, app / project.source.name)
        if project.dependencies:
            _install(project.dependencies, app)
        (app / f"{ENTRY_MODULE}.py").write_text(ENTRY_SOURCE.format(module=project.module))
        _componentize(app, output)
    return output


def _copy(source: Path, target: Path, skip: tuple[str, ...] = ()) -> None:
    """Copies a module file or a package, without caches (and without `skip`)."""
    if source.is_file():
        shutil.copyfile(source, target)
    else:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", *skip)
        shutil.copytree(source, target, ignore=ignore)


def _install(requirements: tuple[str, ...], target: Path) -> None:
    """Installs `requirements` into `target` from pure-Python wheels for the component's CPython."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--target", str(target),
        "--only-binary=:all:", "--platform", "any", "--implementation", "py",
        "--abi", "none", "--python-version", COMPONENT_PYTHON,
        *requirements,
    ]  # fmt: skip
    if subprocess.run(command, check=False).returncode != 0:
        raise BuildError(
            "could not install the dependencies as pure-Python wheels (py3-none-any) for "
            f"CPython {COMPONENT_PYTHON}: {', '.join(requirements)}. A package with C extensions "
            "cannot be bundled into a component unless it publishes a WASI wheel; pip's error "
            "is above"
        )


def _componentize(app: Path, output: Path) -> None:
    """Runs componentize-py on the entry module in `app`, with the SDK's WIT."""
    command = [
        sys.executable, "-c", "import componentize_py; componentize_py.script()",
        "--quiet", "--wit-path", str(WIT_DIRECTORY), "--world", WORLD,
        "componentize", "--python-path", str(app), ENTRY_MODULE, "--output", str(output),
    ]  # fmt: skip
    # componentize-py's own Rust backtrace says nothing about the project: keep the Python one.
    environment = {**os.environ, "RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0"}
    if subprocess.run(command, env=environment, check=False).returncode != 0:
        raise BuildError("componentize-py could not build the component; its error is above")


def main(argv: list[str] | None = None) -> int:
    """The command line: builds a project, prints the component's path; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m wasmtasks_guest.build",
        description="Build a Python task project into a wasmtasks component.",
    )
    parser.add_argument("project", type=Path, help="the project directory (with pyproject.toml)")
    parser.add_argument(
        "-o", "--output", type=Path, help="the component file [default: PROJECT/build/MODULE.wasm]"
    )
    arguments = parser.parse_args(argv)
    try:
        project = Project.read(arguments.project.resolve())
    except ProjectError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    output = (arguments.output or project.root / "build" / f"{project.module}.wasm").resolve()
    print(f"building component {project.module} from {project.root}", file=sys.stderr)
    started = time.monotonic()
    try:
        build(project, output)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    size = output.stat().st_size / (1 << 20)
    elapsed = time.monotonic() - started
    print(f"built {output} ({size:.1f} MiB) in {elapsed:.1f}s", file=sys.stderr)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
