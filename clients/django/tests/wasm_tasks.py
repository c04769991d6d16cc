"""Wasm tasks declared at module level, as a project declares them.

Imported at collection, once the test server runs (see conftest), so these
declarations see the server's component definitions as a project's would.
"""

from typing import Any

from wasmtasks_django import wasm_task

add = wasm_task("arith.add")
total = wasm_task("arith.sum")
until_attempt = wasm_task("flaky.until_attempt")
welcome_plain = wasm_task("welcome.welcome")


@wasm_task("notify.send_notification")
def send_notification(message: str, title: str | None = None) -> int:
    raise NotImplementedError


@wasm_task("welcome.welcome")
def welcome(user_email: str, username: str) -> dict[str, Any]:
    raise NotImplementedError


@wasm_task("arith.add", priority=5, queue_name="emails")
def add_urgently(a: int, b: int) -> int:
    raise NotImplementedError


def plain_python_function(a: int) -> int:
    return a
