"""The demo's wasm tasks, declared with typed stubs.

The stubs' bodies never run: the tasks run as WebAssembly components on the
wasmtasks server. Their signatures are what editors and type checkers use for
``.enqueue()``; ``manage.py check`` compares them with the server's.
"""

from typing import Any

from wasmtasks_django import wasm_task


@wasm_task("notify.send_notification")
def send_notification(message: str, title: str | None = None) -> int:
    """POSTs ``message`` (with a ``Title`` header) to the ``ntfy_url`` configured
    for the notify component, the Python task of ``tasks-examples/python/notify``;
    returns the HTTP status. An error status (4xx or 5xx) raises
    ``wasmtasks_guest.http.StatusError``, retried (5 attempts, 1 s apart)."""
    raise NotImplementedError


@wasm_task("welcome.welcome")
def welcome(user_email: str, username: str) -> dict[str, Any]:
    """Renders the welcome email ({"to", "subject", "body"}) on the ``emails``
    queue; fails with ``welcome.WelcomeError`` for an address without ``@``."""
    raise NotImplementedError
