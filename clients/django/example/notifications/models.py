from __future__ import annotations

from typing import Any

from django.db import models


class SentTask(models.Model):
    """A task the demo enqueued; its result lives on the wasmtasks server."""

    NOTIFICATION = "notification"
    WELCOME = "welcome"
    KINDS = [(NOTIFICATION, "Notification"), (WELCOME, "Welcome email")]

    kind: models.CharField[str, str] = models.CharField(max_length=20, choices=KINDS)
    summary: models.CharField[str, str] = models.CharField(max_length=300)
    # Set once the transaction that created the row has committed and the job
    # has been enqueued (transaction.on_commit); empty if enqueueing failed.
    result_id: models.CharField[str, str] = models.CharField(max_length=64, blank=True)
    enqueue_error: models.TextField[str, str] = models.TextField(blank=True)
    created_at: models.DateTimeField[Any, Any] = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.summary}"


class ReceivedNotification(models.Model):
    """What the notify component POSTed to this site's ntfy-style topic."""

    topic: models.CharField[str, str] = models.CharField(max_length=100)
    title: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    message: models.TextField[str, str] = models.TextField()
    received_at: models.DateTimeField[Any, Any] = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.topic}: {self.title or self.message[:40]}"
