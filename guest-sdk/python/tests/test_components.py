"""The examples and tests/projects/features built with componentize-py and run by the real host.

Marked `components` (deselect with `-m "not components"`); they need
componentize-py and the `wasmtasks` binary (`WASMTASKS_BIN`, default: the
checkout's `target/debug/wasmtasks`), and fail without them. Each project is
built once per session, in a temporary directory, and compiled once by the host
(into the session's compilation cache): both happen in the background from the
first test on, two projects at a time, while earlier tests run. Each test runs
`wasmtasks run FILE TASK ARGS... --json` in a working directory of its own,
holding the `wasmtasks.toml` the test writes.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

SDK = Path(__file__).resolve().parents[1]
REPOSITORY = SDK.parents[1]
EXAMPLES = REPOSITORY / "tasks-examples" / "python"
TEST_PROJECTS = SDK / "tests" / "projects"
PROJECTS = {
    "arith": EXAMPLES / "arith",
    "welcome": EXAMPLES / "welcome",
    "features": TEST_PROJECTS / "features",
    "notify": EXAMPLES / "notify",
    "hostile": EXAMPLES / "hostile",
}
"""The projects, in the order they are built (the order the tests need them)."""
WASMTASKS = Path(os.environ.get("WASMTASKS_BIN", REPOSITORY / "target" / "debug" / "wasmtasks"))

pytestmark = pytest.mark.components

Result = dict[str, Any]
"""A TaskResult as `wasmtasks run --json` prints it."""


def build(
    project: Path, output: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs `python -m wasmtasks_guest.build PROJECT -o OUTPUT`."""
    command = [sys.executable, "-m", "wasmtasks_guest.build", str(project), "-o", str(output)]
    return subprocess.run(command, capture_output=True, text=True, check=False, env=env)


def host_environment() -> dict[str, str]:
    """This process's environment without `WASMTASKS_*` variables, which would change the host."""
    return {name: value for name, value in os.environ.items() if not name.startswith("WASMTASKS_")}


