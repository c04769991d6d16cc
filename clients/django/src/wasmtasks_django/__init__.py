"""django-wasmtasks: a Django ``TASKS`` backend for wasmtasks.

TASKS = {"default": {"BACKEND": "wasmtasks_django.WasmTasksBackend", ...}}

from wasmtasks_django import wasm_task

@wasm_task("notify.send_notification")
def send_notification(message: str, title: str | None = None) -> int: ...

result = send_notification.enqueue("Deploy finished", title="CI")
"""

from . import components  # noqa: F401  (registers the generated component modules)
from .backend import EventPage, TaskEvent, WasmTasksBackend
from .definitions import Parameter, TaskDefinition
from .exceptions import (
    AuthenticationFailed,
    Forbidden,
    InvalidRequest,
    NotFound,
    QuotaExceeded,
    ServerError,
    ServerUnavailable,
    TaskRefused,
    WasmTasksError,
)
from .results import WasmTaskResult
from .tasks import WasmTask, wasm_task

__all__ = [
    "AuthenticationFailed",
    "EventPage",
    "Forbidden",
    "InvalidRequest",
    "NotFound",
    "Parameter",
    "QuotaExceeded",
    "ServerError",
    "ServerUnavailable",
    "TaskDefinition",
    "TaskEvent",
    "TaskRefused",
    "WasmTask",
    "WasmTaskResult",
    "WasmTasksBackend",
    "WasmTasksError",
    "wasm_task",
]
