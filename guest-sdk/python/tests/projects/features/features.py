"""The SDK's features in one component, run through the real host by tests/test_components.py."""

import random
import sys
from dataclasses import dataclass
from typing import Literal, TypedDict

import tinydep

from wasmtasks_guest import TaskContext, config, http, log, task


@dataclass(frozen=True)
class Point:
    """A point in the plane."""

    x: float
    y: float


class Labels(TypedDict):
    """Labels of a shape."""

    name: str


@task(takes_context=True, priority=-5, max_attempts=2, fuel=10**11, timeout_ms=30_000)
def whoami(context: TaskContext) -> dict[str, object]:
    """The context the host passed."""
    return {
        "task_result_id": context.task_result_id,
        "attempt": context.attempt,
        "task_path": context.task_path,
        "queue_name": context.queue_name,
        "priority": context.priority,
    }


@task
def setting(key: str) -> str | None:
    """The configuration value `key`, logged."""
    value = config.get(key)
    log.info(f"read {key}")
    log.event("warning", "details", {"found": value is not None})
    return value


@task
def centroid(points: list[Point], labels: Labels, mode: Literal["mean", "first"] = "mean") -> Point:
    """The mean (or first) of `points`."""
    if mode == "first":
        return points[0]
    return Point(
        x=sum(point.x for point in points) / len(points),
        y=sum(point.y for point in points) / len(points),
    )


@task
def pair(values: tuple[int, str], weights: dict[str, float] | None = None) -> list[object]:
    """`values` and `weights` back, as received."""
    return [list(values), weights]


@task
def divide(a: float, b: float) -> float:
    """`a / b`: `b = 0` raises the built-in ZeroDivisionError."""
    return a / b


@task
def fetch(url: str) -> dict[str, object]:
    """GETs `url`: its status, a header and the body as text."""
    response = http.get(url, headers={"Accept": "text/plain"})
    return {
        "status": response.status,
        "type": response.header("content-type"),
        "body": response.text(),
    }


@task
def roll() -> float:
    """A random number."""
    return random.random()


@task
def python_version() -> str:
    """The interpreter's version."""
    return sys.version


@task
def greet() -> str:
    """The greeting of the bundled dependency `tinydep`."""
    return tinydep.GREETING