def wasmtasks(
    *arguments: str, cache: Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the `wasmtasks` binary with the session's compilation cache."""
    return subprocess.run(
        [str(WASMTASKS), *arguments, "--cache-dir", str(cache)],
        cwd=cwd,
        env=host_environment(),
        capture_output=True,
        text=True,
        check=False,
    )


def offline_pip(wheels: Path) -> dict[str, str]:
    """An environment in which pip installs only from the wheels in `wheels`."""
    return {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}


class Components:
    """Every project of PROJECTS built and compiled once, in the background, two at a time."""

    def __init__(self, directory: Path, cache: Path, wheels: Path) -> None:
        self.directory = directory
        self.cache = cache
        self.wheels = wheels
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="build")
        self._built: dict[str, Future[Path]] = {
            name: self._pool.submit(self._prepare, name) for name in PROJECTS
        }

    def _prepare(self, name: str) -> Path:
        """Builds project `name` and has the host compile it (`inspect` fills the cache)."""
        output = self.directory / f"{name}.wasm"
        built = build(PROJECTS[name], output, env=offline_pip(self.wheels))
        assert built.returncode == 0, f"building {name} failed:\n{built.stderr}"
        assert built.stdout == f"{output}\n"
        inspected = wasmtasks("inspect", str(output), cache=self.cache)
        assert inspected.returncode == 0, inspected.stderr
        return output

    def __getitem__(self, name: str) -> Path:
        """The component file of project `name`, waiting for it."""
        return self._built[name].result()

    def close(self) -> None:
        """Waits for the builds still running."""
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the wheel of tests/projects/tinydep, which `features` depends on."""
    directory = tmp_path_factory.mktemp("wheels")
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "--wheel-dir", str(directory), str(TEST_PROJECTS / "tinydep")], check=True
    )
    return directory


@pytest.fixture(scope="session")
def components(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> Iterator[Components]:
    assert WASMTASKS.is_file(), (
        f"no wasmtasks binary at {WASMTASKS}: build it, or set WASMTASKS_BIN"
    )
    built = Components(
        tmp_path_factory.mktemp("components"), tmp_path_factory.mktemp("cache"), wheels
    )
    yield built
    built.close()


class Host:
    """Runs `wasmtasks` in a working directory of its own, on the session's components."""

    def __init__(self, workdir: Path, components: Components) -> None:
        self.workdir = workdir
        self.components = components

    def component(self, name: str) -> Path:
        """The component file of project `name`."""
        return self.components[name]

    def configure(self, toml: str) -> None:
        """Writes the `wasmtasks.toml` the next runs read."""
        (self.workdir / "wasmtasks.toml").write_text(toml)

    def wasmtasks(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return wasmtasks(*arguments, cache=self.components.cache, cwd=self.workdir)

    def run(
        self, name: str, task: str, *args: str, kwargs: object = None, flags: tuple[str, ...] = ()
    ) -> Result:
        """The TaskResult of running `task` of component `name` once."""
        extra = ("--kwargs", json.dumps(kwargs)) if kwargs is not None else ()
        ran = self.wasmtasks(
            "run", str(self.component(name)), task, *args, *extra, *flags, "--json"
        )
        assert ran.returncode in (0, 1), ran.stderr
        result: Result = json.loads(ran.stdout)
        assert (ran.returncode == 0) == (result["status"] == "SUCCESSFUL")
        return result

    def failure(
        self, name: str, task: str, *args: str, kwargs: object = None, flags: tuple[str, ...] = ()
    ) -> dict[str, str]:
        """The error of a run that failed."""
        result = self.run(name, task, *args, kwargs=kwargs, flags=flags)
        assert result["status"] == "FAILED", result
        error: dict[str, str] = result["errors"][-1]
        return error


@pytest.fixture
def host(tmp_path: Path, components: Components) -> Host:
    return Host(tmp_path, components)


def attempt(result: Result) -> dict[str, Any]:
    """The last attempt of a result."""
    entry: dict[str, Any] = result["attempt_log"][-1]
    return entry


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (["1"], None, "add() missing 1 required argument: 'b'"),
        ([], None, "add() missing 2 required arguments: 'a' and 'b'"),
        (["1", "2", "3"], None, "add() takes 2 positional arguments but 3 were given"),
        (["1"], {"c": 3}, "add() got an unexpected keyword argument 'c'"),
        (["1"], {"a": 3}, "add() got multiple values for argument 'a'"),
        (["x", "2"], None, "argument 'a' of add(): expected an integer, got a string"),
    ],
)
def test_binding_errors_are_invalid_arguments_with_pythons_words(
    host: Host, args: list[str], kwargs: object, message: str
) -> None:
    error = host.failure("arith", "add", *args, kwargs=kwargs)
    assert error["exception_class_path"] == "wasmtasks.InvalidArguments"
    assert error["traceback"] == f"wasmtasks.InvalidArguments: {message}\n"


def test_cpython_needs_about_13_mib_to_start(host: Host) -> None:
    assert host.run("arith", "add", "1", "2", flags=("--memory", "13MiB"))["return_value"] == 3
    error = host.failure("arith", "add", "1", "2", flags=("--memory", "12MiB"))
    assert error["exception_class_path"] == "wasmtasks.MemoryLimit"


def test_inspect_shows_the_signatures_in_python_notation(host: Host) -> None:
    lines = {
        "arith": "arith.add(a: int, b: int) -> int  [priority 0, queue default]",
        "welcome": "welcome.welcome(user_email: str, username: str) -> WelcomeEmail  [priority 10, queue emails]",
        "features": "features.pair(values: tuple[int, str], weights: dict[str, float] | None = None) -> list[Any]",
        "notify": "notify.send_notification(message: str, title: str | None = None) -> int  [priority 0, queue default, max_attempts 5, backoff_factor 1]",
    }
    for name, line in lines.items():
        inspected = host.wasmtasks("inspect", str(host.component(name)), "--output", "table")
        assert inspected.returncode == 0, inspected.stderr
        assert f"component {name} " in inspected.stdout
        assert line in inspected.stdout
    described = json.loads(
        host.wasmtasks("inspect", str(host.component("features")), "--json").stdout
    )
    assert (described["declared_name"], described["contract"]) == ("features", "0.2.0")
    tasks = {task["name"]: task for task in described["tasks"]}
    assert tasks["whoami"]["takes_context"] is True
    assert tasks["whoami"]["priority"] == -5
    assert tasks["whoami"]["retry"] == {"max_attempts": 2}
    centroid = tasks["centroid"]["signature"]
    assert centroid["params"][0]["schema"]["items"] == {"$ref": "#/$defs/Point"}
    assert centroid["params"][2] == {
        "name": "mode",
        "required": False,
        "schema": {"enum": ["mean", "first"], "default": "mean"},
    }
    assert centroid["returns"]["title"] == "Point"


