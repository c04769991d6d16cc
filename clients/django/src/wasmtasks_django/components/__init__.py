"""Generated modules: ``wasmtasks_django.components.<component>``.

Importing ``wasmtasks_django.components.notify`` gives a module whose attributes
are that component's tasks, created on first use with ``wasm_task()``:
``import_string("wasmtasks_django.components.notify.send_notification")`` is the
Task for ``notify.send_notification``. This is what makes a wasm task's
``Task.module_path`` importable, as Django expects of every task.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

from django.tasks.exceptions import InvalidTask


class _ComponentModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    prefix = __name__ + "."

    def find_spec(
        self,
        fullname: str,
        path: Any = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self.prefix):
            return None
        component = fullname[len(self.prefix) :]
        if not component or "." in component:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=False)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        component = module.__name__[len(self.prefix) :]
        module.__doc__ = f"The tasks of the wasmtasks component {component!r}."

        def __getattr__(name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            from wasmtasks_django.tasks import wasm_task

            try:
                task = wasm_task(f"{component}.{name}")
            except InvalidTask as error:
                raise AttributeError(
                    f"module {module.__name__!r} has no task {name!r}: {error}"
                ) from error
            setattr(module, name, task)
            return task

        module.__getattr__ = __getattr__  # type: ignore[method-assign]


_finder = _ComponentModules()
if not any(isinstance(finder, _ComponentModules) for finder in sys.meta_path):
    sys.meta_path.append(_finder)
