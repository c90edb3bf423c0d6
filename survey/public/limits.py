"""Who a submit counts against: the device (a random cookie handed out with the form),
with a generous ceiling per client address over all its devices, so that sixty citizens
on a commune centre's Wi-Fi are served while one device cannot flood."""

from __future__ import annotations

import re
import secrets

from flask import current_app, request
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

DEVICE_COOKIE = "sipas_device"
DEVICE_MAX_AGE = 365 * 24 * 3600
_DEVICE_ID = re.compile(r"[0-9a-f]{32}")


def device_id() -> str | None:
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if _DEVICE_ID.fullmatch(value) else None


def device_key() -> str:
    """The per-device limit's key; a client without the cookie counts per address."""
    device = device_id()
    return f"device:{device}" if device else f"address:{get_remote_address()}"


def address_key() -> str:
    return f"ceiling:{get_remote_address()}"


def give_device_cookie(response: Response) -> Response:
    """Hand a device id to a browser that opens the form without one. It is random, holds
    nothing about the citizen, and serves only the rate limit."""
    if request.endpoint == "public.questionnaire" and device_id() is None and response.status_code < 400:
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_hex(16),
            max_age=DEVICE_MAX_AGE,
            path="/q/",
            httponly=True,
            samesite="Lax",
            secure=current_app.config.get("ENV") == "production",
        )
    return response