def test_return_values_come_back_as_json(host: Host) -> None:
    assert host.run("arith", "add", "2", "3")["return_value"] == 5
    assert host.run("welcome", "welcome", "ada@example.com", "ada")["return_value"] == {
        "to": "ada@example.com",
        "subject": "Welcome, ada!",
        "body": "Hi ada,\n\nyour account is ready. We are glad to have you.\n\nThe team",
    }
    points = [{"x": 0, "y": 0}, {"x": 2, "y": 4}]
    centroid = host.run(
        "features", "centroid", json.dumps(points), kwargs={"labels": {"name": "p"}}
    )
    assert centroid["return_value"] == {"x": 1.0, "y": 2.0}
    assert host.run("features", "pair", '[1, "a"]')["return_value"] == [[1, "a"], None]
    assert host.run("features", "python_version")["return_value"].startswith("3.14")


def test_nested_values_are_checked_where_they_are(host: Host) -> None:
    error = host.failure(
        "features", "centroid", '[{"x": 1, "y": "2"}]', kwargs={"labels": {"name": "p"}}
    )
    assert error["traceback"].startswith(
        "wasmtasks.InvalidArguments: argument 'points' of centroid(): [0].y: expected a number, got a string\n"
    )


def test_an_exception_is_recorded_with_its_class_path_and_traceback(host: Host) -> None:
    error = host.failure("welcome", "welcome", "nobody", "ada")
    assert error["exception_class_path"] == "welcome.WelcomeError"
    traceback = error["traceback"]
    assert traceback.startswith(
        """welcome.WelcomeError: invalid email address "nobody": it has no '@'\n"""
    )
    assert "Traceback (most recent call last):\n" in traceback
    assert 'welcome.py", line' in traceback
    assert ", in welcome\n" in traceback
    builtin = host.failure("features", "divide", "1", "0")
    assert builtin["exception_class_path"] == "builtins.ZeroDivisionError"
    assert builtin["traceback"].startswith("builtins.ZeroDivisionError: division by zero\n")


def test_a_context_task_receives_the_run_in_progress(host: Host) -> None:
    result = host.run("features", "whoami")
    assert result["return_value"] == {
        "task_result_id": result["id"],
        "attempt": 1,
        "task_path": "features.whoami",
        "queue_name": "default",
        "priority": -5,
    }


def test_configuration_secrets_and_log_lines(host: Host) -> None:
    host.configure(
        '[components.features.config]\ngreeting = "hello"\n[components.features.secrets]\ntoken = "s3cr3t-value"\n'
    )
    result = host.run("features", "setting", "greeting")
    assert result["return_value"] == "hello"
    assert attempt(result)["stderr"] == (
        '{"level":"info","message":"read greeting"}\n'
        '{"level":"warning","message":"details","fields":{"found":true}}\n'
    )
    assert host.run("features", "setting", "token")["return_value"] == "[REDACTED]"
    assert host.run("features", "setting", "absent")["return_value"] is None


def test_randomness_differs_between_attempts(host: Host) -> None:
    rolls = {host.run("features", "roll")["return_value"] for _ in range(2)}
    assert len(rolls) == 2


def test_a_pure_python_dependency_is_bundled(host: Host) -> None:
    assert host.run("features", "greet")["return_value"] == "hello from tinydep"


class Recorder(BaseHTTPRequestHandler):
    """Answers POST /fail with 503, anything else with 200, and records each request."""

    requests: list[dict[str, object]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.requests.append(
            {"path": self.path, "title": self.headers.get("Title"), "body": body.decode()}
        )
        self.answer(503 if self.path == "/fail" else 200, b"ok")

    def do_GET(self) -> None:
        self.answer(200, b"plain text")

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, object]]]]:
    requests: list[dict[str, object]] = []
    handler = type("Handler", (Recorder,), {"requests": requests})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", requests
    httpd.shutdown()
    httpd.server_close()


