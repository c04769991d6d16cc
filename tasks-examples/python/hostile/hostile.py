"""Python tasks that attack the sandbox one way each, for the host's limit tests.

`spin` loops forever (only fuel or the deadline stops it), `memory_bomb` grows a
list forever (only the memory cap stops it), `recurse` recurses as deep as it is
asked (CPython stops it with a `RecursionError` past its limit of 1000), and
`nest` makes CPython's C code recurse (`repr` of a deeply nested list), which
overflows the wasm call stack (`wasmtasks.StackOverflow`) past about 1000 levels.
"""

from wasmtasks_guest import task

MIB = 1 << 20


@task
def spin() -> None:
    """Loops forever."""
    counter = 0
    while True:
        counter += 1


@task
def memory_bomb() -> None:
    """Appends 1 MiB blocks, each written, to a list forever."""
    blocks: list[bytes] = []
    while True:
        blocks.append(b"\xa5" * MIB)


@task
def recurse(depth: int) -> int:
    """Recurses `depth` calls deep and returns `depth`."""
    return 0 if depth == 0 else recurse(depth - 1) + 1


@task
def nest(depth: int) -> int:
    """The length of the `repr` of a list nested `depth` levels deep."""
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return len(repr(value))
