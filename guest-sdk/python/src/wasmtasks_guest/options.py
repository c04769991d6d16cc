"""The options of `@task(...)`, checked when the decorator is applied.

The rules and their wording are the Rust SDK's (`#[task(...)]`, where they are
compile errors): a component built from tasks that pass them is accepted by the
host.
"""

import math
from dataclasses import dataclass, field

from wasmtasks_guest.records import Limits, RetryPolicy

MIN_PRIORITY = -100
MAX_PRIORITY = 100
U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1


class TaskDeclarationError(ValueError):
    """A `@task` the host would refuse: an option out of range, or a signature it cannot bind."""


@dataclass(frozen=True)
class TaskOptions:
    """The defaults one `@task(...)` declares, with Django's own defaults."""

    priority: int = 0
    queue_name: str = "default"
    takes_context: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limits: Limits = field(default_factory=Limits)


def task_options(
    *,
    priority: object,
    queue_name: object,
    takes_context: object,
    max_attempts: object,
    backoff_factor: object,
    fuel: object,
    timeout_ms: object,
    memory_bytes: object,
) -> TaskOptions:
    """Checks the options of `@task(...)`; a `TaskDeclarationError` names the first problem."""
    if not isinstance(queue_name, str):
        raise TaskDeclarationError("`queue_name` takes a string")
    if not queue_name:
        raise TaskDeclarationError("`queue_name` must not be empty")
    if not isinstance(takes_context, bool):
        raise TaskDeclarationError("`takes_context` takes True or False")
    return TaskOptions(
        priority=_integer("priority", priority, MIN_PRIORITY, MAX_PRIORITY),
        queue_name=queue_name,
        takes_context=takes_context,
        retry=RetryPolicy(
            max_attempts=_optional_integer("max_attempts", max_attempts, U32_MAX),
            backoff_factor=_backoff_factor(backoff_factor),
        ),
        limits=Limits(
            fuel=_optional_integer("fuel", fuel, U64_MAX),
            timeout_ms=_optional_integer("timeout_ms", timeout_ms, U64_MAX),
            memory_bytes=_optional_integer("memory_bytes", memory_bytes, U64_MAX),
        ),
    )


def _integer(name: str, value: object, low: int, high: int) -> int:
    """An integer option within `low..=high` (a bool is not an integer here)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TaskDeclarationError(f"`{name}` takes an integer")
    if not low <= value <= high:
        raise TaskDeclarationError(f"`{name}` must be between {low} and {high}, got {value}")
    return value


def _optional_integer(name: str, value: object, high: int) -> int | None:
    """An integer option within `1..=high`, or `None` for the host's or queue's default."""
    return None if value is None else _integer(name, value, 1, high)


def _backoff_factor(value: object) -> float | None:
    """A positive, finite number of seconds, or `None`."""
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TaskDeclarationError("`backoff_factor` takes a number")
    if not (math.isfinite(value) and value > 0):
        raise TaskDeclarationError(f"`backoff_factor` must be a positive number, got {value}")
    return float(value)
