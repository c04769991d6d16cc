"""Write wasmtasks background tasks in Python.

wasmtasks is Django's background-task framework rebuilt around WebAssembly:
every task is a function exported by a component that the host runs in a
sandbox. Mark functions of a project's module with `@task`, and build the
project with `python -m wasmtasks_guest.build PROJECT_DIR`:

    from wasmtasks_guest import task

    @task
    def add(a: int, b: int) -> int:
        return a + b

The functions stay ordinary Python functions; `Component.load("arith").run(...)`
runs them from JSON the way the host does. See the README for the rules.
"""

from wasmtasks_guest import config, http, log
from wasmtasks_guest.component import Component, ComponentError
from wasmtasks_guest.decorator import Task, task
from wasmtasks_guest.errors import (
    InvalidArguments,
    InvalidReturnValue,
    MissingContext,
    RunError,
    TaskFailed,
    TaskNotFound,
    error_class_path,
)
from wasmtasks_guest.options import TaskDeclarationError
from wasmtasks_guest.records import (
    ComponentDescription,
    Limits,
    ParamDefinition,
    RetryPolicy,
    TaskContext,
    TaskDefinition,
    TaskError,
)

__all__ = [
    "Component",
    "ComponentDescription",
    "ComponentError",
    "InvalidArguments",
    "InvalidReturnValue",
    "Limits",
    "MissingContext",
    "ParamDefinition",
    "RetryPolicy",
    "RunError",
    "Task",
    "TaskContext",
    "TaskDeclarationError",
    "TaskDefinition",
    "TaskError",
    "TaskFailed",
    "TaskNotFound",
    "config",
    "error_class_path",
    "http",
    "log",
    "task",
]
