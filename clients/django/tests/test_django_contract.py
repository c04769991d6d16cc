"""Django 6.0's own backend tests (``tests/tasks/``), adapted to this backend.

Each test keeps the name it has in Django's suite (``test_tasks.py``,
``test_dummy_backend.py``, ``test_immediate_backend.py``,
``test_custom_backend.py``), so the two can be read side by side. Django's tests
use in-process Python tasks; here every task is a wasm task on the real test
server (``tests/wasm_tasks.py``). Those that cannot apply are listed, with why,
in the README ("Django's own tests").
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from unittest import mock

from django.core.management import call_command
from django.db import transaction
from django.tasks import (
    DEFAULT_TASK_QUEUE_NAME,
    Task,
    TaskResultStatus,
    default_task_backend,
    task,
    task_backends,
)
from django.tasks.base import TASK_MAX_PRIORITY, TASK_MIN_PRIORITY, TaskResult
from django.tasks.exceptions import (
    InvalidTask,
    InvalidTaskBackend,
    TaskResultDoesNotExist,
    TaskResultMismatch,
)
from django.test import SimpleTestCase, TestCase, TransactionTestCase, override_settings
from django.utils import timezone
from django.utils.module_loading import import_string

from tests import wasm_tasks as test_tasks
from tests.helpers import soon
from wasmtasks_django import WasmTaskResult, WasmTasksBackend, wasm_task
from wasmtasks_django import tasks as tasks_module

WAIT = 20.0


def finish(result: TaskResult[Any, Any]) -> None:
    """``refresh()``, once the job has finished (a long poll of at most WAIT)."""
    assert isinstance(result, WasmTaskResult)
    result.refresh(wait=WAIT)


async def afinish(result: TaskResult[Any, Any]) -> None:
    assert isinstance(result, WasmTaskResult)
    await result.arefresh(wait=WAIT)


def follow_events(output: list[str], job_id: str, lines: int, timeout: float = 10.0) -> None:
    """``manage.py wasmtasks_events --once``, again until ``output`` (the captured
    log) has ``lines`` lines about ``job_id``: on PostgreSQL an event is readable
    once every older transaction of the cluster has ended, so the last events of a
    job that has just finished may come a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        call_command("wasmtasks_events", "--once", stdout=io.StringIO())
        if sum(job_id in line for line in output) >= lines or time.monotonic() > deadline:
            return
        time.sleep(0.1)


def backends(**queues: list[str]) -> dict[str, dict[str, object]]:
    """TASKS with the test server as "default", and more aliases of it."""
    options = dict(task_backends["default"].options)
    return {
        alias: {
            "BACKEND": "wasmtasks_django.WasmTasksBackend",
            "QUEUES": alias_queues,
            "OPTIONS": options,
        }
        for alias, alias_queues in {"default": ["default", "emails"], **queues}.items()
    }


