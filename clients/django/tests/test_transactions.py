"""Enqueueing from a transaction: ``transaction.on_commit(partial(task.enqueue, ...))``."""

from __future__ import annotations

from functools import partial

import pytest
from django.db import transaction

from tests import wasm_tasks
from tests.helpers import job_ids
from tests.server import WasmtasksServer


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing(wasmtasks_server: WasmtasksServer) -> None:
    before = job_ids(wasmtasks_server, "arith.sum")

    def request() -> None:
        with transaction.atomic():
            transaction.on_commit(partial(wasm_tasks.total.enqueue, [1.0, 2.0]))
            raise Rollback

    with pytest.raises(Rollback):
        request()

    with transaction.atomic():
        transaction.on_commit(partial(wasm_tasks.total.enqueue, [3.0]))
        transaction.set_rollback(True)

    assert job_ids(wasmtasks_server, "arith.sum") == before


@pytest.mark.django_db(transaction=True)
def test_a_committed_transaction_enqueues_once(wasmtasks_server: WasmtasksServer) -> None:
    before = job_ids(wasmtasks_server, "arith.sum")

    with transaction.atomic():
        transaction.on_commit(partial(wasm_tasks.total.enqueue, [1.5, 2.5]))
        assert job_ids(wasmtasks_server, "arith.sum") == before  # not before commit

    [new] = job_ids(wasmtasks_server, "arith.sum") - before
    result = wasm_tasks.total.get_result(new)
    result.refresh(wait=20)
    assert result.return_value == 4.0
