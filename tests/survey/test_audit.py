"""Every change a signed-in user makes leaves an audit row with old and new values."""

from __future__ import annotations

import sqlalchemy as sa

from survey.audit import set_actor
from survey.models import AuditLog, Place


def _audit(db) -> list[AuditLog]:
    return list(db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)))


def test_create_update_delete_are_audited(db, make_user) -> None:
    admin = make_user("admin")
    set_actor(db.session, admin.id)
    place = Place(code="X900", name="Xã Thử", kind="xa")
    db.session.add(place)
    db.session.commit()
    place.name = "Xã Thử Nghiệm"
    db.session.commit()
    db.session.delete(place)
    db.session.commit()

    rows = [r for r in _audit(db) if r.entity == "place"]
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert all(r.user_id == admin.id and r.entity_id == str(place.id) for r in rows)
    assert rows[0].changes["name"] == [None, "Xã Thử"]
    assert rows[1].changes == {"name": ["Xã Thử", "Xã Thử Nghiệm"]}
    assert rows[2].changes["name"] == ["Xã Thử Nghiệm", None]


def test_password_change_is_audited_without_the_hash(db, make_user) -> None:
    admin = make_user("admin")
    other = make_user("surveyor")
    set_actor(db.session, admin.id)
    other.set_password("mat-khau-moi-123")
    db.session.commit()
    [row] = [r for r in _audit(db) if r.entity == "user_account" and r.action == "update"]
    # the session nonce changes too: the password change ends every session of the account
    assert row.changes == {"password_hash": ["***", "***"], "session_nonce": ["***", "***"]}


def test_changes_without_a_signed_in_user_are_not_audited(db) -> None:
    set_actor(db.session, None)
    db.session.add(Place(code="X901", name="Xã Khác", kind="xa"))
    db.session.commit()
    assert _audit(db) == []