class TaskTestCase(SimpleTestCase):
    """From ``test_tasks.py``."""

    def test_using_correct_backend(self) -> None:
        self.assertEqual(default_task_backend, task_backends["default"])
        self.assertIsInstance(task_backends["default"], WasmTasksBackend)

    def test_task_decorator(self) -> None:
        self.assertIsInstance(test_tasks.add, Task)
        self.assertIsInstance(test_tasks.send_notification, Task)

    def test_enqueue_task(self) -> None:
        result = test_tasks.add.enqueue(1, 2)

        self.assertEqual(result.status, TaskResultStatus.READY)
        self.assertEqual(result.task, test_tasks.add)
        self.assertEqual(result.args, [1, 2])
        self.assertEqual(result.kwargs, {})

    async def test_enqueue_task_async(self) -> None:
        result = await test_tasks.add.aenqueue(1, b=2)

        self.assertEqual(result.status, TaskResultStatus.READY)
        self.assertEqual(result.task, test_tasks.add)
        self.assertEqual(result.args, [1])
        self.assertEqual(result.kwargs, {"b": 2})

    def test_enqueue_with_invalid_argument(self) -> None:
        with self.assertRaisesMessage(TypeError, "Unsupported type"):
            test_tasks.add.enqueue(datetime.now(), 1)

    async def test_aenqueue_with_invalid_argument(self) -> None:
        with self.assertRaisesMessage(TypeError, "Unsupported type"):
            await test_tasks.add.aenqueue(datetime.now(), 1)

    def test_using_priority(self) -> None:
        self.assertEqual(test_tasks.add.priority, 0)
        self.assertEqual(test_tasks.add.using(priority=1).priority, 1)
        self.assertEqual(test_tasks.add.priority, 0)

    def test_using_queue_name(self) -> None:
        self.assertEqual(test_tasks.add.queue_name, DEFAULT_TASK_QUEUE_NAME)
        self.assertEqual(test_tasks.add.using(queue_name="emails").queue_name, "emails")
        self.assertEqual(test_tasks.add.queue_name, DEFAULT_TASK_QUEUE_NAME)

    def test_using_run_after(self) -> None:
        now = timezone.now()

        self.assertIsNone(test_tasks.add.run_after)
        self.assertEqual(test_tasks.add.using(run_after=now).run_after, now)
        self.assertIsNone(test_tasks.add.run_after)

    def test_using_unknown_backend(self) -> None:
        self.assertEqual(test_tasks.add.backend, "default")

        with self.assertRaisesMessage(
            InvalidTaskBackend, "The connection 'unknown' doesn't exist."
        ):
            test_tasks.add.using(backend="unknown")

    def test_using_missing_backend(self) -> None:
        with (
            override_settings(TASKS={**backends(), "missing": {"BACKEND": "does.not.exist"}}),
            self.assertRaisesMessage(
                InvalidTaskBackend,
                "Could not find backend 'does.not.exist': No module named 'does'",
            ),
        ):
            test_tasks.add.using(backend="missing")

    def test_using_creates_new_instance(self) -> None:
        new_task = test_tasks.add.using()

        self.assertEqual(new_task, test_tasks.add)
        self.assertIsNot(new_task, test_tasks.add)

    def test_chained_using(self) -> None:
        now = timezone.now()

        run_after_task = test_tasks.add.using(run_after=now)
        self.assertEqual(run_after_task.run_after, now)

        priority_task = run_after_task.using(priority=10)
        self.assertEqual(priority_task.priority, 10)
        self.assertEqual(priority_task.run_after, now)

        self.assertEqual(run_after_task.priority, 0)

    async def test_refresh_result(self) -> None:
        # Deferred an hour, so nothing changes between the reads.
        result = await test_tasks.add.using(run_after=soon(3600)).aenqueue(1, 1)

        original_result = dataclasses.asdict(result)

        await self.async_refresh(result)
        self.assertEqual(dataclasses.asdict(result), original_result)

        await result.arefresh()
        self.assertEqual(dataclasses.asdict(result), original_result)

    @staticmethod
    async def async_refresh(result: object) -> None:
        from asgiref.sync import sync_to_async

        await sync_to_async(result.refresh)()  # type: ignore[attr-defined]

    def test_naive_datetime(self) -> None:
        with self.assertRaisesMessage(InvalidTask, "run_after must be an aware datetime."):
            test_tasks.add.using(run_after=datetime.now())

    def test_invalid_priority(self) -> None:
        message = (
            f"priority must be a whole number between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY}."
        )
        for priority in (-101, 101, 3.1):
            with self.assertRaisesMessage(InvalidTask, message):
                test_tasks.add.using(priority=priority)  # type: ignore[arg-type]

        test_tasks.add.using(priority=100)
        test_tasks.add.using(priority=-100)
        test_tasks.add.using(priority=0)

    def test_unknown_queue_name(self) -> None:
        with self.assertRaisesMessage(InvalidTask, "Queue 'queue-2' is not valid for backend."):
            test_tasks.add.using(queue_name="queue-2")
        # Validation is bypassed when the backend QUEUES is an empty list.
        with override_settings(TASKS=backends(open=[])):
            self.assertEqual(
                test_tasks.add.using(queue_name="queue-2", backend="open").queue_name, "queue-2"
            )

    def test_call_task(self) -> None:
        # Adapted: a wasm task runs on the server only.
        with self.assertRaisesMessage(NotImplementedError, "cannot be called in this Python"):
            test_tasks.add.call(1, 2)

    async def test_call_task_async(self) -> None:
        with self.assertRaisesMessage(NotImplementedError, "cannot be called in this Python"):
            await test_tasks.add.acall(1, 2)

    def test_get_result(self) -> None:
        result = default_task_backend.enqueue(
            test_tasks.add.using(run_after=soon(3600)), [1, 2], {}
        )

        new_result = test_tasks.add.get_result(result.id)

        self.assertEqual(result, new_result)

    async def test_get_result_async(self) -> None:
        result = await default_task_backend.aenqueue(
            test_tasks.add.using(run_after=soon(3600)), [1, 2], {}
        )

        new_result = await test_tasks.add.aget_result(result.id)

        self.assertEqual(result, new_result)

    async def test_get_missing_result(self) -> None:
        with self.assertRaises(TaskResultDoesNotExist):
            await self.sync_get("123")

        with self.assertRaises(TaskResultDoesNotExist):
            await test_tasks.add.aget_result("123")

    @staticmethod
    async def sync_get(result_id: str) -> object:
        from asgiref.sync import sync_to_async

        return await sync_to_async(test_tasks.add.get_result)(result_id)

    def test_get_incorrect_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.total, [[1.0]], {})
        with self.assertRaisesMessage(TaskResultMismatch, "Task does not match"):
            test_tasks.add.get_result(result.id)

    async def test_get_incorrect_result_async(self) -> None:
        result = await default_task_backend.aenqueue(test_tasks.total, [[1.0]], {})
        with self.assertRaisesMessage(TaskResultMismatch, "Task does not match"):
            await test_tasks.add.aget_result(result.id)

    def test_invalid_function(self) -> None:
        # Adapted: this backend takes wasm tasks only, so any Python function is
        # refused (module level or not).
        invalid_functions: list[Callable[..., Any]] = [
            any,
            self.test_invalid_function,
            test_tasks.plain_python_function,
        ]
        for invalid_function in invalid_functions:
            with self.subTest(invalid_function), self.assertRaises(InvalidTask):
                task()(invalid_function)

    def test_get_backend(self) -> None:
        self.assertEqual(test_tasks.add.backend, "default")
        self.assertIsInstance(test_tasks.add.get_backend(), WasmTasksBackend)

        with override_settings(TASKS=backends(other=["default"])):
            other_task = test_tasks.add.using(backend="other")
            self.assertEqual(other_task.backend, "other")
            self.assertIsInstance(other_task.get_backend(), WasmTasksBackend)
            self.assertEqual(other_task.get_backend().alias, "other")

    def test_name(self) -> None:
        self.assertEqual(test_tasks.add.name, "add")
        self.assertEqual(test_tasks.send_notification.name, "send_notification")

    def test_module_path(self) -> None:
        self.assertEqual(test_tasks.add.module_path, "wasmtasks_django.components.arith.add")
        self.assertEqual(
            test_tasks.send_notification.module_path,
            "wasmtasks_django.components.notify.send_notification",
        )

        self.assertEqual(import_string(test_tasks.add.module_path), test_tasks.add)
        self.assertEqual(
            import_string(test_tasks.send_notification.module_path),
            test_tasks.send_notification,
        )

    def test_no_backends(self) -> None:
        with override_settings(TASKS={}), self.assertRaises(InvalidTaskBackend):
            test_tasks.add.enqueue(1, 2)

    def test_task_error_invalid_exception(self) -> None:
        result = test_tasks.welcome.enqueue("nobody", "ann")
        finish(result)

        self.assertEqual(len(result.errors), 3)

        object.__setattr__(result.errors[0], "exception_class_path", "subprocess.run")

        with self.assertRaisesMessage(
            ValueError, "'subprocess.run' does not reference a valid exception."
        ):
            result.errors[0].exception_class  # noqa: B018

    def test_task_error_unknown_module(self) -> None:
        # Adapted: a guest's error class ("welcome.WelcomeError") is no Python
        # class: Django's lookup of it fails as for any unknown module.
        result = test_tasks.welcome.enqueue("nobody", "ann")
        finish(result)

        with self.assertRaises(ImportError):
            result.errors[0].exception_class  # noqa: B018