def test_http_to_a_granted_origin(host: Host, server: tuple[str, list[dict[str, object]]]) -> None:
    origin, requests = server
    host.configure(
        f'[components.notify]\nallow_http = ["{origin}"]\n'
        f'[components.notify.config]\nntfy_url = "{origin}/alerts"\n'
        f'[components.features]\nallow_http = ["{origin}"]\n'
    )
    result = host.run("notify", "send_notification", "Deploy finished", kwargs={"title": "CI"})
    assert result["return_value"] == 200
    assert host.run("notify", "send_notification", "untitled")["return_value"] == 200
    assert requests == [
        {"path": "/alerts", "title": "CI", "body": "Deploy finished"},
        {"path": "/alerts", "title": None, "body": "untitled"},
    ]
    fetched = host.run("features", "fetch", f"{origin}/status")["return_value"]
    assert fetched == {"status": 200, "type": "text/plain", "body": "plain text"}


def test_an_error_status_fails_the_attempt(
    host: Host, server: tuple[str, list[dict[str, object]]]
) -> None:
    origin, requests = server
    host.configure(
        f'[components.notify]\nallow_http = ["{origin}"]\n[components.notify.config]\nntfy_url = "{origin}/fail"\n'
    )
    error = host.failure("notify", "send_notification", "x", "t")
    assert error["exception_class_path"] == "wasmtasks_guest.http.StatusError"
    assert error["traceback"].startswith(
        "wasmtasks_guest.http.StatusError: the server answered HTTP 503\n"
    )
    assert ", in send_notification\n" in error["traceback"]
    assert requests == [{"path": "/fail", "title": "t", "body": "x"}]


def test_a_request_to_an_origin_not_granted_is_denied(
    host: Host, server: tuple[str, list[dict[str, object]]]
) -> None:
    origin, requests = server
    host.configure(f'[components.notify.config]\nntfy_url = "{origin}/alerts"\n')
    error = host.failure("notify", "send_notification", "x")
    assert error["exception_class_path"] == "wasmtasks.HttpDenied"
    assert "the task failed with wasmtasks_guest.http.Denied: " in error["traceback"]
    assert requests == []


def test_a_missing_configuration_key_is_named(host: Host) -> None:
    error = host.failure("notify", "send_notification", "x")
    assert error["exception_class_path"] == "wasmtasks_guest.config.NotConfigured"
    assert error["traceback"].startswith(
        "wasmtasks_guest.config.NotConfigured: config key `ntfy_url` is not set "
        "(wasmtasks config set COMPONENT ntfy_url VALUE)\n"
    )


