"""The JSON Schemas recorded for parameter and return type hints, and how arguments are decoded."""

import json
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Optional, TypedDict

import pytest

from wasmtasks_guest import Component, InvalidArguments, TaskDeclarationError, task
from wasmtasks_guest.hints import hint_for, schema_document


def schema(hint: object) -> object:
    return schema_document(hint_for(hint))


@dataclass
class Point:
    x: float
    y: float


@dataclass
class Path:
    name: str
    points: list[Point]
    closed: bool = False
    tags: list[str] = field(default_factory=list)


@dataclass
class Tree:
    value: int
    children: "list[Tree]"


class Address(TypedDict):
    street: str
    zip: NotRequired[str]


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (str, {"type": "string"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (Any, {}),
        (object, {}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (list, {"type": "array"}),
        (dict[str, bool], {"type": "object", "additionalProperties": {"type": "boolean"}}),
        (dict, {"type": "object"}),
        (tuple[str, int], {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                           "minItems": 2, "maxItems": 2}),
        (tuple[float, ...], {"type": "array", "items": {"type": "number"}}),
        (str | None, {"type": ["string", "null"]}),
        (Optional[int], {"type": ["integer", "null"]}),  # noqa: UP045
        (list[int] | None, {"type": ["array", "null"], "items": {"type": "integer"}}),
        (int | str, {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
        (Literal["low", "high"], {"enum": ["low", "high"]}),
    ],
)  # fmt: skip
def test_types_have_the_rust_sdks_schemas(hint: object, expected: object) -> None:
    assert schema(hint) == expected


def test_a_dataclass_is_a_titled_object_with_its_required_fields() -> None:
    assert schema(Path) == {
        "title": "Path",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "points": {"type": "array", "items": {"$ref": "#/$defs/Point"}},
            "closed": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "points"],
        "$defs": {
            "Point": {
                "title": "Point",
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
            }
        },
    }


def test_a_typeddict_is_a_titled_object_and_optional_objects_are_any_of() -> None:
    assert schema(Address) == {
        "title": "Address",
        "type": "object",
        "properties": {"street": {"type": "string"}, "zip": {"type": "string"}},
        "required": ["street"],
    }
    assert schema(Point | None) == {
        "anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}],
        "$defs": {"Point": schema(Point)},
    }


def test_a_type_may_contain_itself() -> None:
    tree = schema(Tree)
    assert tree["properties"] == {  # type: ignore[index]
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}},
    }
    assert tree["$defs"]["Tree"]["title"] == "Tree"  # type: ignore[index]


@task
def shapes(
    path: Path,
    address: Address,
    pair: tuple[str, int],
    weights: dict[str, float],
    level: Literal["low", "high"] = "low",
    note: str | None = None,
) -> Path:
    assert isinstance(path, Path)
    assert all(isinstance(point, Point) for point in path.points)
    assert isinstance(pair, tuple)
    assert all(isinstance(weight, float) for weight in weights.values())
    return path


@task
def untyped(value, count=3):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN201
    return [value, count]


COMPONENT = Component.load(__name__)
GOOD_PATH = {"name": "p", "points": [{"x": 1, "y": 2.5}], "extra": "ignored"}


def test_parameters_record_requiredness_schemas_and_defaults() -> None:
    definitions = {definition.name: definition for definition in COMPONENT.describe().tasks}
    params = {param.name: param for param in definitions["shapes"].params}
    assert [name for name, param in params.items() if param.required] == [
        "path", "address", "pair", "weights"
    ]  # fmt: skip
    assert json.loads(params["level"].schema) == {"enum": ["low", "high"], "default": "low"}
    assert json.loads(params["note"].schema) == {"type": ["string", "null"], "default": None}
    assert json.loads(definitions["shapes"].returns)["title"] == "Path"
    untyped_params = definitions["untyped"].params
    assert [json.loads(param.schema) for param in untyped_params] == [{}, {"default": 3}]
    assert definitions["untyped"].returns == "{}"


def test_objects_become_dataclasses_and_arrays_tuples() -> None:
    kwargs = {"address": {"street": "Main"}, "pair": ["a", 1], "weights": {"w": 2}}
    result = COMPONENT.run("shapes", json.dumps([GOOD_PATH]), json.dumps(kwargs))
    assert json.loads(result) == {
        "name": "p", "points": [{"x": 1.0, "y": 2.5}], "closed": False, "tags": []
    }  # fmt: skip
    assert COMPONENT.run("untyped", '[{"any": ["thing"]}]') == '[{"any":["thing"]},3]'


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"path": {"name": "p"}}, "argument 'path' of shapes(): missing key 'points' of Path"),
        ({"path": {"name": "p", "points": [{"x": 1, "y": "2"}]}},
         "argument 'path' of shapes(): .points[0].y: expected a number, got a string"),
        ({"pair": ["a", 1, 2]},
         "argument 'pair' of shapes(): expected an array of 2 items, got an array of 3 items"),
        ({"pair": ["a", 1.5]}, "argument 'pair' of shapes(): [1]: expected an integer, got a number"),
        ({"weights": {"w": "heavy"}},
         "argument 'weights' of shapes(): .w: expected a number, got a string"),
        ({"level": "medium"}, """argument 'level' of shapes(): expected one of "low", "high", got a string"""),
        ({"note": 3}, "argument 'note' of shapes(): expected a string or null, got a number"),
        ({"address": []}, "argument 'address' of shapes(): expected an object (Address), got an array"),
    ],
)  # fmt: skip
def test_a_value_that_does_not_fit_says_where(change: dict[str, object], problem: str) -> None:
    kwargs = {"path": GOOD_PATH, "address": {"street": "Main"}, "pair": ["a", 1], "weights": {}}
    with pytest.raises(InvalidArguments) as refused:
        COMPONENT.run("shapes", "[]", json.dumps({**kwargs, **change}))
    assert refused.value.message == problem


@pytest.mark.parametrize(
    ("hint", "problem"),
    [
        (set[int], "set[int] cannot come from JSON; use int, float, str"),
        (dict[int, str], "dict[int, str]: JSON object keys are strings, use dict[str, ...]"),
        (complex, "complex cannot come from JSON"),
    ],
)
def test_a_hint_json_cannot_carry_is_refused_when_decorating(hint: object, problem: str) -> None:
    def bad(value: int) -> None:
        pass

    bad.__annotations__["value"] = hint
    with pytest.raises(TaskDeclarationError) as refused:
        task(bad)
    assert str(refused.value).startswith(f"task bad(): parameter 'value': {problem}")
