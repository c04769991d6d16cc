"""`@task`: its options, the signatures it accepts, and how a task's outcome is reported."""

import json
import math
from collections.abc import Callable

import pytest

from wasmtasks_guest import (
    Component,
    InvalidReturnValue,
    Limits,
    MissingContext,
    RetryPolicy,
    TaskContext,
    TaskDeclarationError,
    TaskDefinition,
    TaskFailed,
    error_class_path,
    task,
)


class QuotaError(Exception):
    """A task's own error."""


@task(
    priority=-10,
    queue_name="emails",
    max_attempts=5,
    backoff_factor=2.5,
    fuel=1_000_000,
    timeout_ms=5000,
    memory_bytes=64 << 20,
)
def configured(n: int) -> int:
    return n


@task(takes_context=True, max_attempts=3)
def whoami(context: TaskContext, prefix: str = "") -> dict[str, object]:
    return {"attempt": context.attempt, "path": prefix + context.task_path}


@task
def fail(reason: str) -> None:
    raise QuotaError(reason)


@task
def fail_builtin() -> None:
    int("not a number")


@task
def fail_chained() -> None:
    try:
        {"present": 1}["missing"]
    except KeyError as error:
        raise QuotaError("lookup failed") from error


@task
def returns(kind: str) -> object:
    return {"set": {1}, "nan": math.nan, "tuple": (1, "a"), "none": None}[kind]


COMPONENT = Component.load(__name__)


def definition(name: str) -> TaskDefinition:
    return next(task for task in COMPONENT.describe().tasks if task.name == name)


def test_the_decorated_function_is_returned_unchanged() -> None:
    assert configured(4) == 4
    assert configured.__name__ == "configured"


def test_options_are_declared_and_defaults_are_djangos() -> None:
    declared = definition("configured")
    assert declared.priority == -10
    assert declared.queue_name == "emails"
    assert declared.retry == RetryPolicy(max_attempts=5, backoff_factor=2.5)
    assert declared.limits == Limits(fuel=1_000_000, timeout_ms=5000, memory_bytes=64 << 20)
    plain = definition("fail")
    assert (plain.priority, plain.queue_name, plain.takes_context) == (0, "default", False)
    assert (plain.retry, plain.limits) == (RetryPolicy(), Limits())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"priority": 101}, "`priority` must be between -100 and 100, got 101"),
        ({"priority": -101}, "`priority` must be between -100 and 100, got -101"),
        ({"priority": "high"}, "`priority` takes an integer"),
        ({"priority": True}, "`priority` takes an integer"),
        ({"max_attempts": 0}, "`max_attempts` must be between 1 and 4294967295, got 0"),
        ({"queue_name": ""}, "`queue_name` must not be empty"),
        ({"backoff_factor": -1.0}, "`backoff_factor` must be a positive number, got -1.0"),
        ({"backoff_factor": 0}, "`backoff_factor` must be a positive number, got 0"),
        ({"backoff_factor": math.inf}, "`backoff_factor` must be a positive number, got inf"),
        ({"fuel": 0}, "`fuel` must be between 1 and 18446744073709551615, got 0"),
        ({"timeout_ms": 2**64}, "`timeout_ms` must be between 1 and 18446744073709551615, "
                                "got 18446744073709551616"),
        ({"memory_bytes": -1}, "`memory_bytes` must be between 1 and 18446744073709551615, got -1"),
        ({"takes_context": 1}, "`takes_context` takes True or False"),
    ],
)  # fmt: skip
def test_options_out_of_range_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(TaskDeclarationError) as refused:
        task(**options)  # type: ignore[call-overload]
    assert str(refused.value) == message


def declaration_error(function: Callable[..., object], **options: object) -> str:
    with pytest.raises(TaskDeclarationError) as refused:
        task(**options)(function)  # type: ignore[call-overload]
    return str(refused.value)


def test_takes_context_needs_a_first_context_parameter() -> None:
    def no_context(n: int) -> None:
        pass

    def wrong_first(n: int, context: TaskContext) -> None:
        pass

    def forgot(context: TaskContext, n: int) -> None:
        pass

    def keyword_context(*, context: TaskContext) -> None:
        pass

    needs = "takes_context needs a first parameter named `context`"
    assert declaration_error(no_context, takes_context=True) == f"task no_context(): {needs}"
    assert declaration_error(wrong_first, takes_context=True) == f"task wrong_first(): {needs}"
    assert (
        declaration_error(keyword_context, takes_context=True) == f"task keyword_context(): {needs}"
    )
    assert declaration_error(forgot) == (
        "task forgot(): its first parameter is a TaskContext: add takes_context=True to @task"
    )


