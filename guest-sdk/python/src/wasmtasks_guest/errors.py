"""Why `Component.run` returned no value: the task's own exception, or a refusal of the SDK.

Each class is one variant of the contract's `run-error`; the host records the
task's own exceptions under their class path and the SDK's refusals under its
own classes (`wasmtasks.InvalidArguments`, ...).
"""

import traceback
from types import TracebackType

from wasmtasks_guest.records import TaskError

HOST_PREFIX = "wasmtasks."
"""The prefix of the classes only the host gives."""


class RunError(Exception):
    """Why a run returned no value; `exception_class_path` is the class the host records."""

    exception_class_path: str
    """The class the host records for this error."""

    def __init__(self, message: str) -> None:
        """An error described by `message`."""
        super().__init__(message)
        self.message = message


class TaskFailed(RunError):
    """The task raised an exception (the contract's `failed`)."""

    def __init__(self, error: TaskError) -> None:
        """The failure reported as `error`."""
        super().__init__(error.message)
        self.error = error
        self.exception_class_path = error.exception_class_path


class InvalidArguments(RunError):
    """The arguments do not fit the task's parameters."""

    exception_class_path = "wasmtasks.InvalidArguments"


class TaskNotFound(RunError):
    """The component has no task of that name."""

    exception_class_path = "wasmtasks.TaskNotFound"


class InvalidReturnValue(RunError):
    """The task's return value cannot be turned into JSON."""

    exception_class_path = "wasmtasks.InvalidReturnValue"


class MissingContext(RunError):
    """A `takes_context` task was run without a context."""

    exception_class_path = "wasmtasks.MissingContext"


def error_class_path(error_type: type[BaseException]) -> str:
    """The class path reported for exceptions of `error_type`: `module.QualifiedName`.

    `welcome.WelcomeError` for a class defined in module `welcome`, and
    `builtins.ValueError` for a built-in exception, as Django records them. A path
    in the host's `wasmtasks.` namespace becomes `guest.wasmtasks.…`, as the host
    would record it: a task cannot pass for a host event.
    """
    path = f"{error_type.__module__}.{error_type.__qualname__}"
    return f"guest.{path}" if path.startswith(HOST_PREFIX) else path


def task_error(error: BaseException, frames: TracebackType | None) -> TaskError:
    """The `TaskError` reporting `error`, whose traceback starts at `frames`.

    The detail is Python's formatted traceback (with chained exceptions). Inside a
    component the source lines are missing: the sandbox has no files to read them from.
    """
    detail = "".join(traceback.format_exception(type(error), error, frames))
    return TaskError(
        exception_class_path=error_class_path(type(error)),
        message=str(error),
        detail=detail,
    )
