"""Sending one request through `wasi:http` (the bindings componentize-py generates).

Only importable inside a component; `wasmtasks_guest.http` is the API tasks use.
"""

import contextlib
import sys
from collections.abc import Callable

assert sys.platform == "wasi", "wasmtasks_guest._wasi_http exists only inside a component"

from componentize_py_types import Err, Ok  # noqa: E402
from wit_world.imports import outgoing_handler, streams  # noqa: E402
from wit_world.imports import wasi_http_types as types  # noqa: E402

WRITE_CHUNK = 4096
"""The most `blocking-write-and-flush` accepts at once."""
READ_CHUNK = 64 * 1024

METHODS: dict[str, types.Method] = {
    "GET": types.Method_Get(),
    "HEAD": types.Method_Head(),
    "POST": types.Method_Post(),
    "PUT": types.Method_Put(),
    "DELETE": types.Method_Delete(),
    "OPTIONS": types.Method_Options(),
    "PATCH": types.Method_Patch(),
}


class RequestDenied(Exception):
    """The host refused the request: its origin is not granted."""


class RequestFailed(Exception):
    """The request failed; `str()` says how."""


def send(
    method: str,
    https: bool,
    authority: str,
    path_with_query: str,
    headers: tuple[tuple[str, str], ...],
    body: bytes,
) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """Sends a request and reads the whole response: `(status, headers, body)`."""
    fields = [(name.lower(), value.encode()) for name, value in headers]
    if body:
        fields.append(("content-length", str(len(body)).encode()))
    try:
        request = types.OutgoingRequest(types.Fields.from_list(fields))
    except Err as error:
        raise RequestFailed(f"bad header: {error.value}") from None
    scheme = types.Scheme_Https() if https else types.Scheme_Http()
    _set(lambda: request.set_method(METHODS.get(method, types.Method_Other(method))), "method")
    _set(lambda: request.set_scheme(scheme), "scheme")
    _set(lambda: request.set_authority(authority), f"authority {authority!r}")
    _set(lambda: request.set_path_with_query(path_with_query), f"path {path_with_query!r}")
    outgoing = request.body()
    try:
        future = outgoing_handler.handle(request, None)
    except Err as error:
        raise _failure(error.value) from None
    _write(outgoing, body)
    with future, future.subscribe() as ready:
        ready.block()
        outcome = future.get()
    if not isinstance(outcome, Ok):
        raise RequestFailed("no response")
    if isinstance(outcome.value, Err):
        raise _failure(outcome.value.value)
    with outcome.value.value as response:
        status = response.status()
        with response.headers() as received:
            header_list = tuple(
                (name, value.decode("utf-8", errors="replace"))
                for name, value in received.entries()
            )
        return status, header_list, _read(response.consume())


def _set(setter: Callable[[], None], what: str) -> None:
    """Calls one of a request's setters, which fail with `Err(None)` on an invalid `what`."""
    try:
        setter()
    except Err:
        raise RequestFailed(f"invalid {what}") from None


def _write(outgoing: types.OutgoingBody, body: bytes) -> None:
    """Writes `body` and finishes it.

    A refused request has no one reading its body: write errors are expected then,
    and the response says why.
    """
    with contextlib.suppress(Err), outgoing.write() as stream:
        for start in range(0, len(body), WRITE_CHUNK):
            stream.blocking_write_and_flush(body[start : start + WRITE_CHUNK])
    with contextlib.suppress(Err):
        types.OutgoingBody.finish(outgoing, None)


def _read(incoming: types.IncomingBody) -> bytes:
    """The whole body of a response."""
    chunks: list[bytes] = []
    with incoming, incoming.stream() as stream:
        while True:
            try:
                chunks.append(stream.blocking_read(READ_CHUNK))
            except Err as error:
                if isinstance(error.value, streams.StreamError_Closed):
                    break
                code = types.http_error_code(error.value.value)
                if code is None:
                    raise RequestFailed("reading the response body failed") from None
                raise _failure(code) from None
    return b"".join(chunks)


def _failure(code: types.ErrorCode) -> Exception:
    """The exception for a `wasi:http` error code."""
    if isinstance(code, types.ErrorCode_HttpRequestDenied):
        return RequestDenied()
    return RequestFailed(type(code).__name__.removeprefix("ErrorCode_"))
