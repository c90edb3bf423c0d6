"""Role checks, the CSRF-only confirmation form, the ``next`` check, security headers and
the security log, shared by the blueprints."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

F = TypeVar("F", bound=Callable[..., Any])

#: The page each role lands on after signing in.
ROLE_HOME = {
    "admin": "admin.index",
    "supervisor": "entry.index",
    "surveyor": "entry.index",
    "analyst": "analyst.index",
}

#: Structured security events (failed sign-ins, lockouts, refusals): ``event=… key=value``.
#: Never a password, a token or a citizen's personal data.
log = logging.getLogger("sipas.security")

#: The Content-Security-Policy of every page: scripts, styles and fonts come from our own
#: static files only (no inline code, no ``style=`` attributes), and no page may be framed.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
MAX_NEXT_LENGTH = 512


def security_event(event: str, **fields: object) -> None:
    """One log line ``event=<event> key=value …``; values are quoted when they hold spaces."""
    parts = [f"event={event}"]
    for key, value in fields.items():
        text = str(value).replace("\n", " ").replace("\r", " ")
        parts.append(f"{key}={text!r}" if (" " in text or not text) else f"{key}={text}")
    log.warning(" ".join(parts))


def role_required(*roles: str) -> Callable[[F], F]:
    """Signed-in users whose role is in `roles` pass; others get 403 (anonymous users are
    sent to the login page)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                security_event("forbidden", user=current_user.id, role=current_user.role, endpoint=request.endpoint)
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class ConfirmForm(FlaskForm):
    """An empty form: a POST button that changes data, with its CSRF token."""


def _unsafe(text: str) -> bool:
    return any(ord(c) < 0x21 or ord(c) > 0x7E for c in text) or "\\" in text


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None.

    Accepted: printable ASCII without spaces or backslashes, starting with one ``/`` and no
    scheme or host once parsed — also once percent-decoded (twice), since a browser or a
    proxy may decode it again. Everything else (``//host``, ``/\\host``, ``/%09/host``,
    ``https:``, ``javascript:``, control characters, non-ASCII look-alikes) is refused."""
    if not target or len(target) > MAX_NEXT_LENGTH:
        return None
    candidate = target
    for _ in range(3):
        if _unsafe(candidate) or not candidate.startswith("/") or candidate.startswith("//"):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
        decoded = unquote(candidate)
        if decoded == candidate:
            break
        candidate = decoded
    else:
        return None  # still encoded after three rounds: not a path a page of ours makes
    return target


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("ENV") == "production":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def refuse_nul_bytes() -> None:
    """A NUL byte never comes from a keyboard, and PostgreSQL refuses it in text: answer 400
    before any query sees it (path, query string or form)."""
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    if any("\x00" in value for value in values):
        security_event("refused", reason="nul_byte", endpoint=request.endpoint or "-")
        abort(400)


def install(app: Flask) -> None:
    """Headers on every response, NUL bytes refused, production cookies ``Secure``."""
    if app.config.get("ENV") == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.before_request(refuse_nul_bytes)
    app.after_request(add_security_headers)
