"""`config.get` and `config.require` natively: the environment variable standing for the key."""

import pytest

from wasmtasks_guest import config


def test_natively_a_key_is_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.native_variable("ntfy-url.v2") == "WASMTASKS_CONFIG_NTFY_URL_V2"
    monkeypatch.setenv("WASMTASKS_CONFIG_NTFY_URL", "https://ntfy.sh/alerts")
    assert config.get("ntfy_url") == "https://ntfy.sh/alerts"
    assert config.require("ntfy_url") == "https://ntfy.sh/alerts"
    assert config.get("surely-not-set-anywhere") is None


def test_require_says_how_to_set_a_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WASMTASKS_CONFIG_NTFY_URL", raising=False)
    with pytest.raises(config.NotConfigured) as missing:
        config.require("ntfy_url")
    assert isinstance(missing.value, LookupError)
    assert missing.value.key == "ntfy_url"
    assert str(missing.value) == (
        "config key `ntfy_url` is not set "
        "(natively, the environment variable WASMTASKS_CONFIG_NTFY_URL)"
    )
