"""The seeds' notification task: posts `message` to the ntfy URL in config key `ntfy_url`."""

from wasmtasks_guest import config, http, task


@task(max_attempts=5, backoff_factor=1.0)
def send_notification(message: str, title: str | None = None) -> int:
    """Posts `message` with the `Title` header; returns the HTTP status (4xx/5xx raise)."""
    headers = {"Title": title} if title else {}
    response = http.post(config.require("ntfy_url"), body=message, headers=headers)
    return response.raise_for_status().status
