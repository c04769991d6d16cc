"""A Python task project: a directory whose `pyproject.toml` names the module holding its tasks.

    [project]
    name = "notify"
    dependencies = ["wasmtasks-guest"]

    [tool.wasmtasks]
    module = "notify"

The module is `notify.py` or the package `notify/`, at the project's root or
under `src/`. The component is named after it.
"""

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""A top-level module name that is also a valid component name."""
BUILD_MODULES = frozenset(
    {
        "wasmtasks_guest",
        "wit_world",
        "poll_loop",
        "componentize_py_types",
        "componentize_py_runtime",
        "componentize_py_async_support",
    }
)
"""Top-level modules a component holds besides the project's: the SDK and componentize-py's."""
REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
SDK_DISTRIBUTION = "wasmtasks-guest"
"""The SDK's distribution, which the build bundles from the running installation."""


class ProjectError(Exception):
    """A directory that is not a task project, or one whose declaration is wrong."""


@dataclass(frozen=True)
class Project:
    """What building a task project needs to know about it."""

    root: Path
    module: str
    """The module holding the tasks, and the component's name."""
    source: Path
    """The module's file (`notify.py`) or package directory (`notify/`)."""
    dependencies: tuple[str, ...]
    """The requirements to bundle (`[project] dependencies`, the SDK left out)."""

    @classmethod
    def read(cls, root: Path) -> "Project":
        """Reads the project at `root`; raises `ProjectError` naming what is missing or wrong."""
        pyproject = root / "pyproject.toml"
        try:
            with pyproject.open("rb") as file:
                settings = tomllib.load(file)
        except FileNotFoundError:
            raise ProjectError(f"{root} is not a task project: it has no pyproject.toml") from None
        except tomllib.TOMLDecodeError as error:
            raise ProjectError(f"{pyproject} is not valid TOML: {error}") from None
        module = settings.get("tool", {}).get("wasmtasks", {}).get("module")
        if not isinstance(module, str):
            raise ProjectError(
                f'{pyproject} has no [tool.wasmtasks] module = "NAME" naming the module '
                "that holds the tasks"
            )
        if not MODULE_NAME.fullmatch(module):
            raise ProjectError(
                f"{pyproject}: [tool.wasmtasks] module = {module!r} is not a top-level module "
                "name (ASCII letters, digits and `_`)"
            )
        if module in sys.stdlib_module_names or module in BUILD_MODULES:
            owner = "the standard library" if module in sys.stdlib_module_names else "the build"
            raise ProjectError(
                f"{pyproject}: [tool.wasmtasks] module = {module!r} is a module of {owner}; "
                "rename the project's module"
            )
        requirements = settings.get("project", {}).get("dependencies", [])
        if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
            raise ProjectError(f"{pyproject}: [project] dependencies must be a list of strings")
        return cls(
            root=root,
            module=module,
            source=_module_source(root, module),
            dependencies=tuple(r for r in requirements if _distribution(r) != SDK_DISTRIBUTION),
        )


def _module_source(root: Path, module: str) -> Path:
    """Where `module` is: `notify.py` or `notify/__init__.py`, at `root` or under `root/src`."""
    candidates = [
        path
        for base in (root, root / "src")
        for path in (base / f"{module}.py", base / module)
        if (path.is_file() if path.suffix == ".py" else (path / "__init__.py").is_file())
    ]
    if not candidates:
        raise ProjectError(
            f"{root}: module {module} not found: expected {module}.py or {module}/__init__.py, "
            "at the project's root or under src/"
        )
    if len(candidates) > 1:
        found = ", ".join(str(path.relative_to(root)) for path in candidates)
        raise ProjectError(f"{root}: module {module} is found more than once: {found}")
    return candidates[0]


def _distribution(requirement: str) -> str:
    """The normalised distribution name a requirement names (PEP 503)."""
    match = REQUIREMENT_NAME.match(requirement)
    name = match.group(1) if match else requirement
    return re.sub(r"[-_.]+", "-", name).lower()
