"""``WasmTaskResult``: Django's ``TaskResult`` with what the server adds.

Everything Django defines behaves as Django defines it (``status``,
``return_value``, ``errors``, ``worker_ids``, ``attempts``, the four timestamps,
``refresh()``/``arefresh()``). Django has no CANCELLED status: a job cancelled on
the server reads as ``FAILED`` (finished, no return value) with
``server_status == "CANCELLED"`` and ``is_cancelled`` true.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from django.tasks.base import TASK_REFRESH_ATTRS, TaskResult

from ._generic import GenericTaskResult

_P = ParamSpec("_P")
_R = TypeVar("_R")

# Refreshed along with Django's own attributes.
EXTRA_REFRESH_ATTRS = frozenset({"server_status", "component_digest", "attempt_log"})


@dataclass(frozen=True, slots=True, kw_only=True)
class WasmTaskResult(GenericTaskResult[_P, _R]):  # type: ignore[misc]  # stubs: not frozen
    """A job on the wasmtasks server, as a Django ``TaskResult``.

    ``server_status`` is the server's own status (``READY``, ``RUNNING``,
    ``SUCCESSFUL``, ``FAILED`` or ``CANCELLED``); ``component_digest`` the component
    version the job is pinned to; ``attempt_log`` every attempt in full (worker,
    times, outcome, fuel, memory, captured stdout and stderr).
    """

    server_status: str = ""
    component_digest: str = ""
    attempt_log: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def is_cancelled(self) -> bool:
        return self.server_status == "CANCELLED"

    def refresh(self, *, wait: float | None = None) -> None:
        """Reload from the server; with ``wait`` (seconds), first wait until the job
        finishes, at most that long (a long poll, not a loop of requests)."""
        backend = self.task.get_backend()
        get_result = getattr(backend, "get_result")  # noqa: B009
        fresh = get_result(self.id, wait=wait) if wait else get_result(self.id)
        self._update_from(fresh)

    async def arefresh(self, *, wait: float | None = None) -> None:
        """See ``refresh()``."""
        backend = self.task.get_backend()
        aget_result = getattr(backend, "aget_result")  # noqa: B009
        fresh = await (aget_result(self.id, wait=wait) if wait else aget_result(self.id))
        self._update_from(fresh)

    def _update_from(self, fresh: TaskResult[Any, Any]) -> None:
        for attr in TASK_REFRESH_ATTRS:
            object.__setattr__(self, attr, getattr(fresh, attr))
        for attr in EXTRA_REFRESH_ATTRS:
            if hasattr(fresh, attr):
                object.__setattr__(self, attr, getattr(fresh, attr))

    def with_changes(self, **changes: Any) -> WasmTaskResult[_P, _R]:
        """A shallow copy with some attributes replaced (``_return_value`` included,
        which ``dataclasses.replace`` would drop)."""
        clone = copy.copy(self)
        for attr, value in changes.items():
            object.__setattr__(clone, attr, value)
        return clone
