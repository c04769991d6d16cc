"""The SDK's WIT is the contract itself (a link to guest-sdk/wit/task.wit) plus `wasi:http`."""

from pathlib import Path

from wasmtasks_guest.build import WIT_DIRECTORY, WORLD

CONTRACT = Path(__file__).resolve().parents[2] / "wit" / "task.wit"


def test_the_contract_is_the_single_source_of_truth() -> None:
    bundled = WIT_DIRECTORY / "deps" / "task" / "task.wit"
    assert bundled.read_text() == CONTRACT.read_text()
    assert "package wasmtasks:task@0.2.0;" in CONTRACT.read_text()


def test_the_world_adds_only_the_http_client_to_the_contract() -> None:
    world = (WIT_DIRECTORY / "world.wit").read_text()
    assert f"world {WORLD} {{" in world
    assert "include wasmtasks:task/task-component@0.2.0;" in world
    assert "import wasi:http/outgoing-handler@0.2.12;" in world
