"""The backend against a real ``wasmtasks serve``: results, failures, retries,
deferral, priority, refusals, async, signals."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.tasks import TaskResultStatus, default_task_backend, task, task_backends
from django.tasks.base import TaskResult
from django.tasks.exceptions import (
    InvalidTask,
    TaskResultDoesNotExist,
    TaskResultMismatch,
)
from django.tasks.signals import task_enqueued
from django.test import override_settings
from django.utils.module_loading import import_string

from tests import wasm_tasks
from tests.helpers import cancel, soon
from tests.server import TENANT, NtfyReceiver, WasmtasksServer
from wasmtasks_django import (
    QuotaExceeded,
    TaskRefused,
    WasmTask,
    WasmTaskResult,
    WasmTasksBackend,
    wasm_task,
)
from wasmtasks_django import tasks as tasks_module
from wasmtasks_django.client import ApiClient

WAIT = 20.0


def finished(result: TaskResult[Any, Any]) -> WasmTaskResult[Any, Any]:
    assert isinstance(result, WasmTaskResult)
    result.refresh(wait=WAIT)
    assert result.is_finished, result
    return result


def test_backend_is_configured() -> None:
    backend = task_backends["default"]
    assert isinstance(backend, WasmTasksBackend)
    assert default_task_backend.alias == "default"
    assert backend.supports_defer
    assert backend.supports_priority
    assert backend.supports_get_result
    assert not backend.supports_async_task
    assert backend.queues == {"default", "emails"}


def test_enqueue_runs_to_successful_with_the_return_value() -> None:
    result = wasm_tasks.add.enqueue(2, b=40)

    assert isinstance(result, WasmTaskResult)
    assert result.status == TaskResultStatus.READY
    assert result.task == wasm_tasks.add
    assert result.args == [2]
    assert result.kwargs == {"b": 40}
    assert result.backend == "default"
    assert result.enqueued_at is not None
    assert result.started_at is None
    assert result.attempts == 0
    with pytest.raises(ValueError, match="Task has not finished yet"):
        result.return_value  # noqa: B018

    assert finished(result).status == TaskResultStatus.SUCCESSFUL
    assert result.server_status == "SUCCESSFUL"
    assert result.return_value == 42
    assert result.errors == []
    assert result.attempts == 1
    assert len(result.worker_ids) == 1
    assert result.started_at is not None
    assert result.last_attempted_at is not None
    assert result.finished_at is not None
    assert result.enqueued_at is not None
    assert result.started_at >= result.enqueued_at
    assert result.finished_at >= result.started_at
    assert result.attempt_log[0]["status"] == "SUCCESSFUL"
    assert result.component_digest


def test_get_result_returns_the_job_with_its_task() -> None:
    result = finished(wasm_tasks.add.enqueue(1, 2))
    fetched = default_task_backend.get_result(result.id)

    assert isinstance(fetched, WasmTaskResult)
    assert fetched == result
    assert fetched.task == wasm_tasks.add
    assert fetched.task.func is wasm_tasks.add.func
    assert wasm_tasks.add.get_result(result.id) == result


def test_a_task_failing_with_its_own_error_class_and_traceback() -> None:
    # welcome.welcome fails for an address without "@"; the emails queue allows 3
    # attempts (the server's wasmtasks.toml), each recorded.
    result = finished(wasm_tasks.welcome.enqueue("nobody", "ann"))

    assert result.status == TaskResultStatus.FAILED
    with pytest.raises(ValueError, match="Task failed"):
        result.return_value  # noqa: B018
    assert result.attempts == 3
    assert [error.exception_class_path for error in result.errors] == ["welcome.WelcomeError"] * 3
    assert result.errors[-1].traceback.startswith(
        "welcome.WelcomeError: invalid email address \"nobody\": it has no '@'"
    )
    # Django resolves exception_class by import; a guest's error class is no
    # Python class, so this is an ImportError, as Django's contract has it.
    with pytest.raises(ImportError):
        result.errors[0].exception_class  # noqa: B018


def test_retry_policy_shows_in_attempts_and_errors() -> None:
    # flaky.until_attempt fails until attempt n; the task allows 5 attempts.
    result = finished(wasm_tasks.until_attempt.enqueue(3))

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "succeeded on attempt 3"
    assert result.attempts == 3
    assert len(result.worker_ids) == 3
    assert [e.exception_class_path for e in result.errors] == ["flaky.TransientError"] * 2
    assert "attempt 1 failed" in result.errors[0].traceback
    assert "attempt 2 failed" in result.errors[1].traceback
    assert [a["status"] for a in result.attempt_log] == ["FAILED", "FAILED", "SUCCESSFUL"]
    assert result.last_attempted_at is not None
    assert result.started_at is not None
    assert result.last_attempted_at > result.started_at


def test_run_after_defers_the_job() -> None:
    run_after = soon(2.5)  # time to enqueue and read them first, even on a busy machine
    result = wasm_tasks.add.using(run_after=run_after).enqueue(1, 1)

    assert result.task.run_after == run_after
    assert result.status == TaskResultStatus.READY
    result.refresh()
    assert result.status == TaskResultStatus.READY  # not yet

    assert finished(result).status == TaskResultStatus.SUCCESSFUL
    assert result.started_at is not None
    assert result.started_at >= run_after
    assert default_task_backend.get_result(result.id).task.run_after == run_after


def test_priority_orders_jobs_available_together() -> None:
    # The test server runs one attempt at a time: jobs that become runnable at the
    # same moment start highest priority first.
    run_after = soon(2.5)  # time to enqueue and read them first, even on a busy machine
    priorities = [-5, 50, 0, 10]
    results = [
        wasm_tasks.add.using(priority=priority, run_after=run_after).enqueue(priority, 0)
        for priority in priorities
    ]
    for result in results:
        finished(result)
        assert result.task.priority == result.args[0]

    started = sorted(results, key=lambda r: (r.started_at, r.attempt_log[0]["started_at"]))
    assert [r.return_value for r in started] == [50, 10, 0, -5]


def test_component_defaults_apply_unless_chosen() -> None:
    # welcome declares queue "emails" and priority 10.
    assert wasm_tasks.welcome.queue_name == "emails"
    assert wasm_tasks.welcome.priority == 10
    result = wasm_tasks.welcome.enqueue("ada@example.com", "ada")
    assert (result.task.queue_name, result.task.priority) == ("emails", 10)

    chosen = wasm_tasks.welcome.using(priority=-3).enqueue("ada@example.com", "ada")
    assert (chosen.task.queue_name, chosen.task.priority) == ("emails", -3)

    finished(result)
    assert result.return_value == {
        "to": "ada@example.com",
        "subject": "Welcome, ada!",
        "body": "Hi ada,\n\nyour account is ready. We are glad to have you.\n\nThe team",
    }
    # Options given to wasm_task() are sent too.
    urgent = wasm_tasks.add_urgently.enqueue(1, 2)
    assert (urgent.task.queue_name, urgent.task.priority) == ("emails", 5)


def test_a_queue_the_server_does_not_configure_is_refused() -> None:
    with override_settings(
        TASKS={
            "default": {
                "BACKEND": "wasmtasks_django.WasmTasksBackend",
                "QUEUES": ["default", "emails", "reports"],
                "OPTIONS": default_task_backend.options,
            }
        }
    ):
        reports = wasm_task("arith.add", queue_name="reports")
        with pytest.raises(InvalidTask, match="queue `reports` is not configured") as refused:
            reports.enqueue(1, 2)
    assert isinstance(refused.value, TaskRefused)
    assert refused.value.slug == "invalid-request"
    assert refused.value.status == 422


def test_a_queue_missing_from_queues_is_refused_by_django() -> None:
    with pytest.raises(InvalidTask, match=r"Queue 'reports' is not valid for backend\."):
        wasm_tasks.add.using(queue_name="reports")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((1,), {}, "add() missing 1 required argument: 'b'"),
        (("x", 1), {}, 'argument \'a\' of add(): "x" is not of type "integer"'),
        ((1, 2), {"c": 3}, "add() got an unexpected keyword argument 'c'"),
        ((1, 2, 3), {}, "add() takes 2 positional arguments but 3 were given"),
    ],
)
def test_bad_arguments_are_refused_naming_the_parameter(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TaskRefused) as refused:
        wasm_tasks.add.enqueue(*args, **kwargs)
    assert str(refused.value) == message
    assert isinstance(refused.value, InvalidTask)


def test_arguments_json_cannot_hold_are_a_type_error_as_in_django() -> None:
    with pytest.raises(TypeError, match="Unsupported type"):
        wasm_tasks.add.enqueue(object(), 1)


def test_unknown_ids_do_not_exist() -> None:
    for result_id in ["nonexistent", "01a22d37-f9b4-761c-b745-537be798e1da", "a/b?c"]:
        with pytest.raises(TaskResultDoesNotExist):
            default_task_backend.get_result(result_id)
        with pytest.raises(TaskResultDoesNotExist):
            wasm_tasks.add.get_result(result_id)


def test_another_tasks_result_is_a_mismatch() -> None:
    result = wasm_tasks.add.enqueue(1, 1)
    with pytest.raises(TaskResultMismatch, match="Task does not match"):
        wasm_tasks.total.get_result(result.id)
    # The same task path declared another way is the same task.
    assert wasm_task("arith.add").get_result(result.id).id == result.id


def test_validate_task_checks_the_server_has_the_task() -> None:
    with pytest.raises(InvalidTask, match=r"component `arith` has no task `nope`"):
        wasm_task("arith.nope")
    with pytest.raises(InvalidTask, match=r"no component `nope` has been uploaded"):
        wasm_task("nope.task")
    with pytest.raises(InvalidTask, match="not a wasm task path"):
        wasm_task("arith")
    with pytest.raises(InvalidTask, match="pinning"):
        wasm_task("arith@abc.add")


def test_python_functions_are_not_wasm_tasks() -> None:
    with pytest.raises(InvalidTask, match="is a Python function"):
        task()(wasm_tasks.plain_python_function)


def test_module_path_is_importable() -> None:
    add = wasm_tasks.add
    assert add.name == "add"
    assert add.module_path == "wasmtasks_django.components.arith.add"
    assert import_string(add.module_path) == add
    assert import_string(add.module_path) is import_string(add.module_path)
    assert isinstance(
        import_string("wasmtasks_django.components.notify.send_notification"), WasmTask
    )
    # A stub's task is the same task as the plain declaration.
    assert wasm_tasks.send_notification.module_path == (
        "wasmtasks_django.components.notify.send_notification"
    )
    assert wasm_tasks.send_notification == wasm_task("notify.send_notification")
    assert wasm_tasks.send_notification.stub is not None
    with pytest.raises(ImportError):
        import_string("wasmtasks_django.components.arith.nope")


def test_an_async_stub_is_refused_as_django_refuses_async_tasks() -> None:
    # supports_async_task is False: no Python coroutine ever runs for a wasm task.
    async def send_notification(message: str, title: str | None = None) -> int:
        raise NotImplementedError

    declared = len(tasks_module.declared_stubs())
    with pytest.raises(InvalidTask, match=r"^Backend does not support async Tasks\.$"):
        wasm_task("notify.send_notification")(send_notification)
    assert len(tasks_module.declared_stubs()) == declared


def test_calling_a_wasm_task_in_python_is_refused() -> None:
    with pytest.raises(NotImplementedError, match="runs as a WebAssembly component"):
        wasm_tasks.add.call(1, 2)
    with pytest.raises(TypeError, match="is a task, not a function"):
        wasm_tasks.add(1)  # type: ignore[arg-type]


def test_task_enqueued_is_sent_as_django_sends_it() -> None:
    received: list[tuple[Any, TaskResult[Any, Any]]] = []

    def receiver(sender: Any, task_result: TaskResult[Any, Any], **kwargs: Any) -> None:
        received.append((sender, task_result))

    task_enqueued.connect(receiver)
    try:
        result = wasm_tasks.add.enqueue(3, 4)
    finally:
        task_enqueued.disconnect(receiver)
    assert received == [(WasmTasksBackend, result)]


def test_notify_posts_to_its_configured_url(ntfy: NtfyReceiver) -> None:
    result = finished(wasm_tasks.send_notification.enqueue("Deploy finished", title="CI"))

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 200
    [received] = ntfy.received
    assert (received.path, received.title, received.body) == ("/alerts", "CI", "Deploy finished")


def test_notify_is_retried_when_the_receiver_fails(ntfy: NtfyReceiver) -> None:
    ntfy.fail_next.append(503)
    result = finished(wasm_tasks.send_notification.enqueue("again"))

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.attempts == 2
    assert [e.exception_class_path for e in result.errors] == ["wasmtasks_guest.http.StatusError"]
    assert result.errors[0].traceback.startswith(
        "wasmtasks_guest.http.StatusError: the server answered HTTP 503\n"
    )
    assert len(ntfy.received) == 2


def test_a_cancelled_job_reads_as_failed(wasmtasks_server: WasmtasksServer) -> None:
    result = wasm_tasks.add.using(run_after=soon(3600)).enqueue(1, 1)
    cancel(wasmtasks_server, result.id)
    result.refresh()

    assert result.status == TaskResultStatus.FAILED
    assert result.is_finished
    assert result.server_status == "CANCELLED"
    assert result.is_cancelled
    assert result.errors == []
    with pytest.raises(ValueError, match="Task failed"):
        result.return_value  # noqa: B018


def test_a_quota_refusal_names_the_quota_and_stores_nothing(
    wasmtasks_server: WasmtasksServer,
) -> None:
    wasmtasks_server.cli("tenant", "set", TENANT, "--max-queued", "0")
    try:
        time.sleep(1.2)  # the server reads a tenant's quotas at most once a second
        with pytest.raises(QuotaExceeded) as refused:
            wasm_tasks.add.enqueue(1, 2)
        error = refused.value
        assert (error.status, error.slug, error.limit) == (429, "quota-exceeded", "max_queued")
        assert error.value == "0"
        assert "max_queued" in str(error)
    finally:
        wasmtasks_server.cli("tenant", "set", TENANT, "--max-queued", "none")
        time.sleep(1.2)
    assert finished(wasm_tasks.add.enqueue(1, 2)).return_value == 3


def test_refresh_updates_every_attribute() -> None:
    result = wasm_tasks.add.enqueue(5, 5)
    fetched = default_task_backend.get_result(result.id)
    fetched.refresh()
    finished(result)
    fetched.refresh()
    assert fetched.status == result.status == TaskResultStatus.SUCCESSFUL
    assert fetched.return_value == 10
    assert fetched.worker_ids == result.worker_ids
    assert fetched.finished_at == result.finished_at


# -- async -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_aenqueue_aget_result_and_arefresh() -> None:
    result = await wasm_tasks.add.aenqueue(20, 22)
    assert isinstance(result, WasmTaskResult)
    assert result.status == TaskResultStatus.READY

    await result.arefresh(wait=WAIT)
    assert result.is_finished
    assert result.return_value == 42  # SUCCESSFUL, or this raises

    fetched = await default_task_backend.aget_result(result.id)
    assert fetched == result
    assert (await wasm_tasks.add.aget_result(result.id)).id == result.id


@pytest.mark.anyio
async def test_async_refusals_and_missing_results() -> None:
    with pytest.raises(TaskRefused, match=r"add\(\) missing 1 required argument: 'b'"):
        await wasm_tasks.add.aenqueue(1)
    with pytest.raises(TaskResultDoesNotExist):
        await default_task_backend.aget_result("nonexistent")
    result = await wasm_tasks.add.aenqueue(1, 1)
    with pytest.raises(TaskResultMismatch):
        await wasm_tasks.total.aget_result(result.id)


@pytest.mark.anyio
async def test_aenqueue_sends_task_enqueued() -> None:
    received: list[TaskResult[Any, Any]] = []

    def receiver(sender: Any, task_result: TaskResult[Any, Any], **kwargs: Any) -> None:
        received.append(task_result)

    task_enqueued.connect(receiver)
    try:
        result = await wasm_tasks.welcome.aenqueue("bea@example.com", "bea")
    finally:
        task_enqueued.disconnect(receiver)
    assert received == [result]
    assert result.task.queue_name == "emails"


@pytest.mark.anyio
async def test_the_async_variants_never_use_the_sync_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # aenqueue/aget_result/arefresh are natively async (httpx.AsyncClient), not
    # Django's default sync_to_async(enqueue): the blocking client is never touched.
    def blocking(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the sync HTTP client was used")

    monkeypatch.setattr(ApiClient, "request", blocking)
    fresh = wasm_task("arith.fib")  # declared in the event loop: reads the cache only
    result = await fresh.aenqueue(10)
    await result.arefresh(wait=WAIT)
    fetched = await default_task_backend.aget_result(result.id)

    assert fetched.return_value == 55
    with pytest.raises(AssertionError, match="sync HTTP client"):
        fresh.enqueue(10)
