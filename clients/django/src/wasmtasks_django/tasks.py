"""Naming a wasm task from Python: ``wasm_task("component.task")``.

A Django ``Task`` needs a module-level function (``Task.func``) whose
``module_path`` Django can import. A wasm task has none, so each task path gets
one canonical function, created once per process, living (for Django's import
machinery) in the generated module ``wasmtasks_django.components.<component>``:

    >>> add = wasm_task("arith.add")
    >>> add.module_path
    'wasmtasks_django.components.arith.add'
    >>> import_string(add.module_path) == add
    True

Every ``Task`` for one task path shares that function, whether it was declared
with or without a stub, in this process or rebuilt from a result fetched later,
so ``Task.get_result()`` tells tasks apart by task path, as Django tells them
apart by function, and raises ``TaskResultMismatch`` for another task's result.

Calling the function (``Task.call()``) raises: the task runs on the server.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from inspect import isfunction
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, Task
from django.tasks.base import DEFAULT_TASK_PRIORITY
from django.tasks.exceptions import InvalidTask

from ._generic import GenericTask

if TYPE_CHECKING:
    from .definitions import TaskDefinition
    from .results import WasmTaskResult

_P = ParamSpec("_P")
_R = TypeVar("_R")
_Q = ParamSpec("_Q")
_S = TypeVar("_S")

COMPONENTS_PACKAGE = "wasmtasks_django.components"
TASK_PATH_ATTRIBUTE = "__wasmtasks_task_path__"

# A component name as the host accepts it, then one task (a Rust function name).
_TASK_PATH = re.compile(
    r"^(?P<component>[A-Za-z0-9_][A-Za-z0-9_-]*)\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)$"
)

_functions: dict[str, Callable[..., Any]] = {}
_functions_lock = threading.Lock()

# Set while a Task is rebuilt from a server answer: a result is a fact, not a request,
# so the backend does not validate it again (its queue may no longer be in QUEUES,
# its component version may have been deleted since).
_rebuilding: ContextVar[bool] = ContextVar("wasmtasks_rebuilding", default=False)


@contextmanager
def rebuilding() -> Iterator[None]:
    token = _rebuilding.set(True)
    try:
        yield
    finally:
        _rebuilding.reset(token)


def is_rebuilding() -> bool:
    return _rebuilding.get()


def split_task_path(task_path: str) -> tuple[str, str]:
    """``("arith", "add")`` for ``"arith.add"``; ``InvalidTask`` for anything else."""
    if not isinstance(task_path, str):
        raise InvalidTask(f"A wasm task path is a string, not {type(task_path).__name__}.")
    if "@" in task_path:
        raise InvalidTask(
            f"{task_path!r}: pinning a component version (component@digest.task) is not "
            "supported by wasm_task(); the server pins each job to the version it was "
            "validated against."
        )
    match = _TASK_PATH.match(task_path)
    if match is None:
        raise InvalidTask(f"{task_path!r} is not a wasm task path: expected 'component.task'.")
    return match["component"], match["name"]


def task_function(task_path: str) -> Callable[..., Any]:
    """The canonical Python function standing for ``task_path`` in this process."""
    component, name = split_task_path(task_path)
    with _functions_lock:
        function = _functions.get(task_path)
        if function is None:
            function = _make_function(task_path, component, name)
            _functions[task_path] = function
        return function


def _make_function(task_path: str, component: str, name: str) -> Callable[..., Any]:
    def wasm_task_function(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{task_path} runs as a WebAssembly component on the wasmtasks server; "
            "it cannot be called in this Python process. Enqueue it instead."
        )

    wasm_task_function.__name__ = name
    wasm_task_function.__qualname__ = name
    wasm_task_function.__module__ = f"{COMPONENTS_PACKAGE}.{component}"
    wasm_task_function.__doc__ = f"The wasmtasks task {task_path} (runs on the server)."
    setattr(wasm_task_function, TASK_PATH_ATTRIBUTE, task_path)
    return wasm_task_function


def task_path_of(func: Callable[..., Any]) -> str | None:
    """The task path a function stands for, or None for an ordinary Python function."""
    path = getattr(func, TASK_PATH_ATTRIBUTE, None)
    return path if isinstance(path, str) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class WasmTask(GenericTask[_P, _R]):  # type: ignore[misc]  # django-stubs: Task is not frozen
    """A Django ``Task`` that names a task of a wasmtasks component.

    ``explicit`` holds the options (``priority``, ``queue_name``) set in Python, by
    ``wasm_task(...)`` or ``.using(...)``; only those are sent with a job, so the
    server applies the component's own declared defaults to the others (the values
    shown on the Task are those defaults as the server described them when the task
    was declared). ``stub`` is the typed function a decorated declaration was made
    from, if any. Neither takes part in equality.
    """

    explicit: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    stub: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @property
    def task_path(self) -> str:
        return task_path_of(self.func) or ""

    def using(
        self,
        *,
        priority: int | None = None,
        queue_name: str | None = None,
        run_after: datetime | None = None,
        backend: str | None = None,
    ) -> WasmTask[_P, _R]:
        new = cast(
            "WasmTask[_P, _R]",
            Task.using(
                self,
                priority=priority,
                queue_name=queue_name,
                run_after=run_after,
                backend=backend,
            ),
        )
        named = {
            option
            for option, value in (("priority", priority), ("queue_name", queue_name))
            if value is not None
        }
        if named:
            # A fresh copy nobody else holds yet: record which options were chosen.
            object.__setattr__(new, "explicit", self.explicit | named)
        return new

    # Django's methods, typed with this backend's result class (``server_status``,
    # ``attempt_log``, ``refresh(wait=...)``) for editors and type checkers.

    def enqueue(self, *args: _P.args, **kwargs: _P.kwargs) -> WasmTaskResult[_P, _R]:
        return cast("WasmTaskResult[_P, _R]", Task.enqueue(self, *args, **kwargs))

    async def aenqueue(self, *args: _P.args, **kwargs: _P.kwargs) -> WasmTaskResult[_P, _R]:
        return cast("WasmTaskResult[_P, _R]", await Task.aenqueue(self, *args, **kwargs))

    def get_result(self, result_id: str) -> WasmTaskResult[_P, _R]:
        return cast("WasmTaskResult[_P, _R]", Task.get_result(self, result_id))

    async def aget_result(self, result_id: str) -> WasmTaskResult[_P, _R]:
        return cast("WasmTaskResult[_P, _R]", await Task.aget_result(self, result_id))

    def __call__(self, stub: Callable[_Q, _S]) -> WasmTask[_Q, _S]:
        """Declare a typed stub: ``@wasm_task("notify.send_notification")``."""
        if not isfunction(stub):
            raise TypeError(
                f"{self.task_path} is a task, not a function: enqueue it with "
                f".enqueue(...), or use wasm_task({self.task_path!r}) as a decorator "
                "on a typed stub."
            )
        declared = cast("WasmTask[_Q, _S]", replace(self, stub=stub))  # validated again
        _stubs.append((self.task_path, self.backend, stub))
        return declared


# Stubs declared in this process, for the system check that compares their
# parameters with the server's signatures.
_stubs: list[tuple[str, str, Callable[..., Any]]] = []


def declared_stubs() -> list[tuple[str, str, Callable[..., Any]]]:
    return list(_stubs)


def wasm_task(
    task_path: str,
    *,
    priority: int | None = None,
    queue_name: str | None = None,
    backend: str = DEFAULT_TASK_BACKEND_ALIAS,
) -> WasmTask[..., Any]:
    """A Django ``Task`` for the wasm task ``task_path`` (``"component.task"``).

    Use it as a value (``add = wasm_task("arith.add")``) or as a decorator on a
    typed stub, whose signature editors and type checkers then use for
    ``.enqueue()`` (the stub's body never runs)::

        @wasm_task("notify.send_notification")
        def send_notification(message: str, title: str | None = None) -> int: ...

    ``priority`` and ``queue_name`` default to the component's declared ones.
    The backend validates the Task as Django does (priority range, ``QUEUES``) and
    checks that the server has the task (cached); arguments are checked by the
    server when a job is enqueued.
    """
    from django.tasks import task_backends

    function = task_function(task_path)
    task_backend = task_backends[backend]
    definition: TaskDefinition | None = None
    describe = getattr(task_backend, "describe_task", None)
    if describe is not None:
        definition = describe(task_path)

    explicit = frozenset(
        option
        for option, value in (("priority", priority), ("queue_name", queue_name))
        if value is not None
    )
    if priority is None:
        priority = definition.priority if definition else DEFAULT_TASK_PRIORITY
    if queue_name is None:
        queue_name = definition.queue_name if definition else DEFAULT_TASK_QUEUE_NAME
    return WasmTask(
        priority=priority,
        func=function,
        backend=backend,
        queue_name=queue_name,
        run_after=None,
        explicit=explicit,
    )
