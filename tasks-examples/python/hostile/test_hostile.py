import hostile
import pytest

from wasmtasks_guest import Component, TaskFailed


def test_exports_every_hostile_task() -> None:
    names = [definition.name for definition in Component.load("hostile").describe().tasks]
    assert names == ["spin", "memory_bomb", "recurse", "nest"]


def test_recurse_returns_its_depth() -> None:
    assert hostile.recurse(100) == 100
    assert Component.load("hostile").run("recurse", "[3]") == "3"


def test_too_deep_a_recursion_is_a_recursion_error() -> None:
    with pytest.raises(TaskFailed) as failed:
        Component.load("hostile").run("recurse", "[100000]")
    assert failed.value.exception_class_path == "builtins.RecursionError"
    assert "maximum recursion depth exceeded" in failed.value.message


def test_nest_reprs_a_nested_list() -> None:
    assert hostile.nest(3) == len("[[[[]]]]")
    assert Component.load("hostile").run("nest", "[2]") == "6"
