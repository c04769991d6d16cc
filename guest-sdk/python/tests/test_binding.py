"""Binding refusals, word for word as the host and the Rust SDK (wasmtasks-signature) word them."""

import pytest

from wasmtasks_guest import Component, InvalidArguments, task


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def add3(a: int, b: int, c: int) -> int:
    return a + b + c


@task
def greet(name: str, greeting: str = "Hello") -> str:
    return f"{greeting}, {name}!"


@task
def spin() -> None:
    pass


@task
def one(a: int) -> int:
    return a


COMPONENT = Component.load(__name__)


def refusal(task_name: str, args: str, kwargs: str = "{}") -> str:
    with pytest.raises(InvalidArguments) as refused:
        COMPONENT.run(task_name, args, kwargs)
    assert refused.value.exception_class_path == "wasmtasks.InvalidArguments"
    return refused.value.message


@pytest.mark.parametrize(
    ("task_name", "args", "kwargs", "message"),
    [
        ("add", "[1]", "{}", "add() missing 1 required argument: 'b'"),
        ("add", "[]", "{}", "add() missing 2 required arguments: 'a' and 'b'"),
        ("add3", "[]", "{}", "add3() missing 3 required arguments: 'a', 'b', and 'c'"),
        ("add", "[1, 2, 3]", "{}", "add() takes 2 positional arguments but 3 were given"),
        ("one", "[1, 2]", "{}", "one() takes 1 positional argument but 2 were given"),
        ("greet", '["a", "b", "c"]', "{}",
         "greet() takes from 1 to 2 positional arguments but 3 were given"),
        ("spin", "[1]", "{}", "spin() takes 0 positional arguments but 1 was given"),
        ("add", "[1]", '{"c": 3}', "add() got an unexpected keyword argument 'c'"),
        ("add", "[1]", '{"a": 3}', "add() got multiple values for argument 'a'"),
        ("add", '["x", 2]', "{}", "argument 'a' of add(): expected an integer, got a string"),
        ("add", "{}", "{}", "args must be a JSON array: got an object"),
        ("add", "[]", "null", "kwargs must be a JSON object: got null"),
        ("add", "[]", "[]", "kwargs must be a JSON object: got an array"),
        ("add", '"1"', "{}", "args must be a JSON array: got a string"),
    ],
)  # fmt: skip
def test_refusals_read_like_pythons_type_errors(
    task_name: str, args: str, kwargs: str, message: str
) -> None:
    assert refusal(task_name, args, kwargs) == message


def test_keywords_are_checked_in_the_order_of_their_names() -> None:
    # The host's JSON objects are sorted maps: it reports 'b' before 'z' too.
    assert (
        refusal("add", "[1]", '{"z": 1, "b": 2}') == "add() got an unexpected keyword argument 'z'"
    )
    assert refusal("add", "[1]", '{"z": 1, "a": 2}') == "add() got multiple values for argument 'a'"


def test_malformed_json_says_which_part() -> None:
    assert refusal("add", "[1,", "{}").startswith("args must be a JSON array: ")
    assert refusal("add", "[]", "{").startswith("kwargs must be a JSON object: ")
    assert refusal("add", "[NaN, 1]") == "args must be a JSON array: NaN is not JSON"


def test_arguments_bind_by_position_and_keyword() -> None:
    assert COMPONENT.run("add", "[2]", '{"b": 3}') == "5"
    assert COMPONENT.run("add", "[]", '{"b": 3, "a": 2}') == "5"
    assert COMPONENT.run("greet", '["Ada"]') == '"Hello, Ada!"'
    assert COMPONENT.run("greet", '["Ada"]', '{"greeting": "Hi"}') == '"Hi, Ada!"'
    assert COMPONENT.run("spin") == "null"


def test_a_value_is_checked_after_binding() -> None:
    assert (
        refusal("add", "[1, true]") == "argument 'b' of add(): expected an integer, got a boolean"
    )
    assert refusal("add", "[1, 2.5]") == "argument 'b' of add(): expected an integer, got a number"
    assert refusal("greet", "[null]") == "argument 'name' of greet(): expected a string, got null"
