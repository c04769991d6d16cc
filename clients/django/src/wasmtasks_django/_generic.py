"""Generic bases for subclassing Django's ``Task`` and ``TaskResult``.

django-stubs make them generic (``Task[P, R]``: the task's parameters and return
type), but at runtime Django's classes cannot be subscripted. Type checkers see
Django's classes here; at runtime these are empty generic subclasses,
so ``WasmTask[P, R]`` works in both worlds without patching Django.
"""

from typing import TYPE_CHECKING

from django.tasks import Task, TaskResult

if TYPE_CHECKING:
    GenericTask = Task
    GenericTaskResult = TaskResult
else:

    class GenericTask[**P, R](Task):
        __slots__ = ()

    class GenericTaskResult[**P, R](TaskResult):
        __slots__ = ()
