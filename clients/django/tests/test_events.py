"""``manage.py wasmtasks_events``: Django's task signals from the server's events."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.tasks import TaskResultStatus, task_backends
from django.tasks.base import TaskResult
from django.tasks.signals import task_finished, task_started
from django.test import override_settings

from tests import wasm_tasks
from wasmtasks_django import WasmTaskResult, WasmTasksBackend
from wasmtasks_django.models import EventCursor

# Transactional, as the command runs (autocommit): on PostgreSQL the server
# withholds events while any older transaction is open on the same cluster, and a
# test wrapped in a transaction that saved the cursor would be one.
pytestmark = pytest.mark.django_db(transaction=True)

Signalled = list[tuple[str, Any, "TaskResult[Any, Any]"]]


@pytest.fixture
def signalled() -> Iterator[Signalled]:
    seen: Signalled = []

    def started(sender: Any, task_result: TaskResult[Any, Any], **kwargs: Any) -> None:
        seen.append(("started", sender, task_result))

    def finished(sender: Any, task_result: TaskResult[Any, Any], **kwargs: Any) -> None:
        seen.append(("finished", sender, task_result))

    task_started.connect(started)
    task_finished.connect(finished)
    yield seen
    task_started.disconnect(started)
    task_finished.disconnect(finished)


def follow(*args: str) -> str:
    out = io.StringIO()
    call_command("wasmtasks_events", "--once", *args, stdout=out)
    return out.getvalue()


def follow_until(done: Callable[[], bool], timeout: float = 10.0) -> str:
    """``follow()``, again until ``done()``: on PostgreSQL an event is readable once
    every older transaction of the cluster has ended, so the last events of a job
    that has just finished may come a moment later (README, "Signals")."""
    deadline = time.monotonic() + timeout
    output = follow()
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)
        output += follow()
    return output


def of(signalled: Signalled, job_id: str) -> list[tuple[str, str, int]]:
    return [
        (name, str(result.status), result.attempts)
        for name, _, result in signalled
        if result.id == job_id
    ]


def test_the_command_sends_task_started_and_task_finished(signalled: Signalled) -> None:
    follow("--from-now")
    result = wasm_tasks.add.enqueue(2, 3)
    result.refresh(wait=20)

    output = follow_until(lambda: len(of(signalled, result.id)) >= 2)

    assert "handled" in output
    assert of(signalled, result.id) == [("started", "RUNNING", 1), ("finished", "SUCCESSFUL", 1)]
    for _, sender, task_result in signalled:
        assert sender is WasmTasksBackend
        assert isinstance(task_result, WasmTaskResult)
    started, finished = (r for _, _, r in signalled if r.id == result.id)
    assert started.task == wasm_tasks.add
    assert started.finished_at is None
    with pytest.raises(ValueError, match="not finished"):
        started.return_value  # noqa: B018
    assert finished.return_value == 5
    assert finished.finished_at == result.finished_at


def test_each_attempt_starts_and_only_the_end_finishes(signalled: Signalled) -> None:
    follow("--from-now")
    flaky = wasm_tasks.until_attempt.enqueue(2)
    failing = wasm_tasks.welcome.enqueue("nobody", "ann")
    for result in (flaky, failing):
        result.refresh(wait=20)

    follow_until(lambda: len(of(signalled, flaky.id)) >= 3 and len(of(signalled, failing.id)) >= 4)

    assert of(signalled, flaky.id) == [
        ("started", "RUNNING", 1),
        ("started", "RUNNING", 2),
        ("finished", "SUCCESSFUL", 2),
    ]
    assert of(signalled, failing.id) == [
        ("started", "RUNNING", 1),
        ("started", "RUNNING", 2),
        ("started", "RUNNING", 3),
        ("finished", "FAILED", 3),
    ]
    finished = next(r for n, _, r in signalled if r.id == failing.id and n == "finished")
    assert [e.exception_class_path for e in finished.errors] == ["welcome.WelcomeError"] * 3
    second_start = [r for n, _, r in signalled if r.id == flaky.id and n == "started"][1]
    assert [e.exception_class_path for e in second_start.errors] == ["flaky.TransientError"]


def test_a_restart_resumes_after_the_saved_cursor(signalled: Signalled) -> None:
    follow("--from-now")
    first = wasm_tasks.add.enqueue(1, 1)
    first.refresh(wait=20)
    follow_until(lambda: len(of(signalled, first.id)) >= 2)
    saved = EventCursor.load("default")
    assert saved is not None

    second = wasm_tasks.add.enqueue(2, 2)
    second.refresh(wait=20)
    signalled.clear()
    # Each run of the command is a new one: it starts from the table.
    follow_until(lambda: len(of(signalled, second.id)) >= 2)

    assert {r.id for _, _, r in signalled} == {second.id}
    assert EventCursor.load("default") != saved
    signalled.clear()
    follow()
    assert signalled == []


def test_a_failing_receiver_does_not_stop_the_stream(signalled: Signalled) -> None:
    def broken(sender: Any, task_result: TaskResult[Any, Any], **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    follow("--from-now")
    result = wasm_tasks.add.enqueue(4, 4)
    result.refresh(wait=20)
    task_started.connect(broken)
    try:
        follow_until(lambda: len(of(signalled, result.id)) >= 2)
    finally:
        task_started.disconnect(broken)
    assert of(signalled, result.id) == [("started", "RUNNING", 1), ("finished", "SUCCESSFUL", 1)]


def test_a_cancelled_job_finishes_as_failed(signalled: Signalled, wasmtasks_server: Any) -> None:
    from tests.helpers import cancel, soon

    follow("--from-now")
    result = wasm_tasks.add.using(run_after=soon(3600)).enqueue(1, 2)
    cancel(wasmtasks_server, result.id)
    follow_until(lambda: len(of(signalled, result.id)) >= 1)
    [(name, _, task_result)] = [s for s in signalled if s[2].id == result.id]
    assert name == "finished"
    assert task_result.status == TaskResultStatus.FAILED
    assert isinstance(task_result, WasmTaskResult)
    assert task_result.is_cancelled


def test_the_command_needs_a_wasmtasks_backend() -> None:
    with (
        override_settings(
            TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
        ),
        pytest.raises(CommandError, match="not a wasmtasks backend"),
    ):
        follow()
    assert isinstance(task_backends["default"], WasmTasksBackend)


def test_an_unreachable_server_is_a_command_error() -> None:
    with (
        override_settings(
            TASKS={
                "default": {
                    "BACKEND": "wasmtasks_django.WasmTasksBackend",
                    "OPTIONS": {"url": "http://127.0.0.1:9", "token": "wt_x_y"},
                }
            }
        ),
        pytest.raises(CommandError, match="cannot reach the wasmtasks server"),
    ):
        follow("--name", "elsewhere")
