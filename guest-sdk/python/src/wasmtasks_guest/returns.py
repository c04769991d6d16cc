"""Turns what a task returns into the JSON text the host receives."""

import dataclasses
import json

from wasmtasks_guest.errors import InvalidReturnValue


def encode(task: str, value: object) -> str:
    """`value` as compact JSON: dataclasses become objects, tuples arrays, `None` null.

    A value JSON cannot carry (a set, `NaN`, an arbitrary object) raises
    `InvalidReturnValue`. The value is not checked against the return type hint.
    """
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"), default=_fields)
    except (TypeError, ValueError) as error:
        raise InvalidReturnValue(
            f"{task}() returned a value that cannot be serialised as JSON: {error}"
        ) from None


def _fields(value: object) -> object:
    """A dataclass instance as the dict of its fields; anything else is refused."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
