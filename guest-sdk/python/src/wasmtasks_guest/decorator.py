"""`@task`: marks a function as a task (Django's `@task`) and records its defaults and signature.

The decorated function is returned unchanged, so it stays an ordinary function
that tests call directly. The task is registered under the function's module;
`Component.load` collects the tasks of a project's module and its submodules.
"""

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import overload

from wasmtasks_guest.binding import Parameter, bind, parse_args, parse_kwargs, wrong_value
from wasmtasks_guest.errors import InvalidArguments, MissingContext, TaskFailed, task_error
from wasmtasks_guest.hints import Mismatch
from wasmtasks_guest.options import TaskDeclarationError, TaskOptions, task_options
from wasmtasks_guest.records import TaskContext, TaskDefinition
from wasmtasks_guest.returns import encode
from wasmtasks_guest.signature import Signature, read_signature


@dataclass(frozen=True)
class Task:
    """A function marked with `@task`: its options, its signature, and how to run it from JSON."""

    function: Callable[..., object]
    options: TaskOptions
    signature: Signature
    bindings: tuple[Parameter, ...] = field(init=False)

    def __post_init__(self) -> None:
        """Keeps what binding needs, computed once."""
        bindings = tuple(param.binding() for param in self.signature.params)
        object.__setattr__(self, "bindings", bindings)

    @property
    def name(self) -> str:
        """The task's name: the function's."""
        return self.function.__name__

    @property
    def module(self) -> str:
        """The module the function is defined in."""
        return self.function.__module__

    def definition(self) -> TaskDefinition:
        """The contract's record of the task: its declared defaults and signature."""
        return TaskDefinition(
            name=self.name,
            priority=self.options.priority,
            queue_name=self.options.queue_name,
            takes_context=self.options.takes_context,
            retry=self.options.retry,
            limits=self.options.limits,
            params=tuple(param.definition() for param in self.signature.params),
            returns=json.dumps(self.signature.returns_schema, separators=(",", ":")),
        )

    def run(self, args: str, kwargs: str, context: TaskContext | None) -> str:
        """Binds `args` and `kwargs`, calls the function and returns its value as JSON.

        Raises a `RunError`: `InvalidArguments`, `MissingContext`,
        `InvalidReturnValue`, or `TaskFailed` for an exception the function raised.
        """
        bound = bind(self.name, self.bindings, parse_args(args), parse_kwargs(kwargs))
        if self.options.takes_context and context is None:
            raise MissingContext(f"{self.name}() takes a context but the host passed none")
        values: dict[str, object] = {}
        for param in self.signature.params:
            if param.name in bound:
                try:
                    values[param.name] = param.hint.decode(bound[param.name], "")
                except Mismatch as error:
                    raise InvalidArguments(wrong_value(self.name, param.name, str(error))) from None
        try:
            if self.options.takes_context:
                result = self.function(context, **values)
            else:
                result = self.function(**values)
        except Exception as error:
            frames = error.__traceback__.tb_next if error.__traceback__ else None
            raise TaskFailed(task_error(error, frames)) from None
        return encode(self.name, result)


REGISTERED: list[Task] = []
"""Every task defined so far, in the order the decorator was applied."""


@overload
def task[F: Callable[..., object]](function: F, /) -> F: ...


@overload
def task[F: Callable[..., object]](
    *,
    priority: int = 0,
    queue_name: str = "default",
    takes_context: bool = False,
    max_attempts: int | None = None,
    backoff_factor: float | None = None,
    fuel: int | None = None,
    timeout_ms: int | None = None,
    memory_bytes: int | None = None,
) -> Callable[[F], F]: ...


def task[F: Callable[..., object]](
    function: F | None = None,
    /,
    *,
    priority: int = 0,
    queue_name: str = "default",
    takes_context: bool = False,
    max_attempts: int | None = None,
    backoff_factor: float | None = None,
    fuel: int | None = None,
    timeout_ms: int | None = None,
    memory_bytes: int | None = None,
) -> F | Callable[[F], F]:
    """Marks a function as a task, as `@task` or `@task(option=value, ...)`.

    - `priority`: -100..=100, default 0; higher runs first.
    - `queue_name`: a non-empty string, default `"default"`.
    - `takes_context`: the first parameter, `context`, receives a `TaskContext`.
    - `max_attempts` (>= 1) and `backoff_factor` (> 0 seconds): the retry policy;
      `None` leaves it to the queue.
    - `fuel`, `timeout_ms`, `memory_bytes` (>= 1): the sandbox limits the task asks
      for; `None` leaves them to the host. The operator's maxima always win.

    An option out of range, or a signature the host cannot bind, raises
    `TaskDeclarationError` here, when the module is imported (and so when the
    component is built).
    """
    options = task_options(
        priority=priority,
        queue_name=queue_name,
        takes_context=takes_context,
        max_attempts=max_attempts,
        backoff_factor=backoff_factor,
        fuel=fuel,
        timeout_ms=timeout_ms,
        memory_bytes=memory_bytes,
    )

    def register(function: F) -> F:
        if not inspect.isfunction(function):
            raise TaskDeclarationError(f"@task applies to functions, not to {function!r}")
        signature = read_signature(function, options.takes_context)
        REGISTERED.append(Task(function, options, signature))
        return function

    return register if function is None else register(function)
