"""What a type hint accepts: its JSON Schema, and how a JSON value becomes a value of it.

`hint_for` reads a hint once, when `@task` is applied, so a hint that JSON cannot
carry is refused then. The schemas are the ones the Rust SDK records for the same
types (`int` is `{"type": "integer"}`, `str | None` is `{"type": ["string",
"null"]}`, ...), so the host shows them in Python's notation and checks enqueued
arguments against them. Decoding checks a parsed JSON value against the hint and
builds the value the task receives: a dataclass instance from an object, a tuple
from an array.
"""

import collections.abc
import dataclasses
import json
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence

JsonObject = dict[str, object]
"""A JSON Schema (or any JSON object) as Python values."""


class UnsupportedHint(ValueError):
    """A type hint whose values cannot come from JSON."""


class Mismatch(ValueError):
    """A JSON value that does not fit a hint; `str()` says where and why."""

    def __init__(self, path: str, problem: str) -> None:
        """The value at `path` (`""` for the whole value) has `problem`."""
        super().__init__(f"{path}: {problem}" if path else problem)

    @classmethod
    def expected(cls, path: str, expected: str, value: object) -> "Mismatch":
        """`value` at `path` is not `expected`."""
        return cls(path, f"expected {expected}, got {describe(value)}")


def describe(value: object) -> str:
    """The kind of a parsed JSON value in words (`an object`), for refusals."""
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
        case _:
            return type(value).__name__


class Definitions:
    """The `$defs` of one schema: a subschema per dataclass or TypedDict, by class name."""

    def __init__(self) -> None:
        """No definitions yet."""
        self.schemas: dict[str, JsonObject] = {}
        self._names: dict[type, str] = {}

    def reference(self, hint: "ObjectHint") -> JsonObject:
        """`{"$ref": "#/$defs/Name"}` for `hint`, defining it on first use."""
        name = self._names.get(hint.cls)
        if name is None:
            taken = hint.cls.__name__ in self.schemas
            name = f"{hint.cls.__module__}.{hint.cls.__qualname__}" if taken else hint.cls.__name__
            self._names[hint.cls] = name
            self.schemas[name] = {}  # claimed before recursing: a class may contain itself
            self.schemas[name] = hint.body(self)
        return {"$ref": f"#/$defs/{name}"}


class Hint(ABC):
    """What one type hint accepts."""

    expected: str
    """The values it accepts in words, e.g. `an integer`."""

    @abstractmethod
    def schema(self, definitions: Definitions) -> JsonObject:
        """Its JSON Schema; named object types go to `definitions`."""

    @abstractmethod
    def decode(self, value: object, path: str) -> object:
        """The value the task receives for parsed JSON `value`; raises `Mismatch`."""


class AnyHint(Hint):
    """`Any`, `object` or no hint at all: any JSON value, as parsed."""

    expected = "any value"

    def schema(self, definitions: Definitions) -> JsonObject:
        """`{}`."""
        return {}

    def decode(self, value: object, path: str) -> object:
        """`value` unchanged."""
        return value


class ScalarHint(Hint):
    """`int`, `float`, `str`, `bool` or `None`."""

    _TYPES: typing.ClassVar[dict[object, tuple[str, str]]] = {
        int: ("integer", "an integer"),
        float: ("number", "a number"),
        str: ("string", "a string"),
        bool: ("boolean", "a boolean"),
        None: ("null", "null"),
    }

    def __init__(self, scalar: type | None) -> None:
        """The hint `scalar` (`None` for `None`)."""
        self.scalar = scalar
        self.json_type, self.expected = self._TYPES[scalar]

    @classmethod
    def accepts(cls, hint: object) -> bool:
        """Whether `hint` is one of the scalar types."""
        return any(hint is scalar for scalar in cls._TYPES)

    def schema(self, definitions: Definitions) -> JsonObject:
        """`{"type": "integer"}` and the like."""
        return {"type": self.json_type}

    def decode(self, value: object, path: str) -> object:
        """`value` if it is of the type: `2.0` fits `int`, and `2` fits `float` as `2.0`."""
        scalar = self.scalar
        if (scalar is None and value is None) or (scalar is str and isinstance(value, str)):
            return value
        if isinstance(value, bool):
            if scalar is bool:
                return value
        elif scalar is int and isinstance(value, int):
            return value
        elif scalar is int and isinstance(value, float) and value.is_integer():
            return int(value)
        elif scalar is float and isinstance(value, int | float):
            try:
                return float(value)
            except OverflowError:
                raise Mismatch(path, "the number is too large for a float") from None
        raise Mismatch.expected(path, self.expected, value)


