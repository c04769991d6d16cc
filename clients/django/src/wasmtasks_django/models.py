"""Where ``manage.py wasmtasks_events`` keeps its place in the event stream.

A table rather than a file: it lives where the rest of the project's state lives,
survives redeploys of containers whose filesystem is thrown away, is shared by
every host of the project (so a follower moved to another machine resumes where
the last one stopped), and each save is one atomic UPDATE. It costs one small
migration, in an app that must be installed for the command anyway.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class EventCursor(models.Model):
    """The last event a follower has handled, by follower name."""

    name: models.CharField[str, str] = models.CharField(max_length=200, primary_key=True)
    cursor: models.CharField[str, str] = models.CharField(max_length=200)
    updated_at: models.DateTimeField[Any, Any] = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "wasmtasks event cursor"

    def __str__(self) -> str:
        return f"{self.name} @ {self.cursor}"

    @classmethod
    def load(cls, name: str) -> str | None:
        row = cls.objects.filter(name=name).first()
        return row.cursor if row is not None else None

    @classmethod
    def store(cls, name: str, cursor: str) -> None:
        cls.objects.update_or_create(name=name, defaults={"cursor": cursor})
