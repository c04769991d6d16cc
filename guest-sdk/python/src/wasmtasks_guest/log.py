"""Structured log lines: one JSON object per line on stderr, kept by the host with the attempt.

    from wasmtasks_guest import log
    log.info("sending the notification")
    log.event("warning", "slow server", {"ms": 1200})

writes `{"level":"info","message":"sending the notification"}` and
`{"level":"warning","message":"slow server","fields":{"ms":1200}}`.
"""

import json
import sys
from typing import Literal

Level = Literal["debug", "info", "warning", "error"]
"""How much a line matters."""


def event(level: Level, message: str, fields: object = None) -> None:
    """Writes one line with `fields` (any JSON value; `None` for none).

    Logging never fails a task: fields JSON cannot carry are written as their `repr`.
    """
    line: dict[str, object] = {"level": level, "message": message}
    if fields is not None:
        line["fields"] = fields
    sys.stderr.write(json.dumps(line, separators=(",", ":"), default=repr) + "\n")
    sys.stderr.flush()


def debug(message: str) -> None:
    """Writes a `debug` line."""
    event("debug", message)


def info(message: str) -> None:
    """Writes an `info` line."""
    event("info", message)


def warning(message: str) -> None:
    """Writes a `warning` line."""
    event("warning", message)


def error(message: str) -> None:
    """Writes an `error` line."""
    event("error", message)
