"""The notification demo.

Enqueueing follows the pattern for a task that must only run if the request's
transaction commits: the row is written inside ``transaction.atomic()`` and the
job is enqueued by ``transaction.on_commit``. A rolled-back request enqueues
nothing; a job never runs for a row that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.tasks import TaskResult, TaskResultStatus, default_task_backend
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from wasmtasks_django import WasmTasksError

from .forms import NotificationForm, WelcomeForm
from .models import ReceivedNotification, SentTask
from .tasks import send_notification, welcome

TEMPLATE = "notifications/index.html"


@dataclass
class Row:
    sent: SentTask
    result: TaskResult[Any, Any] | None
    problem: str

    @property
    def finished(self) -> bool:
        # Poll until SUCCESSFUL or FAILED; a row that never got a job is final too.
        return self.result.is_finished if self.result is not None else bool(self.problem)

    @property
    def status(self) -> str:
        if self.result is not None:
            return str(self.result.status)
        return "NOT ENQUEUED" if self.problem else "ENQUEUEING"

    @property
    def status_class(self) -> str:
        return self.status.replace(" ", "-")

    @property
    def error_class(self) -> str:
        """The last error's class, when the outcome does not already start with it."""
        if self.result is None or not self.result.errors:
            return ""
        path = self.result.errors[-1].exception_class_path
        return "" if self.outcome.startswith(path) else path

    @property
    def outcome(self) -> str:
        result = self.result
        if result is None:
            return self.problem
        if result.status == TaskResultStatus.SUCCESSFUL:
            value = result.return_value
            if self.sent.kind == SentTask.WELCOME and isinstance(value, dict):
                return f"rendered “{value.get('subject', '')}” for {value.get('to', '')}"
            return f"delivered: HTTP {value}"
        if result.errors:
            error = result.errors[-1]
            first_line = error.traceback.strip().splitlines()[0] if error.traceback else ""
            return first_line or error.exception_class_path
        return ""


def _row(sent: SentTask) -> Row:
    if not sent.result_id:
        return Row(sent, None, sent.enqueue_error)
    try:
        return Row(sent, default_task_backend.get_result(sent.result_id), "")
    except TaskResultDoesNotExist:
        return Row(sent, None, "the result is gone (pruned on the server)")
    except WasmTasksError as error:
        return Row(sent, None, f"cannot read the result: {error}")


def _enqueue(pk: int, task: Any, *args: Any, **kwargs: Any) -> None:
    """Runs on commit: enqueue, then record the job's id (or why it failed)."""
    try:
        result = task.enqueue(*args, **kwargs)
    except (InvalidTask, WasmTasksError) as error:
        SentTask.objects.filter(pk=pk).update(enqueue_error=f"{type(error).__name__}: {error}")
    else:
        SentTask.objects.filter(pk=pk).update(result_id=result.id)


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "notification_form": NotificationForm(),
        "welcome_form": WelcomeForm(),
        "rows": [_row(sent) for sent in SentTask.objects.all()[:20]],
        "inbox": ReceivedNotification.objects.all()[:10],
        **extra,
    }


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, _context())


def _created(request: HttpRequest, sent: SentTask) -> HttpResponse:
    sent.refresh_from_db()
    if request.headers.get("HX-Request"):
        # htmx inserts the new row at the top of the list; it polls from there.
        return render(request, f"{TEMPLATE}#row", {"row": _row(sent)})
    return redirect("notifications:index")


@require_POST
def notify(request: HttpRequest) -> HttpResponse:
    form = NotificationForm(request.POST)
    if not form.is_valid():
        return render(request, TEMPLATE, _context(notification_form=form), status=400)
    message = form.cleaned_data["message"]
    title = form.cleaned_data["title"] or None
    with transaction.atomic():
        summary = f"{title}: {message}" if title else message
        sent = SentTask.objects.create(kind=SentTask.NOTIFICATION, summary=summary[:300])
        transaction.on_commit(partial(_enqueue, sent.pk, send_notification, message, title=title))
    return _created(request, sent)


@require_POST
def welcome_user(request: HttpRequest) -> HttpResponse:
    form = WelcomeForm(request.POST)
    if not form.is_valid():
        return render(request, TEMPLATE, _context(welcome_form=form), status=400)
    email, username = form.cleaned_data["user_email"], form.cleaned_data["username"]
    with transaction.atomic():
        sent = SentTask.objects.create(kind=SentTask.WELCOME, summary=f"{username} <{email}>")
        transaction.on_commit(partial(_enqueue, sent.pk, welcome, email, username))
    return _created(request, sent)


@require_GET
def result_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One row, for htmx's polling: a finished row no longer asks to be polled."""
    sent = get_object_or_404(SentTask, pk=pk)
    return render(request, f"{TEMPLATE}#row", {"row": _row(sent)})


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, f"{TEMPLATE}#inbox", {"inbox": ReceivedNotification.objects.all()[:10]})


def _utf8_header(request: HttpRequest, name: str) -> str:
    """A header's value as the UTF-8 text the notify component sent: WSGI and ASGI
    hand header bytes over decoded as latin-1 (kept as is when not UTF-8)."""
    value = request.headers.get(name, "")
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


@csrf_exempt
@require_POST
def ntfy(request: HttpRequest, topic: str) -> HttpResponse:
    """An ntfy-style topic: the notify component POSTs the message as the body,
    the title in the ``Title`` header."""
    received = ReceivedNotification.objects.create(
        topic=topic,
        title=_utf8_header(request, "Title"),
        message=request.body.decode("utf-8", errors="replace"),
    )
    return JsonResponse({"id": received.pk, "topic": topic, "event": "message"})
