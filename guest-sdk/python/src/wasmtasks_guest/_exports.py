"""The component's export of the contract's `tasks` interface, made from a `Component`.

Only importable inside a component. The entry module `python -m
wasmtasks_guest.build` writes subclasses `ComponentTasks` as `Tasks`, naming the
project's component, and componentize-py exports it.
"""

import sys

assert sys.platform == "wasi", "wasmtasks_guest._exports exists only inside a component"

from collections.abc import Callable  # noqa: E402
from typing import ClassVar  # noqa: E402

from componentize_py_types import Err  # noqa: E402
from wit_world import exports  # noqa: E402
from wit_world.imports import wasmtasks_task_types as wit  # noqa: E402

from wasmtasks_guest.component import Component  # noqa: E402
from wasmtasks_guest.errors import (  # noqa: E402
    InvalidArguments,
    InvalidReturnValue,
    MissingContext,
    RunError,
    TaskFailed,
    TaskNotFound,
)
from wasmtasks_guest.records import ComponentDescription, TaskContext, TaskDefinition  # noqa: E402


class ComponentTasks(exports.Tasks):
    """`describe` and `run` of `component`, in the bindings' types."""

    component: ClassVar[Component]

    def describe(self) -> wit.ComponentDescription:
        """The component's name and tasks."""
        return _description(self.component.describe())

    def run(self, task: str, args: str, kwargs: str, context: wit.TaskContext | None) -> str:
        """Runs `task`; a `RunError` goes back as the matching `run-error` variant."""
        try:
            return self.component.run(task, args, kwargs, _context(context))
        except RunError as error:
            raise Err(_run_error(error)) from None


def _description(description: ComponentDescription) -> wit.ComponentDescription:
    """The bindings' record of `description`."""
    return wit.ComponentDescription(
        name=description.name,
        tasks=[_definition(task) for task in description.tasks],
    )


def _definition(task: TaskDefinition) -> wit.TaskDefinition:
    """The bindings' record of `task`."""
    return wit.TaskDefinition(
        name=task.name,
        priority=task.priority,
        queue_name=task.queue_name,
        takes_context=task.takes_context,
        retry=wit.RetryPolicy(task.retry.max_attempts, task.retry.backoff_factor),
        limits=wit.Limits(task.limits.fuel, task.limits.timeout_ms, task.limits.memory_bytes),
        params=[wit.Param(param.name, param.required, param.schema) for param in task.params],
        returns=task.returns,
    )


def _context(context: wit.TaskContext | None) -> TaskContext | None:
    """The SDK's `TaskContext` for the host's."""
    if context is None:
        return None
    return TaskContext(
        task_result_id=context.task_result_id,
        attempt=context.attempt,
        task_path=context.task_path,
        queue_name=context.queue_name,
        priority=context.priority,
    )


MESSAGE_VARIANTS: dict[type[RunError], Callable[[str], wit.RunError]] = {
    InvalidArguments: wit.RunError_InvalidArguments,
    TaskNotFound: wit.RunError_TaskNotFound,
    InvalidReturnValue: wit.RunError_InvalidReturnValue,
    MissingContext: wit.RunError_MissingContext,
}
"""The `run-error` variant of each refusal of the SDK, which carries its message."""


def _run_error(error: RunError) -> wit.RunError:
    """The `run-error` variant reporting `error`."""
    if isinstance(error, TaskFailed):
        failure = error.error
        return wit.RunError_Failed(
            wit.TaskError(failure.exception_class_path, failure.message, failure.detail)
        )
    return MESSAGE_VARIANTS[type(error)](error.message)
