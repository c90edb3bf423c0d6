"""Feature modules imported on first use, so that a web worker starts without pandas,
pyarrow, reportlab or qrcode (`tests/survey/test_production.py` checks it).

A blueprint's views or a command group name the modules they call as usual for the type
checker and import-linter (``if TYPE_CHECKING: from survey.reports import exports``) and
bind the name at run time to ``lazy.module("survey.reports.exports")``: the module is
imported the first time one of its attributes is read — by the first request or command
that needs it — and is then the ordinary module in ``sys.modules``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for a module until one of its attributes is read."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def module(name: str) -> Any:
    """A stand-in for the module `name`, imported when first used."""
    return LazyModule(name)


def loaded(name: str) -> ModuleType:
    """The module `name`, imported now."""
    return importlib.import_module(name)
