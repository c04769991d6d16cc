"""A thin HTTP client for the wasmtasks API (``/api/v1``), sync and async.

The sync side keeps one ``httpx.Client`` (thread-safe, a connection pool). An
``httpx.AsyncClient`` belongs to the event loop that first used it, so the async
side keeps one per loop: under ASGI that is one client for the process; a fresh
loop (``async_to_sync`` in a test, say) gets its own.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

import httpx

from .exceptions import ServerUnavailable, WasmTasksError, error_for_problem

API = "/api/v1"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("django-wasmtasks")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "0"


USER_AGENT = f"django-wasmtasks/{_version()}"


def format_wait(seconds: float) -> str:
    """A wait as the API takes it (``30s``, ``500ms``)."""
    return f"{max(0, round(seconds * 1000))}ms"


class ApiClient:
    """Requests to one server with one token; errors become ``WasmTasksError``."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 5.0,
        tenant: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        if tenant:
            self._headers["X-Wasmtasks-Tenant"] = tenant
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._async: tuple[weakref.ref[asyncio.AbstractEventLoop], httpx.AsyncClient] | None = None

    # -- plumbing ---------------------------------------------------------------

    def _timeout(self, wait: float | None) -> httpx.Timeout:
        # A long poll answers after `wait` at the latest: read for that long too.
        return httpx.Timeout(self.timeout, read=self.timeout + (wait or 0.0))

    def _sync_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None or self._client.is_closed:
                self._client = httpx.Client(base_url=self.url, headers=self._headers)
            return self._client

    def _async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        cached = self._async
        if cached is not None and cached[0]() is loop and not cached[1].is_closed:
            return cached[1]
        client = httpx.AsyncClient(base_url=self.url, headers=self._headers)
        self._async = (weakref.ref(loop), client)
        return client

    def _unavailable(self, error: httpx.HTTPError) -> ServerUnavailable:
        reason = str(error) or type(error).__name__
        return ServerUnavailable(f"cannot reach the wasmtasks server at {self.url}: {reason}")

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        if response.is_success:
            if response.status_code == 204 or not response.content:
                return None
            return response.json()
        try:
            problem = response.json()
        except ValueError:
            problem = None
        raise error_for_problem(
            response.status_code,
            problem if isinstance(problem, dict) else None,
            response.text,
        )

    # -- sync -----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        wait: float | None = None,
    ) -> Any:
        try:
            response = self._sync_client().request(
                method, API + path, json=json, params=params, timeout=self._timeout(wait)
            )
        except httpx.HTTPError as error:
            raise self._unavailable(error) from error
        return self._decode(response)

    def get(
        self, path: str, *, params: dict[str, str] | None = None, wait: float | None = None
    ) -> Any:
        return self.request("GET", path, params=params, wait=wait)

    def post(self, path: str, json: Any) -> Any:
        return self.request("POST", path, json=json)

    # -- async ----------------------------------------------------------------

    async def arequest(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        wait: float | None = None,
    ) -> Any:
        try:
            response = await self._async_client().request(
                method, API + path, json=json, params=params, timeout=self._timeout(wait)
            )
        except httpx.HTTPError as error:
            raise self._unavailable(error) from error
        return self._decode(response)

    async def aget(
        self, path: str, *, params: dict[str, str] | None = None, wait: float | None = None
    ) -> Any:
        return await self.arequest("GET", path, params=params, wait=wait)

    async def apost(self, path: str, json: Any) -> Any:
        return await self.arequest("POST", path, json=json)

    # -- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def aclose(self) -> None:
        cached, self._async = self._async, None
        if cached is not None:
            await cached[1].aclose()


__all__ = ["API", "ApiClient", "WasmTasksError", "format_wait"]
