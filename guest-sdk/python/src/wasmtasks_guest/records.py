"""The records of the wasmtasks contract (`guest-sdk/wit/task.wit`) as Python values.

They mirror the WIT records field for field; inside a component the SDK converts
them to the bindings componentize-py generates. Natively (in tests) they are what
`Component.describe()` returns and what a `takes_context` task receives.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How often a task may be attempted; `None` means the queue's policy."""

    max_attempts: int | None = None
    """Total attempts allowed, the first run included (1 = never retry)."""
    backoff_factor: float | None = None
    """Backoff base in seconds: the delay before attempt n+1 is `backoff_factor ** n`."""


@dataclass(frozen=True)
class Limits:
    """Per-attempt sandbox limits a task asks for; `None` means the host's default."""

    fuel: int | None = None
    """Fuel (CPU budget, roughly one unit per wasm instruction)."""
    timeout_ms: int | None = None
    """Wall-clock deadline of one attempt, in milliseconds."""
    memory_bytes: int | None = None
    """Cap on the component's linear memory, in bytes."""


@dataclass(frozen=True)
class ParamDefinition:
    """One parameter of a task, in the order positional arguments fill them."""

    name: str
    """The parameter's name, which is also its keyword."""
    required: bool
    """Whether a call must give it (a parameter with a default may be left out)."""
    schema: str
    """The JSON Schema (draft 2020-12) of the values it accepts, as JSON text."""


@dataclass(frozen=True)
class TaskDefinition:
    """One task with the defaults it declares (`@task(...)`) and its signature."""

    name: str
    priority: int
    queue_name: str
    takes_context: bool
    retry: RetryPolicy
    limits: Limits
    params: tuple[ParamDefinition, ...]
    returns: str
    """The JSON Schema of the return value, as JSON text (`{}`: any)."""


@dataclass(frozen=True)
class ComponentDescription:
    """What a component is: its name (the project's module) and its tasks."""

    name: str
    tasks: tuple[TaskDefinition, ...]


@dataclass(frozen=True)
class TaskContext:
    """What a `takes_context` task receives about the run in progress (Django's `TaskContext`).

    A plain value: tests build one directly, e.g. `TaskContext(attempt=2)`.
    """

    task_result_id: str = ""
    """The id of the TaskResult being worked on."""
    attempt: int = 1
    """Which attempt this is: 1 on the first run, 2 on the first retry."""
    task_path: str = ""
    """The task path the job was enqueued with, e.g. `arith.add`."""
    queue_name: str = "default"
    """The queue the job was taken from."""
    priority: int = 0
    """The job's priority."""


@dataclass(frozen=True)
class TaskError:
    """A failure the task itself reports (Django's `TaskError`)."""

    exception_class_path: str
    """Dotted path of the exception's class, e.g. `welcome.WelcomeError`."""
    message: str
    """`str()` of the exception."""
    detail: str
    """The formatted traceback, the task's own frames only."""
