"""The app shell: the static files the service worker keeps for offline use (never case
data), its cache version, and the web app manifest."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import url_for
from flask_babel import gettext as _

#: The shell's static files, in the order the page loads them.
SHELL_FILES = ("css/site.css", "css/device.css", "js/device-rules.js", "js/device-queue.js", "js/device-app.js")


def shell_assets() -> dict[str, Any]:
    """The shell's URLs (static URLs carry their file's version)."""
    files = {name: url_for("static", filename=name) for name in SHELL_FILES}
    return {
        "files": files,
        "shell": url_for("entry.device_app"),
        "manifest": url_for("entry.device_manifest"),
        "worker": url_for("entry.device_worker"),
        "icon": url_for("static", filename="favicon.svg"),
    }


def version() -> str:
    """The cache's name changes whenever a shell file changes (its URL carries its hash)."""
    urls = sorted(shell_assets()["files"].values())
    return hashlib.sha256("|".join(urls).encode()).hexdigest()[:12]


def manifest(start_url: str, icon: str) -> dict[str, Any]:
    return {
        "name": _("SIPAS – Phỏng vấn viên"),
        "short_name": "SIPAS",
        "lang": "vi",
        "start_url": start_url,
        "scope": start_url,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "icons": [{"src": icon, "sizes": "any", "type": "image/svg+xml"}],
    }
