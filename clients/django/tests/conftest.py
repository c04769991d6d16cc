"""Test setup: a real wasmtasks server, then Django configured to use it.

The server is started in ``pytest_configure``, before Django's settings exist,
so settings can name its (free, random) port, and module-level ``wasm_task()``
declarations imported at collection already talk to it. One server serves the
whole session. ``--wasmtasks-db postgres`` (or ``WASMTASKS_TEST_DB=postgres``)
runs everything again with the server, and Django's own database, on
PostgreSQL; with ``CI=true`` an unreachable PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server import POSTGRES_URL, NtfyReceiver, WasmtasksServer, postgres_reachable

_state: dict[str, Any] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--wasmtasks-db",
        choices=["sqlite", "postgres"],
        default=os.environ.get("WASMTASKS_TEST_DB", "sqlite"),
        help="The database of the wasmtasks server (and of Django) for this run.",
    )


def _django_database(kind: str) -> dict[str, Any]:
    if kind == "postgres":
        url = urllib.parse.urlparse(POSTGRES_URL)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": f"wasmtasks_django_{uuid.uuid4().hex[:8]}",
            "USER": url.username or "postgres",
            "PASSWORD": url.password or "",
            "HOST": url.hostname or "127.0.0.1",
            "PORT": str(url.port or 5432),
        }
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("help") or config.getoption("version"):
        return
    kind = config.getoption("--wasmtasks-db")
    if kind == "postgres" and (why := postgres_reachable()):
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {why}"
        if os.environ.get("CI") == "true":
            raise pytest.UsageError(message + " (CI=true: failing)")
        pytest.exit(message + ": the PostgreSQL run is skipped", returncode=0)

    ntfy = NtfyReceiver().start()
    server = WasmtasksServer(kind, ntfy)
    try:
        server.start()
    except BaseException:
        server.stop()
        ntfy.stop()
        raise
    _state.update(server=server, ntfy=ntfy, kind=kind)

    from django.conf import settings

    from notifydemo import settings as demo

    values = {name: getattr(demo, name) for name in dir(demo) if name.isupper()}
    values.update(
        DATABASES={"default": _django_database(kind)},
        TASKS={
            "default": {
                "BACKEND": "wasmtasks_django.WasmTasksBackend",
                "QUEUES": ["default", "emails"],
                "OPTIONS": {"url": server.url, "token": server.token, "timeout": 5},
            }
        },
        LOGGING={"version": 1, "disable_existing_loggers": False},
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    settings.configure(**values)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = _state.pop("server", None)
    if server is not None:
        server.stop()
    ntfy = _state.pop("ntfy", None)
    if ntfy is not None:
        ntfy.stop()


def pytest_report_header(config: pytest.Config) -> list[str]:
    server = _state.get("server")
    if server is None:
        return []
    return [f"wasmtasks: {server.url} on {server.database} ({server.database_url})"]


@pytest.fixture(scope="session")
def wasmtasks_server() -> WasmtasksServer:
    server: WasmtasksServer = _state["server"]
    return server


@pytest.fixture
def ntfy() -> Iterator[NtfyReceiver]:
    receiver: NtfyReceiver = _state["ntfy"]
    receiver.received.clear()
    receiver.fail_next.clear()
    yield receiver
    receiver.fail_next.clear()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
