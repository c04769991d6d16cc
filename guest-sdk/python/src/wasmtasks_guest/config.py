"""The component's configuration, as the operator set it (`wasmtasks config set COMPONENT KEY V`).

A component sees its own keys only. Secrets read here are ordinary strings to the
task, but the host replaces their values with `[REDACTED]` wherever it keeps the
attempt's output (stdout, stderr, errors, the return value). Values are read when
an attempt starts, so call `get` inside the task, not at module level (module-level
code runs when the component is built).

Natively (in tests), `get` reads the environment variable `WASMTASKS_CONFIG_<KEY>`
instead, the key upper-cased with `-` and `.` as `_`.
"""

import os
import sys


class NotConfigured(LookupError):
    """A key `require` needs is not set; `str()` says how to set it."""

    def __init__(self, key: str) -> None:
        """Key `key` is not set."""
        if sys.platform == "wasi":
            how = f"wasmtasks config set COMPONENT {key} VALUE"
        else:
            how = f"natively, the environment variable {native_variable(key)}"
        super().__init__(f"config key `{key}` is not set ({how})")
        self.key = key


if sys.platform == "wasi":
    from wit_world.imports import config as _host

    def get(key: str) -> str | None:
        """The value of `key`, or `None` if the operator set no such key for this component."""
        return _host.get(key)

else:

    def get(key: str) -> str | None:
        """The value of `key`, or `None` if the operator set no such key for this component."""
        return os.environ.get(native_variable(key))


def require(key: str) -> str:
    """The value of `key`; raises `NotConfigured` if the operator set no such key."""
    value = get(key)
    if value is None:
        raise NotConfigured(key)
    return value


def native_variable(key: str) -> str:
    """The environment variable standing for `key` natively.

    `ntfy-url.v2` is `WASMTASKS_CONFIG_NTFY_URL_V2`.
    """
    return "WASMTASKS_CONFIG_" + key.upper().replace("-", "_").replace(".", "_")
