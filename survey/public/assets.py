"""Static files under versioned URLs, cached for a year.

``url_for("static", filename=…)`` adds ``?v=`` and the first 12 hex digits of the file's
sha256, so a changed file gets a new address. A request carrying the current version is
answered with ``Cache-Control: public, max-age=31536000, immutable``: a phone fetches the
style sheet and the scripts once, not with every form. Without a version, or with an old one,
Flask's default (revalidate) applies. nginx does the same for ``/static/`` (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from typing import Any

from flask import current_app, request
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

LONG_CACHE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()[:12]


def version(filename: str) -> str | None:
    """The version of a static file (None if there is no such file)."""
    folder = current_app.static_folder
    path = safe_join(folder, filename) if folder else None
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def add_version(endpoint: str, values: dict[str, Any]) -> None:
    """``url_defaults`` hook: the static file's version in its URL."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        found = version(str(values["filename"]))
        if found is not None:
            values["v"] = found


def cache_versioned(response: Response) -> Response:
    """``after_request`` hook: a year of caching for a static file asked for by its version."""
    if request.endpoint == "static" and response.status_code in (200, 304):
        wanted = request.args.get("v")
        filename = (request.view_args or {}).get("filename")
        if wanted and filename and wanted == version(str(filename)):
            response.headers["Cache-Control"] = LONG_CACHE
    return response