class ArrayHint(Hint):
    """`list[T]`, `Sequence[T]` or `tuple[T, ...]`: an array of values of one type."""

    expected = "an array"

    def __init__(self, item: Hint, as_tuple: bool) -> None:
        """Items of `item`; the task receives a tuple if `as_tuple`, else a list."""
        self.item = item
        self.as_tuple = as_tuple

    def schema(self, definitions: Definitions) -> JsonObject:
        """`{"type": "array", "items": ...}` (no `items` for any values)."""
        if isinstance(self.item, AnyHint):
            return {"type": "array"}
        return {"type": "array", "items": self.item.schema(definitions)}

    def decode(self, value: object, path: str) -> object:
        """The list (or tuple) of decoded items."""
        if not isinstance(value, list):
            raise Mismatch.expected(path, self.expected, value)
        items = [self.item.decode(item, f"{path}[{index}]") for index, item in enumerate(value)]
        return tuple(items) if self.as_tuple else items


class TupleHint(Hint):
    """`tuple[A, B]`: an array of exactly these items."""

    def __init__(self, items: Sequence[Hint]) -> None:
        """Items of `items`, in order."""
        self.items = tuple(items)
        self.expected = _items(len(self.items))

    def schema(self, definitions: Definitions) -> JsonObject:
        """`prefixItems` with the array's length fixed."""
        count = len(self.items)
        return {
            "type": "array",
            "prefixItems": [item.schema(definitions) for item in self.items],
            "minItems": count,
            "maxItems": count,
        }

    def decode(self, value: object, path: str) -> object:
        """The tuple of decoded items."""
        if not isinstance(value, list):
            raise Mismatch.expected(path, self.expected, value)
        if len(value) != len(self.items):
            raise Mismatch(path, f"expected {self.expected}, got {_items(len(value))}")
        return tuple(
            item.decode(element, f"{path}[{index}]")
            for index, (item, element) in enumerate(zip(self.items, value, strict=True))
        )


class MappingHint(Hint):
    """`dict[str, T]` or `Mapping[str, T]`: an object with values of one type."""

    expected = "an object"

    def __init__(self, values: Hint) -> None:
        """Values of `values`."""
        self.values = values

    def schema(self, definitions: Definitions) -> JsonObject:
        """`{"type": "object", "additionalProperties": ...}`."""
        if isinstance(self.values, AnyHint):
            return {"type": "object"}
        return {"type": "object", "additionalProperties": self.values.schema(definitions)}

    def decode(self, value: object, path: str) -> object:
        """The dict of decoded values."""
        if not isinstance(value, dict):
            raise Mismatch.expected(path, self.expected, value)
        return {key: self.values.decode(item, f"{path}.{key}") for key, item in value.items()}


class UnionHint(Hint):
    """`A | B` (and `Optional[A]`): the first option that accepts the value wins."""

    def __init__(self, options: Sequence[Hint]) -> None:
        """Any of `options`, tried in order."""
        self.options = tuple(options)
        words = dict.fromkeys(option.expected for option in self.options)
        self.expected = " or ".join(words)

    def schema(self, definitions: Definitions) -> JsonObject:
        """`{"type": [T, "null"]}` for a simple `T | None`, else `anyOf`."""
        schemas = [option.schema(definitions) for option in self.options]
        if len(schemas) == 2 and {"type": "null"} in schemas:
            other = schemas[0] if schemas[1] == {"type": "null"} else schemas[1]
            if isinstance(other.get("type"), str) and "title" not in other:
                return {**other, "type": [other["type"], "null"]}
        return {"anyOf": schemas}

    def decode(self, value: object, path: str) -> object:
        """The value as decoded by the first option that accepts it."""
        for option in self.options:
            try:
                return option.decode(value, path)
            except Mismatch:
                continue
        raise Mismatch.expected(path, self.expected, value)


class LiteralHint(Hint):
    """`Literal["a", "b"]`: one of these JSON values."""

    def __init__(self, values: Sequence[object]) -> None:
        """One of `values` (strings, integers, booleans or `None`)."""
        self.values = tuple(values)
        self.expected = "one of " + ", ".join(json.dumps(value) for value in self.values)

    def schema(self, definitions: Definitions) -> JsonObject:
        """`{"enum": [...]}`."""
        return {"enum": list(self.values)}

    def decode(self, value: object, path: str) -> object:
        """`value` if it is one of the values (of the same type: `true` is not `1`)."""
        for allowed in self.values:
            if type(allowed) is type(value) and allowed == value:
                return value
        raise Mismatch.expected(path, self.expected, value)


