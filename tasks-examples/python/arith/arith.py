"""The smallest Python task, for benchmarks: `arith.add`."""

from wasmtasks_guest import task


@task
def add(a: int, b: int) -> int:
    """The sum of `a` and `b`."""
    return a + b
