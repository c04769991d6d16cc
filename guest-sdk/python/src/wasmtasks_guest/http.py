"""A small blocking HTTP client over `wasi:http`, for the origins granted to the component.

    from wasmtasks_guest import http

    response = http.post("https://ntfy.sh/alerts", body="done", headers={"Title": "Deploy"})
    response.raise_for_status()  # http.StatusError for a 4xx or 5xx
    status = http.get("https://ntfy.sh/v1/health").json()

The host refuses a request to any origin it did not grant (`wasmtasks grant
COMPONENT --http https://ntfy.sh`) before anything leaves the machine: `send`
raises `Denied`, and if the task lets it propagate the host records the attempt
as `wasmtasks.HttpDenied`. Responses are read whole (up to the host's cap).
Natively (in tests) nothing is sent: `send` raises `Unavailable`.
"""

import json as jsonlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass


class HttpError(Exception):
    """Why a request failed."""


class InvalidUrl(HttpError):
    """The URL is not `http(s)://host[:port][/path][?query]`."""

    def __init__(self, url: str) -> None:
        """`url` cannot be sent."""
        super().__init__(f"invalid URL `{url}`: expected http(s)://host[:port][/path]")
        self.url = url


class Denied(HttpError):
    """The host refused the request: the origin is not in this component's allow-list."""

    def __init__(self, origin: str) -> None:
        """A request to `origin` (`scheme://host[:port]`) was refused."""
        super().__init__(
            f"the request to {origin} was denied: the origin is not in this component's allow-list"
        )
        self.origin = origin


class Failed(HttpError):
    """The request was sent (or refused by a host limit) and failed."""

    def __init__(self, reason: str) -> None:
        """The request failed because of `reason`."""
        super().__init__(f"the HTTP request failed: {reason}")
        self.reason = reason


class StatusError(HttpError):
    """The server answered with an error status (4xx or 5xx): `Response.raise_for_status`."""

    def __init__(self, status: int) -> None:
        """The server answered `status`."""
        super().__init__(f"the server answered HTTP {status}")
        self.status = status


class Unavailable(HttpError):
    """No `wasi:http` here: the code runs natively, not in a component."""

    def __init__(self) -> None:
        """HTTP is not available."""
        super().__init__(
            "HTTP requests need the wasmtasks host (a component built with wasmtasks_guest.build)"
        )


@dataclass(frozen=True)
class Request:
    """An HTTP request, ready to send."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class Response:
    """A response, read whole."""

    status: int
    """The status code, e.g. 200."""
    headers: tuple[tuple[str, str], ...]
    """The headers, names in lower case, in the order received."""
    body: bytes
    """The body."""

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def raise_for_status(self) -> "Response":
        """The response itself if its status is below 400; else raises `StatusError`."""
        if self.status >= 400:
            raise StatusError(self.status)
        return self

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or `None`."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def text(self) -> str:
        """The body as text (invalid UTF-8 replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> object:
        """The body parsed as JSON; raises `ValueError` if it is not JSON."""
        return jsonlib.loads(self.body)


@dataclass(frozen=True)
class Target:
    """A URL split the way `wasi:http` wants it."""

    https: bool
    authority: str
    path_with_query: str

    @classmethod
    def parse(cls, url: str) -> "Target":
        """`url` split, or `InvalidUrl`."""
        scheme, separator, rest = url.partition("://")
        if not separator or scheme.lower() not in ("http", "https"):
            raise InvalidUrl(url)
        rest = rest.split("#", 1)[0]
        end = min(
            (index for index in (rest.find("/"), rest.find("?")) if index >= 0), default=len(rest)
        )
        authority, path = rest[:end], rest[end:]
        if not authority or "@" in authority:
            raise InvalidUrl(url)
        if not path:
            path = "/"
        elif path.startswith("?"):
            path = "/" + path
        return cls(https=scheme.lower() == "https", authority=authority, path_with_query=path)

    @property
    def origin(self) -> str:
        """`scheme://authority`, as a denial names it."""
        return f"{'https' if self.https else 'http'}://{self.authority}"


Body = bytes | str
"""A request body: bytes as they are, text as UTF-8."""


def get(url: str, *, headers: Mapping[str, str] | None = None) -> Response:
    """Sends a `GET` request to `url`."""
    return request("GET", url, headers=headers)


def post(
    url: str,
    body: Body = b"",
    *,
    headers: Mapping[str, str] | None = None,
    json: object = None,
) -> Response:
    """Sends a `POST` request to `url` with `body`, or with `json` as a JSON body."""
    return request("POST", url, body=body, headers=headers, json=json)


def request(
    method: str,
    url: str,
    *,
    body: Body = b"",
    headers: Mapping[str, str] | None = None,
    json: object = None,
) -> Response:
    """Sends a request with any method (`PUT`, `DELETE`, ...) and reads the whole response.

    `json` (anything but `None`) replaces `body` with the value as JSON and sets
    `Content-Type: application/json`. Raises an `HttpError`.
    """
    header_list = list((headers or {}).items())
    content = body.encode() if isinstance(body, str) else body
    if json is not None:
        content = jsonlib.dumps(json).encode()
        header_list.append(("content-type", "application/json"))
    return send(Request(method.upper(), url, tuple(header_list), content))


if sys.platform == "wasi":
    from wasmtasks_guest import _wasi_http

    def send(request: Request) -> Response:
        """Sends `request` through the host's `wasi:http`."""
        target = Target.parse(request.url)
        try:
            status, headers, body = _wasi_http.send(
                request.method,
                target.https,
                target.authority,
                target.path_with_query,
                request.headers,
                request.body,
            )
        except _wasi_http.RequestDenied:
            raise Denied(target.origin) from None
        except _wasi_http.RequestFailed as error:
            raise Failed(str(error)) from None
        return Response(status, headers, body)

else:

    def send(request: Request) -> Response:
        """Checks `request`'s URL, then raises `Unavailable`: natively nothing is sent."""
        Target.parse(request.url)
        raise Unavailable()
