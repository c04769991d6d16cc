"""A task function's signature: its bindable parameters and their hints, read when `@task` applies.

A task's parameters are filled from `args` in order and from `kwargs` by name,
so each must be an ordinary parameter (no `*args`, `**kwargs`, keyword-only or
positional-only ones). A `takes_context` task's first parameter is `context`,
which is not one of them.
"""

import contextlib
import inspect
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass

from wasmtasks_guest.binding import Parameter
from wasmtasks_guest.hints import Hint, JsonObject, UnsupportedHint, hint_for, schema_document
from wasmtasks_guest.options import TaskDeclarationError
from wasmtasks_guest.records import ParamDefinition, TaskContext

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""A task or parameter name the host accepts: ASCII letters, digits and `_`."""


@dataclass(frozen=True)
class TaskParameter:
    """One bindable parameter: its name, whether a call must give it, and its hint."""

    name: str
    required: bool
    hint: Hint
    schema: JsonObject
    """Its JSON Schema, with the default value (if JSON can carry it) as `default`."""

    def binding(self) -> Parameter:
        """What binding needs of it."""
        return Parameter(self.name, self.required)

    def definition(self) -> ParamDefinition:
        """The contract's record of it."""
        return ParamDefinition(
            self.name, self.required, json.dumps(self.schema, separators=(",", ":"))
        )


@dataclass(frozen=True)
class Signature:
    """A task's bindable parameters, in order, and the JSON Schema of its return value."""

    params: tuple[TaskParameter, ...]
    returns_schema: JsonObject


def read_signature(function: Callable[..., object], takes_context: bool) -> Signature:
    """The signature of task `function`; raises `TaskDeclarationError` naming what is wrong."""
    name = function.__name__
    where = f"task {name}()"
    if not NAME.fullmatch(name):
        raise TaskDeclarationError(f"{where}: a task's name must be ASCII letters, digits or `_`")
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        raise TaskDeclarationError(f"{where}: a task cannot be async")
    try:
        hints = typing.get_type_hints(function)
    except NameError as error:
        raise TaskDeclarationError(
            f"{where}: its type hints cannot be resolved ({error}); "
            "define the types it uses before the task"
        ) from None
    params = list(inspect.signature(function).parameters.values())
    if takes_context:
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        if not params or params[0].name != "context" or params[0].kind not in positional:
            raise TaskDeclarationError(
                f"{where}: takes_context needs a first parameter named `context`"
            )
        params = params[1:]
    elif params and hints.get(params[0].name) is TaskContext:
        raise TaskDeclarationError(
            f"{where}: its first parameter is a TaskContext: add takes_context=True to @task"
        )
    return Signature(
        params=tuple(_parameter(where, param, hints) for param in params),
        returns_schema=schema_document(
            _hint(f"{where}: the return type", hints.get("return", typing.Any))
        ),
    )


def _parameter(where: str, param: inspect.Parameter, hints: dict[str, object]) -> TaskParameter:
    """A bindable parameter, or the refusal of one the host cannot fill."""
    what = f"{where}: parameter '{param.name}'"
    if param.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
        raise TaskDeclarationError(
            f"{what} is {param.kind.description}; a task's parameters are filled from args "
            "in order and from kwargs by name, so each must be an ordinary parameter"
        )
    if not NAME.fullmatch(param.name):
        raise TaskDeclarationError(
            f"{what}: a parameter's name must be ASCII letters, digits or `_`"
        )
    hint = _hint(what, hints.get(param.name, typing.Any))
    schema = schema_document(hint)
    required = param.default is inspect.Parameter.empty
    if not required:
        # A default JSON cannot carry is simply not recorded.
        with contextlib.suppress(TypeError, ValueError):
            schema["default"] = json.loads(json.dumps(param.default, allow_nan=False))
    return TaskParameter(param.name, required, hint, schema)


def _hint(what: str, hint: object) -> Hint:
    """The hint of `what`, or the refusal of one JSON cannot carry."""
    try:
        return hint_for(hint)
    except UnsupportedHint as error:
        raise TaskDeclarationError(f"{what}: {error}") from None