def test_the_worker_runs_enqueued_jobs_with_the_tasks_declared_defaults(
    host: Host, server: tuple[str, list[dict[str, object]]]
) -> None:
    origin, requests = server
    host.configure('database_url = "sqlite://queue.sqlite3"\n[queues.default]\n[queues.emails]\n')

    def ok(*arguments: str) -> str:
        ran = host.wasmtasks(*arguments)
        assert ran.returncode == 0, ran.stderr
        return ran.stdout

    ok("upload", str(host.component("notify")), "--allow-http", origin)
    ok("upload", str(host.component("welcome")))
    ok("config", "set", "notify", "ntfy_url", f"{origin}/fail")
    failing = json.loads(
        ok("enqueue", "notify.send_notification", "down", "--kwargs", '{"title": "T"}')
    )
    email = json.loads(ok("enqueue", "welcome.welcome", "ada@example.com", "ada"))
    assert (email["queue_name"], email["priority"]) == ("emails", 10)
    worker = subprocess.run(
        [str(WASMTASKS), "worker", "--max-tasks", "6", "--cache-dir", str(host.components.cache)],
        cwd=host.workdir,
        env=host_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr
    welcomed = json.loads(ok("result", email["id"]))
    assert welcomed["status"] == "SUCCESSFUL"
    assert welcomed["return_value"]["subject"] == "Welcome, ada!"
    failed = json.loads(host.wasmtasks("result", failing["id"]).stdout)
    assert (failed["status"], failed["attempts"]) == ("FAILED", 5)
    assert {error["exception_class_path"] for error in failed["errors"]} == {
        "wasmtasks_guest.http.StatusError"
    }
    assert requests == [{"path": "/fail", "title": "T", "body": "down"}] * 5


def test_an_endless_loop_runs_out_of_fuel(host: Host) -> None:
    result = host.run("hostile", "spin", flags=("--fuel", str(10**8), "--timeout", "60s"))
    assert result["errors"][-1]["exception_class_path"] == "wasmtasks.OutOfFuel"
    assert attempt(result)["fuel_consumed"] >= 10**8


def test_an_endless_loop_with_fuel_to_spare_times_out(host: Host) -> None:
    result = host.run("hostile", "spin", flags=("--fuel", str(10**15), "--timeout", "2s"))
    assert result["errors"][-1]["exception_class_path"] == "wasmtasks.Timeout"
    assert 2_000_000 <= attempt(result)["duration_us"] < 10_000_000


def test_a_list_that_grows_forever_hits_the_memory_cap(host: Host) -> None:
    result = host.run("hostile", "memory_bomb", flags=("--memory", "64MiB"))
    error = result["errors"][-1]
    assert error["exception_class_path"] == "wasmtasks.MemoryLimit"
    assert "the limit is 67108864" in error["traceback"]
    assert attempt(result)["peak_memory_bytes"] > 32 << 20


def test_deep_recursion_is_a_recursion_error(host: Host) -> None:
    error = host.failure("hostile", "recurse", "100000")
    assert error["exception_class_path"] == "builtins.RecursionError"
    assert error["traceback"].startswith(
        "builtins.RecursionError: maximum recursion depth exceeded\n"
    )
    assert "[Previous line repeated" in error["traceback"]
    assert host.run("hostile", "recurse", "500")["return_value"] == 500


def test_deep_recursion_in_cpythons_c_code_overflows_the_wasm_stack(host: Host) -> None:
    assert host.run("hostile", "nest", "100")["return_value"] == 202
    error = host.failure("hostile", "nest", "100000")
    assert error["exception_class_path"] == "wasmtasks.StackOverflow"
    assert error["traceback"].startswith(
        "wasmtasks.StackOverflow: the wasm call stack overflowed\n"
    )
    assert "libpython3.14.so!" in error["traceback"]


def test_a_bad_declaration_fails_the_build_with_its_message(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.wasmtasks]\nmodule = "broken"\n')
    (tmp_path / "broken.py").write_text(
        "from wasmtasks_guest import task\n\n@task(priority=500)\ndef f() -> None:\n    pass\n"
    )
    built = build(tmp_path, tmp_path / "broken.wasm")
    assert built.returncode == 1
    assert "TaskDeclarationError: `priority` must be between -100 and 100, got 500" in built.stderr
    assert built.stderr.endswith(
        "error: componentize-py could not build the component; its error is above\n"
    )
    assert built.stdout == ""
    assert not (tmp_path / "broken.wasm").exists()


def test_a_dependency_without_a_pure_python_wheel_fails_the_build(
    tmp_path: Path, wheels: Path
) -> None:
    [wheel] = wheels.glob("tinydep-1.0-*.whl")
    platform_only = tmp_path / "wheels"
    platform_only.mkdir()
    # What a package with C extensions publishes: wheels for one platform and CPython only.
    shutil.copy(wheel, platform_only / "tinydep-2.0-cp312-cp312-manylinux_2_17_x86_64.whl")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "uses"\ndependencies = ["wasmtasks-guest", "tinydep==2.0"]\n'
        '[tool.wasmtasks]\nmodule = "uses"\n'
    )
    (tmp_path / "uses.py").write_text("import tinydep\n")
    built = build(tmp_path, tmp_path / "uses.wasm", env=offline_pip(platform_only))
    assert built.returncode == 1
    assert "No matching distribution found for tinydep==2.0" in built.stderr
    assert built.stderr.endswith(
        "error: could not install the dependencies as pure-Python wheels (py3-none-any) for "
        "CPython 3.14: tinydep==2.0. A package with C extensions cannot be bundled into a "
        "component unless it publishes a WASI wheel; pip's error is above\n"
    )
    assert built.stdout == ""


def test_arith_add_is_small_and_quick_enough(host: Host) -> None:
    # Last, when no build runs beside it: the figures it prints are the README's.
    component = host.component("arith")
    size = component.stat().st_size
    runs = [attempt(host.run("arith", "add", "2", "3")) for _ in range(10)]
    durations = [run["duration_us"] for run in runs]
    median = statistics.median(durations)
    print(
        f"\narith.add: component {size / (1 << 20):.1f} MiB, attempt median {median} us of "
        f"{durations}, fuel {runs[0]['fuel_consumed']}, peak memory "
        f"{runs[0]['peak_memory_bytes'] / (1 << 20):.1f} MiB"
    )
    assert size < 64 << 20  # the host's default max_component_size
    assert median < 250_000
