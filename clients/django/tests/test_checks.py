"""``check()``: the backend's system checks, run through Django's check framework."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import checks
from django.tasks import default_task_backend
from django.test import override_settings

from tests.server import WasmtasksServer
from wasmtasks_django import tasks as tasks_module
from wasmtasks_django import wasm_task


@pytest.fixture(autouse=True)
def _only_this_tests_stubs() -> Iterator[None]:
    saved = list(tasks_module._stubs)
    yield
    tasks_module._stubs[:] = saved


def backend_settings(**options: Any) -> dict[str, Any]:
    base = dict(default_task_backend.options)
    base.update(options)
    queues = base.pop("QUEUES", ["default", "emails"])
    return {
        "default": {
            "BACKEND": "wasmtasks_django.WasmTasksBackend",
            "QUEUES": queues,
            "OPTIONS": base,
        }
    }


def ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [m.id or "" for m in messages]


def run_checks() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks() if (m.id or "").startswith("wasmtasks.")]


def test_a_working_setup_has_no_messages() -> None:
    assert default_task_backend.check() == []
    assert run_checks() == []


def test_an_unreachable_server_is_an_error() -> None:
    with override_settings(TASKS=backend_settings(url="http://127.0.0.1:9")):
        messages = run_checks()
    assert ids(messages) == ["wasmtasks.E003"]
    assert messages[0].level == checks.ERROR
    assert "unreachable" in messages[0].msg


def test_a_bad_token_is_an_error() -> None:
    with override_settings(TASKS=backend_settings(token="wt_bad_token")):
        messages = run_checks()
    assert ids(messages) == ["wasmtasks.E004"]
    assert "unknown token" in messages[0].msg


def test_missing_url_or_token_are_errors() -> None:
    with override_settings(TASKS=backend_settings(url="")):
        assert ids(run_checks()) == ["wasmtasks.E001"]
    with override_settings(TASKS=backend_settings(token="")):
        assert ids(run_checks()) == ["wasmtasks.E002"]


def test_a_reader_token_cannot_enqueue(wasmtasks_server: WasmtasksServer) -> None:
    with override_settings(TASKS=backend_settings(token=wasmtasks_server.reader_token)):
        messages = run_checks()
    assert ids(messages) == ["wasmtasks.W001"]


def test_queues_the_server_does_not_configure_are_warned_about() -> None:
    with override_settings(TASKS=backend_settings(QUEUES=["default", "emails", "reports"])):
        messages = run_checks()
    assert ids(messages) == ["wasmtasks.W002"]
    assert "'reports'" in messages[0].msg


def test_a_stub_that_differs_from_the_server_is_warned_about() -> None:
    @wasm_task("arith.add")
    def add(a: int, c: int) -> int:
        raise NotImplementedError

    @wasm_task("notify.send_notification")
    def send_notification(message: str, title: str | None = None) -> int:
        raise NotImplementedError

    messages = run_checks()
    assert ids(messages) == ["wasmtasks.W003"]
    assert "add" in messages[0].msg
