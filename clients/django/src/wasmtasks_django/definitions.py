"""What the server says about a component's tasks, and a small cache of it.

``GET /api/v1/components/{name}`` lists a component's versions, newest first, each
with its tasks' declared defaults and signatures. Enqueueing uses the newest
version, so that is the one a Task is checked against. Answers are cached per
server, token and tenant: found components for ``cache_ttl`` seconds, unknown
ones and an unreachable server for a few seconds only, so an upload made just
after a refusal is seen soon.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

NEGATIVE_TTL = 5.0


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    required: bool
    schema: Any


@dataclass(frozen=True, slots=True)
class TaskDefinition:
    """One task of the newest version of a component."""

    task_path: str
    priority: int
    queue_name: str
    takes_context: bool
    max_attempts: int | None
    backoff_factor: float | None
    parameters: tuple[Parameter, ...] | None  # None: built without a signature
    returns: Any
    component_digest: str
    component_version: int

    @classmethod
    def from_json(
        cls, component: str, version: dict[str, Any], task: dict[str, Any]
    ) -> TaskDefinition:
        signature = task.get("signature")
        retry = task.get("retry") or {}
        parameters = (
            tuple(
                Parameter(str(p["name"]), bool(p["required"]), p.get("schema"))
                for p in signature["params"]
            )
            if signature
            else None
        )
        return cls(
            task_path=f"{component}.{task['name']}",
            priority=int(task["priority"]),
            queue_name=str(task["queue_name"]),
            takes_context=bool(task.get("takes_context", False)),
            max_attempts=retry.get("max_attempts"),
            backoff_factor=retry.get("backoff_factor"),
            parameters=parameters,
            returns=signature.get("returns") if signature else None,
            component_digest=str(version.get("digest", "")),
            component_version=int(version.get("version", 0)),
        )


Lookup = (
    tuple[Literal["found"], TaskDefinition]
    | tuple[Literal["missing"], str]
    | tuple[Literal["unknown"], str]
)


@dataclass(frozen=True, slots=True)
class ComponentEntry:
    """A cached answer: the component's details, or why there are none."""

    expires: float
    details: dict[str, Any] | None  # None: missing or unknown, see `reason`
    missing: bool
    reason: str

    def lookup(self, task_path: str, component: str, name: str) -> Lookup:
        if self.details is None:
            return ("missing", self.reason) if self.missing else ("unknown", self.reason)
        versions = self.details.get("versions") or []
        if not versions:
            return ("missing", f"no component `{component}` has been uploaded")
        newest = versions[0]
        tasks = newest.get("tasks") or []
        for task in tasks:
            if task.get("name") == name:
                return ("found", TaskDefinition.from_json(component, newest, task))
        names = ", ".join(str(t.get("name")) for t in tasks)
        return ("missing", f"component `{component}` has no task `{name}`; its tasks are: {names}")


class ComponentCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], ComponentEntry] = {}

    def get(self, key: tuple[Any, ...]) -> ComponentEntry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires < time.monotonic():
                del self._entries[key]
                return None
            return entry

    def put(
        self,
        key: tuple[Any, ...],
        *,
        ttl: float,
        details: dict[str, Any] | None = None,
        missing: bool = False,
        reason: str = "",
    ) -> ComponentEntry:
        entry = ComponentEntry(time.monotonic() + ttl, details, missing, reason)
        with self._lock:
            self._entries[key] = entry
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# One cache per process: Django makes a backend instance per thread (and anew when
# TASKS changes); they all share what the server said.
component_cache = ComponentCache()
