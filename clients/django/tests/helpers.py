"""Direct calls to the server's API, to check what it holds (not through the backend)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from django.utils import timezone

from tests.server import WasmtasksServer


def api(server: WasmtasksServer, token: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=server.url + "/api/v1",
        headers={"Authorization": f"Bearer {token or server.token}"},
        timeout=10,
    )


def job_ids(server: WasmtasksServer, task: str) -> set[str]:
    """Every job of ``task`` the server holds."""
    ids: set[str] = set()
    params: dict[str, Any] = {"task": task, "limit": 1000}
    with api(server) as client:
        while True:
            page = client.get("/jobs", params=params).raise_for_status().json()
            ids.update(job["id"] for job in page["jobs"])
            if not page.get("next_cursor"):
                return ids
            params["cursor"] = page["next_cursor"]


def cancel(server: WasmtasksServer, job_id: str) -> dict[str, Any]:
    with api(server) as client:
        answer: dict[str, Any] = client.post(f"/jobs/{job_id}/cancel").raise_for_status().json()
        return answer


def soon(seconds: float) -> Any:
    return timezone.now() + timedelta(seconds=seconds)
