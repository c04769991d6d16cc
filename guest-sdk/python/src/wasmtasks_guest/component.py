"""A component: a project's module and its tasks, with the contract's `describe` and `run`."""

import importlib
import re
from collections.abc import Sequence

from wasmtasks_guest.decorator import REGISTERED, Task
from wasmtasks_guest.errors import TaskNotFound
from wasmtasks_guest.records import ComponentDescription, TaskContext

COMPONENT_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""A component name the host accepts."""


class ComponentError(ValueError):
    """A component the host would refuse: a bad name, no tasks, or two tasks of one name."""


class Component:
    """The tasks of one project, as the host sees them.

    Inside a component, the SDK exports `describe` and `run` from it; natively,
    tests call them the way the host does:

        component = Component.load("arith")
        assert component.run("add", "[2]", '{"b": 3}') == "5"
    """

    def __init__(self, name: str, tasks: Sequence[Task]) -> None:
        """A component called `name` made of `tasks`, in order."""
        if not COMPONENT_NAME.fullmatch(name):
            raise ComponentError(
                f"{name!r} is not a valid component name (1 to 128 letters, digits, `_`, `-`)"
            )
        if not tasks:
            raise ComponentError(
                f"component {name} has no tasks: decorate a function of module {name} with @task"
            )
        by_name: dict[str, Task] = {}
        for task in tasks:
            if task.name in by_name:
                first = by_name[task.name]
                raise ComponentError(
                    f"component {name} has two tasks named '{task.name}' "
                    f"(in modules {first.module} and {task.module})"
                )
            by_name[task.name] = task
        self.name = name
        self.tasks = tuple(tasks)
        self._by_name = by_name

    @classmethod
    def load(cls, module: str) -> "Component":
        """Imports `module` (a project's top-level module) and collects its tasks.

        The component is named after the module, and holds the tasks defined in it
        and in its submodules, in the order they were defined.
        """
        importlib.import_module(module)
        prefix = f"{module}."
        tasks = [
            task for task in REGISTERED if task.module == module or task.module.startswith(prefix)
        ]
        return cls(module, tasks)

    def describe(self) -> ComponentDescription:
        """The component's name and every task's definition (the contract's `describe`)."""
        return ComponentDescription(self.name, tuple(task.definition() for task in self.tasks))

    def run(
        self,
        task: str,
        args: str = "[]",
        kwargs: str = "{}",
        context: TaskContext | None = None,
    ) -> str:
        """Runs `task` with `args` (a JSON array) and `kwargs` (a JSON object), as the host does.

        Returns the return value as JSON text, or raises a `RunError`.
        """
        found = self._by_name.get(task)
        if found is None:
            raise TaskNotFound(
                f"this component has no task named '{task}'; its tasks are: "
                + ", ".join(self._by_name)
            )
        return found.run(args, kwargs, context)
