"""A real ``wasmtasks serve`` for the tests, and a tiny ntfy-style receiver.

Nothing of the server is mocked: the suite starts the binary on a free port with
a fresh database (SQLite in a temporary directory, or a new PostgreSQL database),
creates a tenant and tokens, uploads the example components (the Rust ``arith``,
``flaky`` and ``welcome``, and the Python ``notify`` that the example project
enqueues), grants ``notify`` the receiver's origin and points its ``ntfy_url`` there.

The compiled components are cached in ``WASMTASKS_CACHE_DIR`` when it is set (CI
shares one between its runs, so the host compiles the 18 MiB Python component
once), else in the server's temporary directory.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, LiteralString

REPO = Path(__file__).resolve().parents[3]
BINARY = Path(os.environ.get("WASMTASKS_BIN", REPO / "target/debug/wasmtasks"))
COMPONENTS = Path(
    os.environ.get("WASMTASKS_COMPONENTS", REPO / "target/wasm-guests/wasm32-wasip2/release")
)
# The Python notify (tasks-examples/python/notify), where the Python guest SDK's
# builder writes it by default.
PYTHON_NOTIFY = Path(
    os.environ.get(
        "WASMTASKS_PYTHON_NOTIFY", REPO / "tasks-examples/python/notify/build/notify.wasm"
    )
)
POSTGRES_URL = os.environ.get(
    "WASMTASKS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
TENANT = "acme"

CONFIG = """\
[queues.default]
[queues.emails]
max_attempts = 3
backoff_factor = 0.1

[worker]
# One attempt at a time, so claims (priority, then availability) are observable;
# a short fallback poll, so retries and deferred jobs start promptly.
concurrency = 1
interval = "100ms"
"""


@dataclass
class Received:
    path: str
    title: str | None
    body: str


@dataclass
class NtfyReceiver:
    """Answers every POST with 200 (or the status queued in ``fail_next``)."""

    received: list[Received] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> NtfyReceiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                receiver.received.append(Received(self.path, self.headers.get("Title"), body))
                status = receiver.fail_next.pop(0) if receiver.fail_next else 200
                payload = json.dumps({"id": len(receiver.received)}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class WasmtasksServer:
    """``wasmtasks serve --workers 1`` on a fresh database, set up for the tests."""

    def __init__(self, database: str, ntfy: NtfyReceiver) -> None:
        self.database = database
        self.ntfy = ntfy
        self.dir = Path(tempfile.mkdtemp(prefix="wasmtasks-django-"))
        self.pg_database: str | None = None
        if database == "postgres":
            self.pg_database = f"wasmtasks_django_{uuid.uuid4().hex[:12]}"
            self.database_url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + self.pg_database
        else:
            self.database_url = f"sqlite://{self.dir}/db.sqlite3"
        self.env = {
            **os.environ,
            "WASMTASKS_DATABASE_URL": self.database_url,
            "WASMTASKS_CACHE_DIR": os.environ.get("WASMTASKS_CACHE_DIR") or str(self.dir / "cache"),
            "WASMTASKS_LOG": "warn",
        }
        for variable in ("WASMTASKS_SERVER", "WASMTASKS_TOKEN", "WASMTASKS_TENANT"):
            self.env.pop(variable, None)
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.token = ""
        self.reader_token = ""

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(BINARY), *args],
            cwd=self.dir,
            env=self.env,
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"wasmtasks {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stderr.decode()}{done.stdout.decode()}"
            )
        return done.stdout.decode().strip()

    def start(self) -> WasmtasksServer:
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: build it with cargo build -p wasmtasks-cli")
        if not PYTHON_NOTIFY.exists():
            raise RuntimeError(
                f"{PYTHON_NOTIFY} is missing: build it with the Python guest SDK "
                "(pip install 'guest-sdk/python[build]', then python -m wasmtasks_guest.build "
                "tasks-examples/python/notify), or point WASMTASKS_PYTHON_NOTIFY at it"
            )
        if self.pg_database:
            _psql("CREATE DATABASE {}", self.pg_database)
        (self.dir / "wasmtasks.toml").write_text(CONFIG)
        self.cli("tenant", "create", TENANT)
        self.token = self.cli("token", "create", TENANT, "--role", "admin")
        self.reader_token = self.cli("token", "create", TENANT, "--role", "reader")
        for component in ("arith", "welcome", "flaky"):
            self.cli("--tenant", TENANT, "upload", str(COMPONENTS / f"{component}.wasm"))
        self.cli("--tenant", TENANT, "upload", str(PYTHON_NOTIFY))
        self.cli("--tenant", TENANT, "grant", "notify", "--http", self.ntfy.origin)
        self.cli(
            "--tenant", TENANT, "config", "set", "notify", "ntfy_url", f"{self.ntfy.origin}/alerts"
        )
        log = (self.dir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--listen", "127.0.0.1:0", "--workers", "1"],
            cwd=self.dir,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        deadline = time.monotonic() + 60
        pattern = re.compile(r"wasmtasks serving (http://\S+)")
        while time.monotonic() < deadline:
            match = pattern.search((self.dir / "serve.log").read_text(errors="replace"))
            if match:
                self.url = match.group(1)
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(
            "wasmtasks serve did not start:\n" + (self.dir / "serve.log").read_text()
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.pg_database:
            _psql("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.pg_database)
        shutil.rmtree(self.dir, ignore_errors=True)


def _psql(statement: LiteralString, database: str) -> None:
    """Run ``statement`` (CREATE or DROP DATABASE) naming ``database``."""
    import psycopg
    from psycopg import sql

    query = sql.SQL(statement).format(sql.Identifier(database))
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as connection:
        connection.execute(query)


def postgres_reachable() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None
