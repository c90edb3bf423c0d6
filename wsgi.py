"""WSGI entry point: ``app = create_app()``. A configuration problem stops the process with
one line instead of a traceback."""

import sys

from survey import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"Lỗi cấu hình: {exc}")
