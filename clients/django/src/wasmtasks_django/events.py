"""Following the server's event stream and sending Django's task signals.

The server runs the jobs, so Django's ``task_started`` and ``task_finished`` would
never fire in the Django process. ``manage.py wasmtasks_events`` (this module)
long-polls ``GET /api/v1/events`` and sends them there, as Django's own workers
do, with ``sender`` the backend class and ``task_result`` the job as it was at
that event:

* ``RUNNING`` (an attempt started): ``task_started``, status RUNNING;
* ``SUCCESSFUL``, ``FAILED``, ``CANCELLED`` (finished for good): ``task_finished``
  (CANCELLED reads as FAILED, with ``server_status == "CANCELLED"``);
* ``READY`` (a failed attempt that will be retried, a released lease): no signal,
  as the job has not finished.

Delivery is at least once, in order: events are handled one at a time, oldest
first, and the cursor is saved after each one's signals have been sent. A follower
stopped or killed between sending and saving sends that event again when it
resumes, so receivers should be idempotent (key on ``task_result.id`` and
``task_result.attempts``). A receiver that raises is logged and does not stop the
stream (``Signal.send_robust``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.dispatch import Signal
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_finished, task_started

from .backend import EventPage, TaskEvent, WasmTasksBackend
from .exceptions import ServerUnavailable
from .results import WasmTaskResult

logger = logging.getLogger("wasmtasks_django.events")

FINISHED = {"SUCCESSFUL", "FAILED", "CANCELLED"}


def result_at(result: WasmTaskResult[Any, Any], event: TaskEvent) -> WasmTaskResult[Any, Any]:
    """``result`` (fetched now) as it was at ``event``.

    By the time an event is read the job may have moved on (a RUNNING event read
    after the job succeeded); receivers get the state the event describes: its
    status, the workers and errors of the attempts up to its own, and a return
    value only once SUCCESSFUL.
    """
    n = event.attempt
    if event.status == "RUNNING":
        return result.with_changes(
            status=TaskResultStatus.RUNNING,
            server_status="RUNNING",
            worker_ids=result.worker_ids[:n],
            errors=result.errors[: max(n - 1, 0)],
            attempt_log=[a for a in result.attempt_log if int(a.get("attempt", 0)) < n],
            last_attempted_at=event.at or result.last_attempted_at,
            finished_at=None,
            _return_value=None,
        )
    still_so = result.server_status == event.status and result.attempts == n
    status = TaskResultStatus.FAILED if event.status == "CANCELLED" else event.status
    return result.with_changes(
        status=TaskResultStatus(status),
        server_status=event.status,
        worker_ids=result.worker_ids[:n],
        errors=result.errors[: n if event.status == "FAILED" else max(n - 1, 0)],
        attempt_log=[a for a in result.attempt_log if int(a.get("attempt", 0)) <= n],
        finished_at=result.finished_at if still_so else event.at,
        _return_value=(
            getattr(result, "_return_value", None) if event.status == "SUCCESSFUL" else None
        ),
    )


class EventFollower:
    """Reads events after a saved cursor and sends the signals for each."""

    def __init__(
        self,
        backend: WasmTasksBackend,
        *,
        load_cursor: Callable[[], str | None],
        save_cursor: Callable[[str], None],
        wait: float = 30.0,
        limit: int = 100,
    ) -> None:
        self.backend = backend
        self.load_cursor = load_cursor
        self.save_cursor = save_cursor
        self.wait = wait
        self.limit = limit
        self.handled = 0

    def start(self, *, from_now: bool = False) -> str:
        """The cursor to read after: the saved one, else (or with ``from_now``) where
        the stream stands now, which is saved at once."""
        cursor = None if from_now else self.load_cursor()
        if cursor is None:
            cursor = self.backend.read_events().cursor
            self.save_cursor(cursor)
        return cursor

    def run(
        self,
        *,
        once: bool = False,
        from_now: bool = False,
        stop: threading.Event | None = None,
        max_backoff: float = 30.0,
    ) -> int:
        """Follow the stream until ``stop`` is set (or, with ``once``, until it is
        drained); returns how many events were handled."""
        stop = stop or threading.Event()
        cursor = self.start(from_now=from_now)
        backoff = 1.0
        while not stop.is_set():
            try:
                page = self.backend.read_events(
                    cursor, wait=None if once else self.wait, limit=self.limit
                )
            except ServerUnavailable as error:
                if once:
                    raise
                logger.warning("wasmtasks events: %s; retrying in %.0fs", error, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            backoff = 1.0
            cursor = self.handle(page, cursor)
            if once and not page.events:
                break
        return self.handled

    def handle(self, page: EventPage, cursor: str) -> str:
        results: dict[str, WasmTaskResult[Any, Any] | None] = {}
        for event in page.events:
            if event.task_id not in results:
                try:
                    results[event.task_id] = self.backend.get_result(event.task_id)
                except TaskResultDoesNotExist:
                    # Pruned since: nothing to describe it with.
                    results[event.task_id] = None
            result = results[event.task_id]
            signal = self.signal_for(event)
            if result is None:
                logger.info("wasmtasks events: job %s is gone; event skipped", event.task_id)
            elif signal is not None:
                self.send(signal, result_at(result, event))
            cursor = event.cursor
            self.save_cursor(cursor)
            self.handled += 1
        if not page.events and page.cursor != cursor:
            cursor = page.cursor
            self.save_cursor(cursor)
        return cursor

    @staticmethod
    def signal_for(event: TaskEvent) -> Signal | None:
        if event.status == "RUNNING":
            return task_started
        if event.status in FINISHED:
            return task_finished
        return None

    def send(self, signal: Signal, result: WasmTaskResult[Any, Any]) -> None:
        for receiver, response in signal.send_robust(sender=type(self.backend), task_result=result):
            if isinstance(response, Exception):
                logger.error(
                    "wasmtasks events: receiver %r failed on job %s",
                    receiver,
                    result.id,
                    exc_info=response,
                )
