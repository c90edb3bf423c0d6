"""WSGI entry point: ``app = create_app()``. A configuration problem stops the process with
one line instead of a traceback.

A web worker must answer within a few seconds of starting: the statistics the web process
imports use ``scipy.special`` (fast to import), never ``scipy.stats`` or statsmodels
(`tests/survey/test_production.py` checks it)."""

from __future__ import annotations

import sys

from survey import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"Lỗi cấu hình: {exc}")
