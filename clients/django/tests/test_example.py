"""The example project: forms that enqueue, a results list that htmx polls
(Django 6 template partials), and the demo's own ntfy-style topic."""

from __future__ import annotations

import io
import re
import time

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from notifications.models import ReceivedNotification, SentTask
from notifications.tasks import send_notification
from tests.helpers import cancel, soon
from tests.server import NtfyReceiver, WasmtasksServer

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


def poll_row(client: Client, pk: int, timeout: float = 20.0) -> str:
    """GET the row partial as htmx does, until it stops asking to be polled."""
    deadline = time.monotonic() + timeout
    while True:
        html = client.get(reverse("notifications:row", args=[pk]), headers=HTMX).content.decode()
        if "hx-trigger" not in html or time.monotonic() > deadline:
            return html
        time.sleep(0.2)


def test_the_page_loads_vendored_htmx_and_no_cdn(client: Client) -> None:
    response = client.get(reverse("notifications:index"))
    html = response.content.decode()

    assert response.status_code == 200
    assert '<script src="/static/notifications/htmx-2.0.11.min.js" defer></script>' in html
    assert not re.search(r"<script[^>]+src=\"https?://", html)
    assert 'id="results"' in html
    assert 'name="message"' in html
    assert 'name="user_email"' in html
    assert 'hx-get="/inbox/"' in html


def test_a_notification_is_enqueued_and_polled_until_successful(
    client: Client, ntfy: NtfyReceiver
) -> None:
    response = client.post(
        reverse("notifications:notify"), {"message": "Deploy finished", "title": "CI"}, headers=HTMX
    )
    row = response.content.decode()
    sent = SentTask.objects.get()

    # The answer is the row partial alone (polling itself unless the job has
    # already finished: test_a_row_polls_itself_until_its_job_finishes).
    assert response.status_code == 200
    assert row.lstrip().startswith(f'<tr id="sent-{sent.pk}"')
    assert "<html" not in row
    assert sent.result_id

    final = poll_row(client, sent.pk)
    assert "hx-trigger" not in final
    assert "SUCCESSFUL" in final
    assert "delivered: HTTP 200" in final
    [received] = ntfy.received
    assert (received.title, received.body) == ("CI", "Deploy finished")

    page = client.get(reverse("notifications:index")).content.decode()
    assert f'id="sent-{sent.pk}"' in page
    assert "SUCCESSFUL" in page


def test_a_notification_the_receiver_fails_is_retried(client: Client, ntfy: NtfyReceiver) -> None:
    # The Python notify raises wasmtasks_guest.http.StatusError on an error status;
    # its policy (5 attempts, 1 s apart) tries again, and the row shows both attempts.
    ntfy.fail_next.append(503)
    client.post(reverse("notifications:notify"), {"message": "again", "title": "CI"}, headers=HTMX)
    final = poll_row(client, SentTask.objects.get().pk)

    assert "SUCCESSFUL" in final
    assert "delivered: HTTP 200" in final
    assert "<td>2</td>" in final  # attempts
    assert [(received.title, received.body) for received in ntfy.received] == [("CI", "again")] * 2


def test_a_row_polls_itself_until_its_job_finishes(
    client: Client, wasmtasks_server: WasmtasksServer
) -> None:
    # A job deferred an hour stays READY: its row asks htmx to poll it again.
    result = send_notification.using(run_after=soon(3600)).enqueue("later")
    sent = SentTask.objects.create(kind=SentTask.NOTIFICATION, summary="later", result_id=result.id)
    row = client.get(reverse("notifications:row", args=[sent.pk]), headers=HTMX)
    html = row.content.decode()

    assert row.status_code == 200
    assert html.lstrip().startswith(f'<tr id="sent-{sent.pk}"')
    assert f'hx-get="/results/{sent.pk}/" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert "READY" in html
    assert "<html" not in html

    # Finished (cancelled reads as FAILED): the row no longer asks to be polled.
    cancel(wasmtasks_server, result.id)
    final = client.get(reverse("notifications:row", args=[sent.pk]), headers=HTMX)
    assert "hx-trigger" not in final.content.decode()
    assert "FAILED" in final.content.decode()


def test_a_bad_welcome_address_fails_with_the_tasks_error(client: Client) -> None:
    client.post(
        reverse("notifications:welcome"),
        {"user_email": "nobody", "username": "ann"},
        headers=HTMX,
    )
    sent = SentTask.objects.get()
    final = poll_row(client, sent.pk)

    assert "FAILED" in final
    assert "welcome.WelcomeError" in final
    assert "invalid email address &quot;nobody&quot;" in final


def test_a_welcome_email_is_rendered(client: Client) -> None:
    response = client.post(
        reverse("notifications:welcome"), {"user_email": "ada@example.com", "username": "ada"}
    )
    assert response.status_code == 302  # without htmx: post, redirect, get
    final = poll_row(client, SentTask.objects.get().pk)
    assert "SUCCESSFUL" in final
    assert "rendered “Welcome, ada!” for ada@example.com" in final


def test_an_invalid_form_enqueues_nothing(client: Client) -> None:
    response = client.post(reverse("notifications:notify"), {"message": ""})
    assert response.status_code == 400
    assert SentTask.objects.count() == 0


def test_a_server_that_cannot_be_reached_shows_on_the_row(client: Client) -> None:
    with override_settings(
        TASKS={
            "default": {
                "BACKEND": "wasmtasks_django.WasmTasksBackend",
                "QUEUES": ["default", "emails"],
                "OPTIONS": {"url": "http://127.0.0.1:9", "token": "wt_x_y"},
            }
        }
    ):
        row = client.post(
            reverse("notifications:notify"), {"message": "hi"}, headers=HTMX
        ).content.decode()
    sent = SentTask.objects.get()
    assert not sent.result_id
    assert "cannot reach the wasmtasks server" in sent.enqueue_error
    assert "NOT ENQUEUED" in row
    assert "hx-trigger" not in row


def test_the_demo_topic_receives_like_ntfy(client: Client) -> None:
    response = client.post(
        reverse("notifications:ntfy", args=["demo"]),
        data="Deploy finished",
        content_type="text/plain",
        headers={"Title": "CI"},
    )
    assert response.status_code == 200
    assert response.json()["topic"] == "demo"
    received = ReceivedNotification.objects.get()
    assert (received.topic, received.title, received.message) == ("demo", "CI", "Deploy finished")

    inbox = client.get(reverse("notifications:inbox"), headers=HTMX).content.decode()
    assert inbox.lstrip().startswith('<section id="inbox"')
    assert "Deploy finished" in inbox


def test_the_demo_topic_reads_the_title_as_utf8(client: Client) -> None:
    # notify sends the title's UTF-8 bytes, which WSGI hands over decoded as latin-1
    # (as the test client is given them here); a title that is not UTF-8 stays as it came.
    for header, title in [("Café ✓".encode().decode("latin-1"), "Café ✓"), ("Caf\xe9", "Caf\xe9")]:
        client.post(
            reverse("notifications:ntfy", args=["demo"]),
            data="hi",
            content_type="text/plain",
            headers={"Title": header},
        )
        received = ReceivedNotification.objects.first()
        assert received is not None
        assert received.title == title


def test_the_migrations_match_the_models() -> None:
    # The demo's app and wasmtasks_django's cursor table: makemigrations --check
    # exits 1 when a model has changes no migration records.
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
