"""`log`: one JSON object per line on stderr."""

import pytest

from wasmtasks_guest import log


def test_each_call_writes_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    log.info("hi")
    log.warning("slow")
    log.error("down")
    log.debug("detail")
    log.event("warning", "slow server", {"ms": 1200, "at": {1, 2}})
    assert capsys.readouterr().err.splitlines() == [
        '{"level":"info","message":"hi"}',
        '{"level":"warning","message":"slow"}',
        '{"level":"error","message":"down"}',
        '{"level":"debug","message":"detail"}',
        '{"level":"warning","message":"slow server","fields":{"ms":1200,"at":"{1, 2}"}}',
    ]
