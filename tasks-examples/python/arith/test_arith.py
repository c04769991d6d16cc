import arith

from wasmtasks_guest import Component


def test_add_is_a_plain_function() -> None:
    assert arith.add(2, 3) == 5


def test_add_binds_like_python() -> None:
    assert Component.load("arith").run("add", "[2]", '{"b": 3}') == "5"