def test_parameters_must_be_ordinary_ones() -> None:
    def star(*values: int) -> None:
        pass

    def keyword_only(a: int, *, b: int) -> None:
        pass

    def positional_only(a: int, /) -> None:
        pass

    async def later() -> None:
        pass

    assert declaration_error(star).startswith(
        "task star(): parameter 'values' is variadic positional; a task's parameters are filled "
        "from args in order and from kwargs by name"
    )
    assert declaration_error(keyword_only).startswith(
        "task keyword_only(): parameter 'b' is keyword-only"
    )
    assert declaration_error(positional_only).startswith(
        "task positional_only(): parameter 'a' is positional-only"
    )
    assert declaration_error(later) == "task later(): a task cannot be async"
    assert declaration_error(lambda: None) == (
        "task <lambda>(): a task's name must be ASCII letters, digits or `_`"
    )


def test_unresolvable_hints_are_refused() -> None:
    def forward(value: "Undefined") -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    assert declaration_error(forward) == (
        "task forward(): its type hints cannot be resolved (name 'Undefined' is not defined); "
        "define the types it uses before the task"
    )


def test_only_functions_are_tasks() -> None:
    with pytest.raises(TaskDeclarationError, match="@task applies to functions"):
        task(QuotaError)


def test_a_context_task_receives_the_hosts_context() -> None:
    context = TaskContext(task_result_id="r1", attempt=2, task_path="t.whoami")
    assert json.loads(COMPONENT.run("whoami", '["> "]', context=context)) == {
        "attempt": 2,
        "path": "> t.whoami",
    }
    with pytest.raises(MissingContext) as missing:
        COMPONENT.run("whoami")
    assert missing.value.message == "whoami() takes a context but the host passed none"
    assert missing.value.exception_class_path == "wasmtasks.MissingContext"
    assert definition("whoami").takes_context
    assert [param.name for param in definition("whoami").params] == ["prefix"]


def test_an_exception_is_a_failure_with_its_class_path_and_traceback() -> None:
    with pytest.raises(TaskFailed) as failed:
        COMPONENT.run("fail", '["over quota"]')
    error = failed.value.error
    assert error.exception_class_path == f"{__name__}.QuotaError"
    assert error.message == "over quota"
    assert error.detail.startswith("Traceback (most recent call last):\n")
    assert ", in fail\n" in error.detail
    assert error.detail.endswith(f"{__name__}.QuotaError: over quota\n")
    # The SDK's own frames are left out: the traceback starts in the task.
    assert "wasmtasks_guest" not in error.detail


def test_builtin_exceptions_keep_their_builtins_path() -> None:
    with pytest.raises(TaskFailed) as failed:
        COMPONENT.run("fail_builtin")
    assert failed.value.exception_class_path == "builtins.ValueError"
    assert failed.value.message == "invalid literal for int() with base 10: 'not a number'"


def test_chained_exceptions_are_in_the_detail() -> None:
    with pytest.raises(TaskFailed) as failed:
        COMPONENT.run("fail_chained")
    detail = failed.value.error.detail
    assert "KeyError: 'missing'" in detail
    assert "The above exception was the direct cause of the following exception" in detail


def test_the_hosts_prefix_is_never_a_tasks_class() -> None:
    reserved = type("Spoof", (Exception,), {"__module__": "wasmtasks"})
    assert error_class_path(reserved) == "guest.wasmtasks.Spoof"
    assert error_class_path(KeyError) == "builtins.KeyError"


def test_return_values_become_json() -> None:
    assert COMPONENT.run("returns", '["tuple"]') == '[1,"a"]'
    assert COMPONENT.run("returns", '["none"]') == "null"
    for kind, problem in [("set", "Object of type set is not JSON serializable"),
                          ("nan", "Out of range float values are not JSON compliant")]:  # fmt: skip
        with pytest.raises(InvalidReturnValue) as invalid:
            COMPONENT.run("returns", json.dumps([kind]))
        assert invalid.value.message.startswith(
            "returns() returned a value that cannot be serialised as JSON: " + problem
        )
