"""WSGI entry point: ``app = create_app()``. A configuration problem stops the process with
one line instead of a traceback.

A web worker must answer within a few seconds of starting. ``scipy.stats`` alone takes about
a second to import and only the statistics behind analyst pages use it, so it is loaded on
first use (`defer_import`) instead of when the blueprints are imported."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

DEFERRED = ("scipy.stats",)


class _Deferred(types.ModuleType):
    """Stands in ``sys.modules`` for a module until one of its attributes is first read."""

    _lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        with _Deferred._lock:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
                real = importlib.import_module(self.__name__)
                self.__dict__.update(real.__dict__)
        return self.__dict__[name] if name in self.__dict__ else getattr(sys.modules[self.__name__], name)


def defer_import(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stub = _Deferred(name)
    stub.__spec__ = spec
    stub.__file__ = spec.origin
    stub.__path__ = list(spec.submodule_search_locations or [])
    sys.modules[name] = stub


for _name in DEFERRED:
    defer_import(_name)

from survey import ConfigError, create_app  # noqa: E402

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"Lỗi cấu hình: {exc}")
