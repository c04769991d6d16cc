import notify
import pytest

from wasmtasks_guest import Component, TaskFailed, http


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[http.Request]:
    """The requests the task sends, each answered with the status in its body's place."""
    requests: list[http.Request] = []

    def send(request: http.Request) -> http.Response:
        requests.append(request)
        return http.Response(int(request.url.rsplit("/", 1)[1]), (), b"")

    monkeypatch.setattr(http, "send", send)
    return requests


def test_posts_the_message_with_its_title(
    monkeypatch: pytest.MonkeyPatch, sent: list[http.Request]
) -> None:
    monkeypatch.setenv("WASMTASKS_CONFIG_NTFY_URL", "https://ntfy.sh/200")
    assert notify.send_notification("Deploy finished", "CI") == 200
    assert notify.send_notification("no title") == 200
    assert sent == [
        http.Request("POST", "https://ntfy.sh/200", (("Title", "CI"),), b"Deploy finished"),
        http.Request("POST", "https://ntfy.sh/200", (), b"no title"),
    ]


def test_an_error_status_raises_so_the_policy_retries(
    monkeypatch: pytest.MonkeyPatch, sent: list[http.Request]
) -> None:
    monkeypatch.setenv("WASMTASKS_CONFIG_NTFY_URL", "https://ntfy.sh/503")
    with pytest.raises(http.StatusError, match="HTTP 503"):
        notify.send_notification("hi", "t")
    assert len(sent) == 1


def test_without_a_url_it_says_which_key_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WASMTASKS_CONFIG_NTFY_URL", raising=False)
    with pytest.raises(TaskFailed) as failed:
        Component.load("notify").run("send_notification", '["hi"]')
    assert failed.value.exception_class_path == "wasmtasks_guest.config.NotConfigured"
    assert failed.value.message.startswith("config key `ntfy_url` is not set")


def test_natively_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASMTASKS_CONFIG_NTFY_URL", "https://ntfy.sh/alerts")
    with pytest.raises(http.Unavailable):
        notify.send_notification("hi", "Deploy")


def test_declares_its_retry_policy_and_signature() -> None:
    [definition] = Component.load("notify").describe().tasks
    assert (definition.retry.max_attempts, definition.retry.backoff_factor) == (5, 1.0)
    assert [(param.name, param.required) for param in definition.params] == [
        ("message", True),
        ("title", False),
    ]
