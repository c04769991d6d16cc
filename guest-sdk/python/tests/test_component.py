"""`Component`: collecting a module's tasks, `describe`, and `run`'s refusals."""

import pytest

from wasmtasks_guest import Component, ComponentError, TaskNotFound, task
from wasmtasks_guest.decorator import REGISTERED


@task
def first() -> int:
    return 1


@task
def second() -> int:
    return 2


COMPONENT = Component.load(__name__)


def test_a_component_is_named_after_its_module_and_keeps_the_order() -> None:
    description = COMPONENT.describe()
    assert description.name == __name__
    assert [definition.name for definition in description.tasks] == ["first", "second"]


def test_an_unknown_task_lists_the_components_tasks() -> None:
    with pytest.raises(TaskNotFound) as missing:
        COMPONENT.run("third")
    assert missing.value.message == (
        "this component has no task named 'third'; its tasks are: first, second"
    )
    assert missing.value.exception_class_path == "wasmtasks.TaskNotFound"


def test_a_component_needs_tasks_with_distinct_names() -> None:
    [one] = [entry for entry in REGISTERED if entry.function is first]
    with pytest.raises(ComponentError) as twice:
        Component("dup", [one, one])
    assert str(twice.value) == (
        f"component dup has two tasks named 'first' (in modules {__name__} and {__name__})"
    )
    with pytest.raises(ComponentError, match=r"^component empty has no tasks"):
        Component("empty", [])
    with pytest.raises(ComponentError, match=r"^'a\.b' is not a valid component name"):
        Component("a.b", [one])


def test_loading_a_module_without_tasks_is_refused() -> None:
    with pytest.raises(ComponentError, match=r"^component json has no tasks"):
        Component.load("json")
