"""Binding a call's `args` (JSON array) and `kwargs` (JSON object) to a task's parameters.

The rules are Python's for a call, and every refusal is worded exactly as the
host and the Rust SDK word it (`wasmtasks-signature`), so a bad call reads the
same whether the host refuses it at enqueue or the component when it runs:

    add() missing 2 required arguments: 'a' and 'b'
    add() takes 2 positional arguments but 3 were given
    add() got an unexpected keyword argument 'c'

Keyword arguments are looked at in the order of their names, as the host (whose
JSON objects are sorted maps) looks at them, so the first problem reported is the
same one.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

from wasmtasks_guest.errors import InvalidArguments
from wasmtasks_guest.hints import describe


@dataclass(frozen=True)
class Parameter:
    """What binding needs of a parameter: its name (its keyword too) and whether it is required."""

    name: str
    required: bool


def parse_args(text: str) -> list[object]:
    """The positional arguments in `text`, a JSON array."""
    value = _parse("args must be a JSON array", text)
    if not isinstance(value, list):
        raise InvalidArguments(f"args must be a JSON array: got {describe(value)}")
    return value


def parse_kwargs(text: str) -> dict[str, object]:
    """The keyword arguments in `text`, a JSON object."""
    value = _parse("kwargs must be a JSON object", text)
    if not isinstance(value, dict):
        raise InvalidArguments(f"kwargs must be a JSON object: got {describe(value)}")
    return value


def bind(
    task: str,
    params: Sequence[Parameter],
    args: Sequence[object],
    kwargs: dict[str, object],
) -> dict[str, object]:
    """The value given for each parameter, by name; an omitted optional parameter is absent."""
    if len(args) > len(params):
        raise InvalidArguments(_too_many_positional(task, params, len(args)))
    bound = {param.name: value for param, value in zip(params, args, strict=False)}
    names = {param.name for param in params}
    for name in sorted(kwargs):
        if name not in names:
            raise InvalidArguments(f"{task}() got an unexpected keyword argument '{name}'")
        if name in bound:
            raise InvalidArguments(f"{task}() got multiple values for argument '{name}'")
        bound[name] = kwargs[name]
    missing = [param.name for param in params if param.required and param.name not in bound]
    if missing:
        arguments = _plural(len(missing), "argument", "arguments")
        raise InvalidArguments(
            f"{task}() missing {len(missing)} required {arguments}: {quoted_list(missing)}"
        )
    return bound


def wrong_value(task: str, name: str, problem: str) -> str:
    """The refusal of a value that does not fit parameter `name` of `task`."""
    return f"argument '{name}' of {task}(): {problem}"


def quoted_list(names: Sequence[str]) -> str:
    """`'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: Python's way of listing names."""
    quoted = [f"'{name}'" for name in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _parse(what: str, text: str) -> object:
    """`text` parsed as strict JSON (no `NaN` or `Infinity`); `what` heads the refusal."""
    try:
        return json.loads(text, parse_constant=_not_json)
    except ValueError as error:
        raise InvalidArguments(f"{what}: {error}") from None


def _not_json(constant: str) -> object:
    """Refuses the constants Python's `json` accepts but JSON does not."""
    raise ValueError(f"{constant} is not JSON")


def _too_many_positional(task: str, params: Sequence[Parameter], given: int) -> str:
    """`add() takes 2 positional arguments but 3 were given`."""
    total = len(params)
    required = sum(1 for param in params if param.required)
    if required == total:
        takes = f"{total} positional {_plural(total, 'argument', 'arguments')}"
    else:
        takes = f"from {required} to {total} positional arguments"
    return f"{task}() takes {takes} but {given} {_plural(given, 'was', 'were')} given"


def _plural(count: int, one: str, many: str) -> str:
    """`one` for a count of 1, else `many`."""
    return one if count == 1 else many