class ObjectHint(Hint):
    """A dataclass or a `TypedDict`: an object with these keys, titled with the class name."""

    def __init__(self, cls: type, make: Callable[..., object]) -> None:
        """Values of `cls`, built by `make(**fields)`; the fields are set by `define`."""
        self.cls = cls
        self.make = make
        self.fields: dict[str, Hint] = {}
        self.required: tuple[str, ...] = ()
        self.expected = f"an object ({cls.__name__})"

    def define(self, fields: Mapping[str, Hint], required: Sequence[str]) -> None:
        """Sets the fields, once they are read (they may refer to the class itself)."""
        self.fields = dict(fields)
        self.required = tuple(required)

    def body(self, definitions: Definitions) -> JsonObject:
        """The object's own schema: `title`, `properties`, `required`."""
        schema: JsonObject = {
            "title": self.cls.__name__,
            "type": "object",
            "properties": {name: hint.schema(definitions) for name, hint in self.fields.items()},
        }
        if self.required:
            schema["required"] = list(self.required)
        return schema

    def schema(self, definitions: Definitions) -> JsonObject:
        """A `$ref` to the body in `definitions`."""
        return definitions.reference(self)

    def decode(self, value: object, path: str) -> object:
        """The instance built from the object's known keys (others are ignored, as serde does)."""
        if not isinstance(value, dict):
            raise Mismatch.expected(path, self.expected, value)
        for name in self.required:
            if name not in value:
                raise Mismatch(path, f"missing key '{name}' of {self.cls.__name__}")
        return self.make(
            **{
                name: hint.decode(value[name], f"{path}.{name}")
                for name, hint in self.fields.items()
                if name in value
            }
        )


def _items(count: int) -> str:
    """`an array of 2 items`."""
    return f"an array of {count} item{'' if count == 1 else 's'}"


def schema_document(hint: Hint) -> JsonObject:
    """The complete JSON Schema of `hint`: a dataclass or TypedDict inline, like schemars."""
    definitions = Definitions()
    schema = hint.body(definitions) if isinstance(hint, ObjectHint) else hint.schema(definitions)
    if definitions.schemas:
        schema["$defs"] = definitions.schemas
    return schema


SUPPORTED = (
    "int, float, str, bool, None, list[T], tuple[...], dict[str, T], T | None, unions, "
    "Literal[...], a dataclass, a TypedDict or Any"
)


def hint_for(hint: object) -> Hint:
    """Reads a resolved type hint (from `typing.get_type_hints`); raises `UnsupportedHint`."""
    return _read(hint, {})


def _read(hint: object, objects: dict[type, ObjectHint]) -> Hint:
    """`hint_for`, with the object types read so far (for types that contain themselves)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is typing.Any or hint is object:
        return AnyHint()
    if hint is types.NoneType:
        return ScalarHint(None)
    if ScalarHint.accepts(hint):
        return ScalarHint(typing.cast("type | None", hint))
    if isinstance(hint, typing.TypeAliasType):
        return _read(hint.__value__, objects)
    if isinstance(hint, typing.NewType):
        return _read(hint.__supertype__, objects)
    if origin is typing.Annotated:
        return _read(args[0], objects)
    if origin is typing.Union or origin is types.UnionType:
        return UnionHint([_read(option, objects) for option in args])
    if origin is typing.Literal:
        return _literal(args)
    if hint in (list, tuple, collections.abc.Sequence):
        return ArrayHint(AnyHint(), as_tuple=hint is tuple)
    if origin in (list, collections.abc.Sequence):
        return ArrayHint(_read(args[0], objects), as_tuple=False)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return ArrayHint(_read(args[0], objects), as_tuple=True)
        return TupleHint([_read(item, objects) for item in args])
    if hint in (dict, collections.abc.Mapping):
        return MappingHint(AnyHint())
    if origin in (dict, collections.abc.Mapping):
        if args[0] is not str:
            raise UnsupportedHint(
                f"{_name(hint)}: JSON object keys are strings, use dict[str, ...]"
            )
        return MappingHint(_read(args[1], objects))
    if isinstance(hint, type) and (typing.is_typeddict(hint) or dataclasses.is_dataclass(hint)):
        return _object(hint, objects)
    raise UnsupportedHint(f"{_name(hint)} cannot come from JSON; use {SUPPORTED}")


def _literal(values: tuple[object, ...]) -> LiteralHint:
    """`Literal[...]` of JSON scalars."""
    for value in values:
        if not (value is None or isinstance(value, str | int | bool)):
            raise UnsupportedHint(
                f"Literal value {value!r} is not a JSON string, integer or boolean"
            )
    return LiteralHint(values)


def _object(cls: type, objects: dict[type, ObjectHint]) -> ObjectHint:
    """The hint of a dataclass or TypedDict, read once per class."""
    if cls in objects:
        return objects[cls]
    try:
        field_hints = typing.get_type_hints(cls)
    except NameError as error:
        raise UnsupportedHint(
            f"the type hints of {cls.__qualname__} cannot be resolved: {error}"
        ) from None
    if typing.is_typeddict(cls):
        hint = ObjectHint(cls, dict)
        names = list(field_hints)
        required_keys: frozenset[str] = vars(cls)["__required_keys__"]
        required = [name for name in names if name in required_keys]
    else:
        hint = ObjectHint(cls, cls)
        fields = [field for field in dataclasses.fields(cls) if field.init]
        names = [field.name for field in fields]
        required = [
            field.name
            for field in fields
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        ]
    objects[cls] = hint
    hint.define({name: _read(field_hints[name], objects) for name in names}, required)
    return hint


def _name(hint: object) -> str:
    """A hint as written in Python (`datetime`, `dict[int, str]`)."""
    return hint.__qualname__ if isinstance(hint, type) else repr(hint).replace("typing.", "")
