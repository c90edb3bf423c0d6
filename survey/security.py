"""Role checks and the CSRF-only confirmation form, shared by the blueprints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

F = TypeVar("F", bound=Callable[..., Any])

#: The page each role lands on after signing in.
ROLE_HOME = {
    "admin": "admin.index",
    "supervisor": "entry.index",
    "surveyor": "entry.index",
    "analyst": "analyst.index",
}


def role_required(*roles: str) -> Callable[[F], F]:
    """Signed-in users whose role is in `roles` pass; others get 403 (anonymous users are
    sent to the login page)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class ConfirmForm(FlaskForm):
    """An empty form: a POST button that changes data, with its CSRF token."""
