"""Errors of the wasmtasks backend.

Everything the server answers with an RFC 9457 problem becomes a ``WasmTasksError``
carrying the problem's ``type`` slug, HTTP status and ``detail``. An enqueue the
server refuses becomes ``TaskRefused``, which *is* Django's ``InvalidTask``, so code
written against ``django.tasks`` catches it as it catches any invalid task. A
request the tenant's quotas refuse becomes ``QuotaExceeded``, naming the quota.
"""

from __future__ import annotations

from typing import Any

from django.tasks.exceptions import InvalidTask, TaskException

PROBLEM_PREFIX = "urn:wasmtasks:problem:"


class WasmTasksError(TaskException):
    """The wasmtasks server answered with an error, or could not be reached."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.slug = slug
        self.problem: dict[str, Any] = problem or {}


class ServerUnavailable(WasmTasksError):
    """The server could not be reached, timed out, or said its database is down (503)."""


class AuthenticationFailed(WasmTasksError):
    """401: no token, or an unknown, revoked or expired one."""


class Forbidden(WasmTasksError):
    """403: the token's role may not do this (a ``reader`` enqueueing, say)."""


class NotFound(WasmTasksError):
    """404: no such job or component (another tenant's answers the same)."""


class InvalidRequest(WasmTasksError):
    """422 or 400: the server refused the request and stored nothing."""


class QuotaExceeded(WasmTasksError):
    """A quota of the tenant refused the request, and nothing was stored.

    429 (``quota-exceeded``) when it may fit later: too many jobs queued or
    running, or enqueues faster than the rate; 403 (``over-ceiling``) when it never
    will (fuel, timeout or memory above the tenant's ceiling). ``limit`` names the
    quota (``max_queued``, ``enqueue_rate``, ...), ``value`` its setting, and
    ``retry_after`` the seconds after which the same request may fit, when known.
    """

    @property
    def _quota(self) -> dict[str, Any]:
        quota = self.problem.get("quota")
        return quota if isinstance(quota, dict) else {}

    @property
    def limit(self) -> str | None:
        """The quota's name, e.g. ``max_queued``."""
        limit = self._quota.get("limit")
        return None if limit is None else str(limit)

    @property
    def value(self) -> str | None:
        """The quota's setting for the tenant, e.g. ``100``."""
        value = self._quota.get("value")
        return None if value is None else str(value)

    @property
    def retry_after(self) -> float | None:
        """Seconds after which the same request may fit, when known."""
        seconds = self._quota.get("retry_after_secs")
        return None if seconds is None else float(seconds)


class ServerError(WasmTasksError):
    """Any other error status (500, ...)."""


class TaskRefused(InvalidTask):
    """The server refused to enqueue a job (nothing was stored).

    ``str(error)`` is the server's ``detail``, worded as the task itself would refuse
    the call (``add() missing 1 required argument: 'b'``); ``problem`` is the whole
    problem document (a refused batch lists every bad item in ``problem["errors"]``).
    """

    def __init__(self, error: WasmTasksError) -> None:
        super().__init__(error.detail)
        self.detail = error.detail
        self.status = error.status
        self.slug = error.slug
        self.problem = error.problem


_QUOTA_SLUGS = ("quota-exceeded", "over-ceiling")

_BY_STATUS: dict[int, type[WasmTasksError]] = {
    400: InvalidRequest,
    401: AuthenticationFailed,
    403: Forbidden,
    404: NotFound,
    422: InvalidRequest,
    503: ServerUnavailable,
}


def error_for_problem(status: int, problem: dict[str, Any] | None, text: str) -> WasmTasksError:
    """The exception for an error answer: its status picks the class."""
    problem = problem or {}
    kind = str(problem.get("type", ""))
    slug = kind.removeprefix(PROBLEM_PREFIX) if kind.startswith(PROBLEM_PREFIX) else None
    detail = str(problem.get("detail") or text.strip() or f"HTTP {status}")
    cls = QuotaExceeded if slug in _QUOTA_SLUGS else _BY_STATUS.get(status, ServerError)
    return cls(detail, status=status, slug=slug, problem=problem)