class WasmTasksBackendTestCase(TestCase):
    """From ``test_dummy_backend.py`` and ``test_immediate_backend.py``."""

    def test_using_correct_backend(self) -> None:
        self.assertEqual(default_task_backend, task_backends["default"])
        self.assertIsInstance(task_backends["default"], WasmTasksBackend)
        self.assertEqual(default_task_backend.alias, "default")
        self.assertEqual(set(default_task_backend.options), {"url", "token", "timeout"})

    def test_enqueue_task(self) -> None:
        result = test_tasks.add.enqueue(1, b=3)

        self.assertEqual(result.status, TaskResultStatus.READY)
        self.assertIs(result.is_finished, False)
        self.assertIsNone(result.started_at)
        self.assertIsNone(result.last_attempted_at)
        self.assertIsNone(result.finished_at)
        with self.assertRaisesMessage(ValueError, "Task has not finished yet"):
            result.return_value  # noqa: B018
        self.assertEqual(result.task, test_tasks.add)
        self.assertEqual(result.args, [1])
        self.assertEqual(result.kwargs, {"b": 3})
        self.assertEqual(result.attempts, 0)

        # From the immediate backend's test: once it has run.
        finish(result)
        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
        self.assertIs(result.is_finished, True)
        assert result.started_at
        assert result.finished_at
        assert result.enqueued_at
        self.assertIsNotNone(result.last_attempted_at)
        self.assertGreaterEqual(result.started_at, result.enqueued_at)
        self.assertGreaterEqual(result.finished_at, result.started_at)
        self.assertEqual(result.return_value, 4)
        self.assertEqual(result.attempts, 1)

    async def test_enqueue_task_async(self) -> None:
        result = await test_tasks.add.aenqueue(2, 2)

        self.assertEqual(result.status, TaskResultStatus.READY)
        self.assertIs(result.is_finished, False)
        self.assertIsNone(result.started_at)
        self.assertIsNone(result.finished_at)
        self.assertEqual(result.attempts, 0)

        await afinish(result)
        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
        self.assertEqual(result.return_value, 4)
        self.assertEqual(result.attempts, 1)

    def test_get_result(self) -> None:
        result = default_task_backend.enqueue(
            test_tasks.add.using(run_after=soon(3600)), [1, 2], {}
        )
        # Deferred an hour: nothing changes between the enqueue and the read.
        new_result = default_task_backend.get_result(result.id)

        self.assertEqual(result, new_result)

    def test_refresh_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.add, [40, 2], {})

        self.assertEqual(result.status, TaskResultStatus.READY)
        finish(result)
        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)

    async def test_refresh_result_async(self) -> None:
        result = await default_task_backend.aenqueue(test_tasks.add, [40, 2], {})

        self.assertEqual(result.status, TaskResultStatus.READY)
        await afinish(result)
        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)

    async def test_get_missing_result(self) -> None:
        with self.assertRaises(TaskResultDoesNotExist):
            await self.sync_get_result("123")

        with self.assertRaises(TaskResultDoesNotExist):
            await default_task_backend.aget_result("123")

    @staticmethod
    async def sync_get_result(result_id: str) -> object:
        from asgiref.sync import sync_to_async

        return await sync_to_async(default_task_backend.get_result)(result_id)

    def test_catches_exception(self) -> None:
        # From the immediate backend: a task raising its own error class.
        result = test_tasks.welcome.enqueue("nobody", "ann")
        finish(result)

        self.assertEqual(result.status, TaskResultStatus.FAILED)
        with self.assertRaisesMessage(ValueError, "Task failed"):
            result.return_value  # noqa: B018
        self.assertIs(result.is_finished, True)
        assert result.started_at
        assert result.finished_at
        assert result.enqueued_at
        self.assertGreaterEqual(result.started_at, result.enqueued_at)
        self.assertGreaterEqual(result.finished_at, result.started_at)
        self.assertEqual(result.errors[0].exception_class_path, "welcome.WelcomeError")
        traceback = result.errors[0].traceback
        message = "invalid email address \"nobody\": it has no '@'"
        self.assertIs(traceback.endswith(f"WelcomeError: {message}\n"), True, traceback)
        self.assertEqual(result.task, test_tasks.welcome)
        self.assertEqual(result.args, ["nobody", "ann"])
        self.assertEqual(result.kwargs, {})

    def test_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.add, [40, 2], {})
        finish(result)

        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
        self.assertEqual(result.return_value, 42)

    async def test_result_async(self) -> None:
        result = await default_task_backend.aenqueue(test_tasks.add, [40, 2], {})
        await afinish(result)

        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
        self.assertEqual(result.return_value, 42)

    def test_errors(self) -> None:
        result = test_tasks.add.enqueue(1, 1)
        self.assertEqual(result.errors, [])

    def test_check(self) -> None:
        errors = list(default_task_backend.check())
        self.assertEqual(len(errors), 0, errors)

    def test_takes_context(self) -> None:
        # flaky.until_attempt takes the context on the server: its attempt number.
        result = test_tasks.until_attempt.enqueue(1)
        self.assertEqual(result.status, TaskResultStatus.READY)
        finish(result)
        self.assertEqual(result.return_value, "succeeded on attempt 1")

    def test_validate_disallowed_async_task(self) -> None:
        # Adapted: Task.func is never a coroutine function here; an ``async def``
        # stub is what the flag refuses.
        async def noop_task_async() -> None:
            raise NotImplementedError

        stubs = list(tasks_module._stubs)
        try:
            with mock.patch.multiple(default_task_backend, supports_async_task=True):
                async_task = wasm_task("arith.add")(noop_task_async)
        finally:
            tasks_module._stubs[:] = stubs
        with self.assertRaisesMessage(InvalidTask, "Backend does not support async Tasks."):
            default_task_backend.validate_task(async_task)

    def test_validate_on_enqueue(self) -> None:
        with override_settings(TASKS=backends(default=[])):
            task_with_custom_queue_name = test_tasks.add.using(queue_name="unknown_queue")

        with (
            override_settings(TASKS=backends(default=["queue-1"])),
            self.assertRaisesMessage(InvalidTask, "Queue 'unknown_queue' is not valid for backend"),
        ):
            task_with_custom_queue_name.enqueue(1, 2)

    async def test_validate_on_aenqueue(self) -> None:
        with override_settings(TASKS=backends(default=[])):
            task_with_custom_queue_name = test_tasks.add.using(queue_name="unknown_queue")

        with (
            override_settings(TASKS=backends(default=["queue-1"])),
            self.assertRaisesMessage(InvalidTask, "Queue 'unknown_queue' is not valid for backend"),
        ):
            await task_with_custom_queue_name.aenqueue(1, 2)

    def test_options(self) -> None:
        # From the custom backend's test: OPTIONS reach the backend.
        backend = task_backends["default"]
        assert isinstance(backend, WasmTasksBackend)
        self.assertEqual(backend.url, default_task_backend.options["url"])
        self.assertEqual(backend.timeout, 5.0)


