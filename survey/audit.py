"""Writes an `AuditLog` row for every change to an audited model made by a signed-in user.

The acting user is put in ``session.info["actor_id"]`` (by the request hook for web
requests, by the CLI for commands run on behalf of a user). Changes made with no actor —
a citizen's anonymous QR response, the demo loader — are not audited.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, Session

from survey.models import AuditLog

ACTOR_KEY = "actor_id"


def set_actor(session: Session, user_id: int | None) -> None:
    session.info[ACTOR_KEY] = user_id


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return value
    return str(value)


def _columns(obj: Any) -> list[str]:
    hidden = getattr(obj, "__audit_hidden__", frozenset())
    return [c.key for c in inspect(obj).mapper.column_attrs if c.key not in hidden]


def _identity(obj: Any) -> str:
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return "/".join(str(part) for part in key)


def _rows(session: Session, actor_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(obj: Any, action: str, changes: dict[str, list[Any]]) -> None:
        rows.append(
            {
                "user_id": actor_id,
                "action": action,
                "entity": obj.__tablename__,
                "entity_id": _identity(obj),
                "changes": changes,
            }
        )

    for obj in session.new:
        if getattr(obj, "__audited__", False):
            add(obj, "create", {k: [None, _plain(getattr(obj, k))] for k in _columns(obj)})
    for obj in session.dirty:
        if not getattr(obj, "__audited__", False) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        changes: dict[str, list[Any]] = {}
        for key in _columns(obj):
            hist = state.attrs[key].history
            if hist.has_changes():
                old = hist.deleted[0] if hist.deleted else None
                new = hist.added[0] if hist.added else None
                changes[key] = [_plain(old), _plain(new)]
        hidden = getattr(obj, "__audit_hidden__", frozenset())
        for key in hidden:  # say that a secret changed, never what it was
            if state.attrs[key].history.has_changes():
                changes[key] = ["***", "***"]
        if changes:
            add(obj, "update", changes)
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            add(obj, "delete", {k: [_plain(getattr(obj, k)), None] for k in _columns(obj)})
    return rows


def _after_flush(session: Session, flush_context: Any) -> None:
    actor_id = session.info.get(ACTOR_KEY)
    if actor_id is None:
        return
    rows = _rows(session, actor_id)
    if rows:
        session.connection().execute(sa.insert(AuditLog.__table__), rows)


@event.listens_for(Mapper, "mapper_configured")
def _load_old_values(mapper: Mapper, cls: type) -> None:
    """For audited models, setting an attribute that was expired (after a commit) loads its
    old value first, so the audit row can show it."""
    if getattr(cls, "__audited__", False):
        for attr in mapper.column_attrs:
            attr.class_attribute.impl.active_history = True


def install(session_factory: Any) -> None:
    """Attach the audit hook to a session class or factory (idempotent)."""
    if not event.contains(session_factory, "after_flush", _after_flush):
        event.listen(session_factory, "after_flush", _after_flush)
