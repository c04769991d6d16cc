"""``WasmTasksBackend``: Django's ``TASKS`` backend over the wasmtasks HTTP API.

TASKS = {
    "default": {
        "BACKEND": "wasmtasks_django.WasmTasksBackend",
        "QUEUES": ["default", "emails"],
        "OPTIONS": {
            "url": "http://127.0.0.1:8000",
            "token": os.environ["WASMTASKS_TOKEN"],
            "timeout": 5,          # seconds per request (a long poll adds its wait)
            # "tenant": "acme",    # with an operator token: the tenant to act within
            # "cache_ttl": 60,     # seconds a component's tasks are cached
        },
    }
}
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from inspect import iscoroutinefunction
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.tasks import Task, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskError
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.json import normalize_json

from .client import ApiClient, format_wait
from .definitions import NEGATIVE_TTL, ComponentEntry, Lookup, TaskDefinition, component_cache
from .exceptions import (
    AuthenticationFailed,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServerUnavailable,
    TaskRefused,
    WasmTasksError,
)
from .results import WasmTaskResult
from .tasks import WasmTask, declared_stubs, is_rebuilding, rebuilding, split_task_path
from .tasks import task_function as _task_function
from .tasks import task_path_of as _task_path_of

_P = ParamSpec("_P")
_R = TypeVar("_R")

DEFAULT_TIMEOUT = 5.0
DEFAULT_CACHE_TTL = 60.0
# Roles that may enqueue (reader may only read).
ENQUEUE_ROLES = {"member", "admin", "operator"}


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One change of a job's status, from ``GET /api/v1/events``."""

    cursor: str
    task_id: str
    task_path: str
    status: str
    attempt: int
    at: datetime | None


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[TaskEvent]
    cursor: str


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class WasmTasksBackend(BaseTaskBackend):
    """Enqueue and read wasm tasks on a ``wasmtasks serve`` server.

    Jobs run on the server's workers, never in the Django process:
    ``supports_async_task`` is False because no Python coroutine is ever run (a
    wasm task is not a Python function, so whether a stub is ``async`` means
    nothing). ``aenqueue``/``aget_result`` are natively asynchronous all the same.
    """

    task_class = WasmTask
    supports_defer = True
    supports_async_task = False
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        options = self.options
        self.url: str = str(options.get("url") or "").rstrip("/")
        token = options.get("token")
        self.token: str | None = str(token) if token else None
        self.tenant: str | None = options.get("tenant") or None
        self.timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
        self.cache_ttl = float(options.get("cache_ttl", DEFAULT_CACHE_TTL))
        self._api: ApiClient | None = None

    # -- the HTTP client ---------------------------------------------------------

    @property
    def api(self) -> ApiClient:
        if not self.url:
            raise ImproperlyConfigured(
                f"TASKS[{self.alias!r}]['OPTIONS']['url'] is required: the wasmtasks "
                "server, e.g. 'http://127.0.0.1:8000'."
            )
        if self._api is None:
            self._api = ApiClient(self.url, self.token, timeout=self.timeout, tenant=self.tenant)
        return self._api

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    async def aclose(self) -> None:
        if self._api is not None:
            await self._api.aclose()

    # -- what the server has -------------------------------------------------------

    def _cache_key(self, component: str) -> tuple[Any, ...]:
        return (self.url, self.token, self.tenant, component)

    def _store(self, component: str, answer: dict[str, Any] | WasmTasksError) -> ComponentEntry:
        key = self._cache_key(component)
        if isinstance(answer, dict):
            return component_cache.put(key, ttl=self.cache_ttl, details=answer)
        if isinstance(answer, NotFound):
            return component_cache.put(
                key, ttl=min(NEGATIVE_TTL, self.cache_ttl), missing=True, reason=answer.detail
            )
        return component_cache.put(key, ttl=min(NEGATIVE_TTL, self.cache_ttl), reason=str(answer))

    def _lookup(self, task_path: str, *, network: bool) -> Lookup:
        component, name = split_task_path(task_path)
        entry = component_cache.get(self._cache_key(component))
        if entry is None:
            if not network or not self.url:
                return ("unknown", "not looked up")
            try:
                answer: dict[str, Any] | WasmTasksError = self.api.get(
                    f"/components/{quote(component, safe='')}"
                )
            except (ServerUnavailable, AuthenticationFailed, Forbidden, NotFound) as error:
                answer = error
            entry = self._store(component, answer)
        return entry.lookup(task_path, component, name)

    async def _alookup(self, task_path: str) -> Lookup:
        component, name = split_task_path(task_path)
        entry = component_cache.get(self._cache_key(component))
        if entry is None:
            if not self.url:
                return ("unknown", "no url")
            try:
                answer: dict[str, Any] | WasmTasksError = await self.api.aget(
                    f"/components/{quote(component, safe='')}"
                )
            except (ServerUnavailable, AuthenticationFailed, Forbidden, NotFound) as error:
                answer = error
            entry = self._store(component, answer)
        return entry.lookup(task_path, component, name)

    def describe_task(self, task_path: str) -> TaskDefinition | None:
        """The task's declared defaults and signature, or None when the server does
        not have it or cannot say (cached; never blocks inside an event loop)."""
        lookup = self._lookup(task_path, network=not _in_event_loop())
        return lookup[1] if lookup[0] == "found" else None

    async def adescribe_task(self, task_path: str) -> TaskDefinition | None:
        lookup = await self._alookup(task_path)
        return lookup[1] if lookup[0] == "found" else None

    # -- Django's contract -----------------------------------------------------------

    def validate_task(self, task: Task[Any, Any]) -> None:
        if is_rebuilding():
            return
        task_path = _task_path_of(task.func)
        if task_path is None:
            raise InvalidTask(
                f"{task.module_path} is a Python function: the wasmtasks backend runs "
                "WebAssembly components only. Name the task with "
                "wasmtasks_django.wasm_task('component.task')."
            )
        super().validate_task(task)
        # Task.func is never a coroutine function here (the canonical function stands
        # for the wasm task); a stub declared `async def` is refused as Django refuses
        # an async function on a backend that does not support async tasks.
        stub = task.stub if isinstance(task, WasmTask) else None
        if stub is not None and not self.supports_async_task and iscoroutinefunction(stub):
            raise InvalidTask("Backend does not support async Tasks.")
        # Does the server have it? Cached; inside an event loop only the cache is
        # consulted (aenqueue fills it without blocking). When the server cannot
        # say, the enqueue itself is checked by the server.
        kind, value = self._lookup(task_path, network=not _in_event_loop())
        if kind == "missing":
            assert isinstance(value, str)
            raise InvalidTask(value)

    def _job(self, task: Task[Any, Any], args: Any, kwargs: Any) -> dict[str, Any]:
        # Django's own normalisation: a value JSON cannot hold is a TypeError, as with
        # every Django backend, and nothing is sent.
        job: dict[str, Any] = {
            "task_path": _task_path_of(task.func),
            "args": normalize_json(list(args)),
            "kwargs": normalize_json(dict(kwargs)),
        }
        explicit = task.explicit if isinstance(task, WasmTask) else {"priority", "queue_name"}
        if "priority" in explicit:
            job["priority"] = task.priority
        if "queue_name" in explicit:
            job["queue_name"] = task.queue_name
        if task.run_after is not None:
            run_after = task.run_after
            if timezone.is_naive(run_after):
                run_after = timezone.make_aware(run_after)
            job["run_after"] = run_after.isoformat()
        return job

    def enqueue(self, task: Task[_P, _R], args: Any, kwargs: Any) -> WasmTaskResult[_P, _R]:
        self.validate_task(task)
        job = self._job(task, args, kwargs)
        try:
            answer = self.api.post("/jobs", job)
        except InvalidRequest as error:
            raise TaskRefused(error) from error
        result = self._result(answer, task)
        task_enqueued.send(type(self), task_result=result)
        return result

    async def aenqueue(self, task: Task[_P, _R], args: Any, kwargs: Any) -> WasmTaskResult[_P, _R]:
        task_path = _task_path_of(task.func)
        if task_path is not None:
            await self._alookup(task_path)  # fills the cache validate_task reads
        self.validate_task(task)
        job = self._job(task, args, kwargs)
        try:
            answer = await self.api.apost("/jobs", job)
        except InvalidRequest as error:
            raise TaskRefused(error) from error
        result = self._result(answer, task)
        await task_enqueued.asend(type(self), task_result=result)
        return result

    def get_result(self, result_id: str, *, wait: float | None = None) -> WasmTaskResult[Any, Any]:
        """The job's TaskResult; with ``wait`` (seconds), once it has finished or
        the wait is over (a long poll, at most 5 minutes)."""
        path, params = self._result_request(result_id, wait)
        try:
            answer = self.api.get(path, params=params, wait=wait)
        except NotFound:
            raise TaskResultDoesNotExist(result_id) from None
        return self._result(answer)

    async def aget_result(
        self, result_id: str, *, wait: float | None = None
    ) -> WasmTaskResult[Any, Any]:
        path, params = self._result_request(result_id, wait)
        try:
            answer = await self.api.aget(path, params=params, wait=wait)
        except NotFound:
            raise TaskResultDoesNotExist(result_id) from None
        return self._result(answer)

    @staticmethod
    def _result_request(result_id: str, wait: float | None) -> tuple[str, dict[str, str] | None]:
        path = f"/jobs/{quote(str(result_id), safe='')}"
        return path, ({"wait": format_wait(wait)} if wait else None)

    # -- answers to Django objects -----------------------------------------------------

    @staticmethod
    def _datetime(value: Any) -> datetime | None:
        if not value:
            return None
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise WasmTasksError(f"the server sent an unreadable time: {value!r}")
        if not settings.USE_TZ:
            parsed = timezone.make_naive(parsed)
        return parsed

    def _task(self, answer: dict[str, Any], task: Task[Any, Any] | None) -> Task[Any, Any]:
        priority = int(answer["priority"])
        queue_name = str(answer["queue_name"])
        run_after = self._datetime(answer.get("run_after"))
        if (
            task is not None
            and task.priority == priority
            and task.queue_name == queue_name
            and task.run_after == run_after
        ):
            return task
        # The server chose (the component's declared defaults), or the job was
        # enqueued elsewhere: a Task with the job's own options. Not validated again.
        with rebuilding():
            if task is not None:
                return task.using(priority=priority, queue_name=queue_name, run_after=run_after)
            return WasmTask(
                priority=priority,
                func=_task_function(str(answer["task_path"])),
                backend=self.alias,
                queue_name=queue_name,
                run_after=run_after,
            )

    def _result(
        self, answer: dict[str, Any], task: Task[Any, Any] | None = None
    ) -> WasmTaskResult[Any, Any]:
        server_status = str(answer["status"])
        status = (
            TaskResultStatus.FAILED
            if server_status == "CANCELLED"
            else TaskResultStatus(server_status)
        )
        result: WasmTaskResult[Any, Any] = WasmTaskResult(
            task=self._task(answer, task),
            id=str(answer["id"]),
            status=status,
            enqueued_at=self._datetime(answer.get("enqueued_at")),
            started_at=self._datetime(answer.get("started_at")),
            finished_at=self._datetime(answer.get("finished_at")),
            last_attempted_at=self._datetime(answer.get("last_attempted_at")),
            args=list(answer.get("args") or []),
            kwargs=dict(answer.get("kwargs") or {}),
            backend=self.alias,
            errors=[
                TaskError(
                    exception_class_path=str(error["exception_class_path"]),
                    traceback=str(error["traceback"]),
                )
                for error in answer.get("errors") or []
            ],
            worker_ids=[str(worker) for worker in answer.get("worker_ids") or []],
            server_status=server_status,
            component_digest=str(answer.get("component_digest", "")),
            attempt_log=list(answer.get("attempt_log") or []),
        )
        if status == TaskResultStatus.SUCCESSFUL:
            object.__setattr__(result, "_return_value", answer.get("return_value"))
        return result

    # -- the event stream (used by `manage.py wasmtasks_events`) -------------------------

    def read_events(
        self, after: str | None = None, *, wait: float | None = None, limit: int = 100
    ) -> EventPage:
        """Job transitions after ``after`` (oldest first), or, without it, an empty
        page whose cursor is where the stream stands now."""
        params: dict[str, str] = {"limit": str(limit)}
        if after is not None:
            params["after"] = after
        if wait:
            params["wait"] = format_wait(wait)
        answer = self.api.get("/events", params=params, wait=wait)
        events = [
            TaskEvent(
                cursor=str(event["cursor"]),
                task_id=str(event["task_id"]),
                task_path=str(event["task_path"]),
                status=str(event["status"]),
                attempt=int(event["attempt"]),
                at=self._datetime(event.get("at")),
            )
            for event in answer.get("events") or []
        ]
        return EventPage(events=events, cursor=str(answer["cursor"]))

    # -- system checks -------------------------------------------------------------------

    def check(self, **kwargs: Any) -> list[Any]:
        messages: list[Any] = list(super().check(**kwargs))
        where = f"TASKS[{self.alias!r}]"
        if not self.url:
            messages.append(
                checks.Error(
                    f"{where}['OPTIONS']['url'] is not set.",
                    hint="The wasmtasks server, e.g. 'http://127.0.0.1:8000'.",
                    obj=where,
                    id="wasmtasks.E001",
                )
            )
            return messages
        if not self.token:
            messages.append(
                checks.Error(
                    f"{where}['OPTIONS']['token'] is not set.",
                    hint="Create one with `wasmtasks token create TENANT --role member`.",
                    obj=where,
                    id="wasmtasks.E002",
                )
            )
            return messages
        try:
            whoami = self.api.get("/whoami")
        except ServerUnavailable as error:
            messages.append(
                checks.Error(
                    f"The wasmtasks server is unreachable: {error.detail}",
                    hint=f"Start it (`wasmtasks serve`) or fix {where}['OPTIONS']['url']. "
                    "Silence with SILENCED_SYSTEM_CHECKS = ['wasmtasks.E003'] where the "
                    "server is expected to be down (a build step, say).",
                    obj=where,
                    id="wasmtasks.E003",
                )
            )
            return messages
        except (AuthenticationFailed, Forbidden) as error:
            messages.append(
                checks.Error(
                    f"The wasmtasks server refused the token: {error.detail}",
                    hint="Create a token with `wasmtasks token create TENANT --role member`.",
                    obj=where,
                    id="wasmtasks.E004",
                )
            )
            return messages
        except WasmTasksError as error:
            messages.append(
                checks.Error(
                    f"The wasmtasks server answered with an error: {error.detail}",
                    obj=where,
                    id="wasmtasks.E005",
                )
            )
            return messages
        role = str(whoami.get("role", ""))
        if role not in ENQUEUE_ROLES:
            messages.append(
                checks.Warning(
                    f"The token's role is {role!r}: it cannot enqueue.",
                    hint="Enqueueing needs the member role (or admin).",
                    obj=where,
                    id="wasmtasks.W001",
                )
            )
        messages.extend(self._check_queues(where))
        messages.extend(self._check_stubs(where))
        return messages

    def _check_queues(self, where: str) -> list[Any]:
        try:
            queues = self.api.get("/queues")
        except WasmTasksError:
            return []
        configured = {str(q["queue_name"]) for q in queues if q.get("configured")}
        return [
            checks.Warning(
                f"Queue {queue!r} is in {where}['QUEUES'] but not configured on the server: "
                "it refuses jobs for it.",
                hint=f"Add [queues.{queue}] to the server's wasmtasks.toml.",
                obj=where,
                id="wasmtasks.W002",
            )
            for queue in sorted(self.queues)
            if queue not in configured
        ]

    def _check_stubs(self, where: str) -> list[Any]:
        import inspect

        messages: list[Any] = []
        for task_path, alias, stub in declared_stubs():
            if alias != self.alias:
                continue
            name = f"{stub.__module__}.{stub.__qualname__}"
            kind, value = self._lookup(task_path, network=True)
            if kind == "missing":
                messages.append(
                    checks.Error(
                        f"{name} declares {task_path}, which the server does not have: {value}",
                        obj=where,
                        id="wasmtasks.E006",
                    )
                )
                continue
            if kind != "found" or not isinstance(value, TaskDefinition):
                continue
            if value.parameters is None:
                continue
            stub_params = [
                (p.name, p.default is inspect.Parameter.empty)
                for p in inspect.signature(stub).parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
            server_params = [(p.name, p.required) for p in value.parameters]
            if stub_params != server_params:
                messages.append(
                    checks.Warning(
                        f"The stub {name} does not match {task_path} on the server.",
                        hint=f"The server's parameters (name, required): {server_params}; "
                        f"the stub's: {stub_params}.",
                        obj=where,
                        id="wasmtasks.W003",
                    )
                )
        return messages