class WasmTasksBackendTransactionTestCase(TransactionTestCase):
    # The events command saves its cursor in autocommit, as it runs for real (on
    # PostgreSQL the server withholds events behind any open older transaction).
    available_apps = ["wasmtasks_django"]

    def test_enqueue_logs(self) -> None:
        call_command("wasmtasks_events", "--once", "--from-now", stdout=io.StringIO())
        with self.assertLogs("django.tasks", level="DEBUG") as captured_logs:
            result = test_tasks.add.enqueue(1, 2)

        self.assertEqual(len(captured_logs.output), 1)
        self.assertIn("enqueued", captured_logs.output[0])
        self.assertIn(result.id, captured_logs.output[0])

        # The immediate backend's version: started and finished are logged (by
        # Django's own receivers) where the events command runs.
        finish(result)
        with self.assertLogs("django.tasks", level="DEBUG") as captured_logs:
            follow_events(captured_logs.output, result.id, 2)

        mine = [line for line in captured_logs.output if result.id in line]
        self.assertEqual(len(mine), 2)
        self.assertIn("state=RUNNING", mine[0])
        self.assertIn("state=SUCCESSFUL", mine[1])
        for log_output in mine:
            self.assertNotIn("None", log_output)

    def test_failed_logs(self) -> None:
        call_command("wasmtasks_events", "--once", "--from-now", stdout=io.StringIO())
        result = test_tasks.welcome.enqueue("nobody", "ann")
        finish(result)
        with self.assertLogs("django.tasks", level="DEBUG") as captured_logs:
            follow_events(captured_logs.output, result.id, 4)

        mine = [line for line in captured_logs.output if result.id in line]
        self.assertEqual(len(mine), 4)  # three attempts, then the end
        self.assertIn("state=RUNNING", mine[0])
        self.assertTrue(mine[3].startswith("ERROR:django.tasks:"), mine[3])
        self.assertIn("state=FAILED", mine[3])

    def test_doesnt_wait_until_transaction_commit_by_default(self) -> None:
        # As with Django's backends, enqueue() is immediate, even in a transaction;
        # transaction.on_commit() defers it (tests/test_transactions.py).
        with transaction.atomic():
            result = test_tasks.add.enqueue(1, 1)

            self.assertIsNotNone(result.enqueued_at)

        self.assertEqual(default_task_backend.get_result(result.id).id, result.id)

    def test_wasm_task_is_a_task_of_this_backend(self) -> None:
        self.assertIsInstance(wasm_task("arith.fib"), default_task_backend.task_class)
