"""The HTTP client natively: URLs, requests, responses; nothing is sent."""

import pytest

from wasmtasks_guest import http
from wasmtasks_guest.http import Response, Target


def test_urls_split_into_origin_and_path() -> None:
    target = Target.parse("https://ntfy.sh/alerts?x=1#frag")
    assert (target.origin, target.path_with_query) == ("https://ntfy.sh", "/alerts?x=1")
    bare = Target.parse("http://127.0.0.1:8080")
    assert (bare.authority, bare.path_with_query, bare.https) == ("127.0.0.1:8080", "/", False)
    assert Target.parse("http://h?q").path_with_query == "/?q"
    for bad in ["ntfy.sh", "ftp://x", "https://", "http://u@h/"]:
        with pytest.raises(http.InvalidUrl) as invalid:
            Target.parse(bad)
        assert str(invalid.value) == f"invalid URL `{bad}`: expected http(s)://host[:port][/path]"


def test_natively_requests_are_unavailable() -> None:
    with pytest.raises(http.Unavailable) as unavailable:
        http.post("http://h/", json=[1, 2], headers={"Title": "t"})
    assert isinstance(unavailable.value, http.HttpError)
    with pytest.raises(http.InvalidUrl):
        http.get("nowhere")


def test_responses_read_whole() -> None:
    response = Response(201, (("title", "x"),), b'{"a": 1}')
    assert response.ok
    assert response.header("Title") == "x"
    assert response.header("missing") is None
    assert response.json() == {"a": 1}
    assert response.text() == '{"a": 1}'
    assert not Response(503, (), b"").ok


def test_raise_for_status_passes_a_status_below_400() -> None:
    for status in (200, 204, 302, 399):
        response = Response(status, (), b"")
        assert response.raise_for_status() is response


@pytest.mark.parametrize("status", [400, 404, 503])
def test_raise_for_status_refuses_4xx_and_5xx(status: int) -> None:
    with pytest.raises(http.StatusError) as refused:
        Response(status, (), b"").raise_for_status()
    assert isinstance(refused.value, http.HttpError)
    assert refused.value.status == status
    assert str(refused.value) == f"the server answered HTTP {status}"
