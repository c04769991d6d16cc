"""``manage.py wasmtasks_events``: send ``task_started``/``task_finished`` here.

Long-polls the wasmtasks event stream and sends Django's task signals in this
process for every job of the token's tenant. Its place in the stream is kept in
the ``wasmtasks_django.EventCursor`` table under ``--name``, so a restart
resumes after the last event handled. Delivery is at least once, in order.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

from wasmtasks_django.backend import WasmTasksBackend
from wasmtasks_django.events import EventFollower
from wasmtasks_django.exceptions import WasmTasksError
from wasmtasks_django.models import EventCursor


class Command(BaseCommand):
    help = (
        "Follow the wasmtasks event stream and send Django's task_started and "
        "task_finished signals in this process (at least once, in order)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backend",
            default=DEFAULT_TASK_BACKEND_ALIAS,
            help="The TASKS alias of a wasmtasks backend (default: %(default)s).",
        )
        parser.add_argument(
            "--name",
            help="The follower's name, under which its cursor is kept (default: the alias).",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=30.0,
            help="Seconds each long poll waits for an event (default: %(default)s).",
        )
        parser.add_argument(
            "--limit", type=int, default=100, help="Events per request (default: %(default)s)."
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="Handle the events there are now, then exit (for cron jobs and tests).",
        )
        parser.add_argument(
            "--from-now",
            action="store_true",
            help="Forget the saved cursor and start from the stream's current position.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["backend"]
        backend = task_backends[alias]
        if not isinstance(backend, WasmTasksBackend):
            raise CommandError(f"TASKS[{alias!r}] is not a wasmtasks backend.")
        name = options["name"] or alias
        follower = EventFollower(
            backend,
            load_cursor=lambda: EventCursor.load(name),
            save_cursor=lambda cursor: EventCursor.store(name, cursor),
            wait=options["wait"],
            limit=options["limit"],
        )
        stop = threading.Event()
        restore = self._stop_on_signals(stop) if not options["once"] else None
        try:
            handled = follower.run(once=options["once"], from_now=options["from_now"], stop=stop)
        except WasmTasksError as error:
            raise CommandError(str(error)) from error
        except KeyboardInterrupt:
            handled = follower.handled
        finally:
            if restore is not None:
                restore()
        if options["verbosity"] >= 1:
            self.stdout.write(f"wasmtasks_events: handled {handled} events")

    @staticmethod
    def _stop_on_signals(stop: threading.Event) -> Any:
        """SIGTERM stops after the event being handled; a long poll in progress is
        cut short (the cursor is saved per event, so nothing is lost)."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def on_term(signum: int, frame: Any) -> None:
            stop.set()
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, on_term)
        return lambda: signal.signal(signal.SIGTERM, previous)
