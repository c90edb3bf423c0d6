"""Recording one response, from either channel: receipt codes, idempotency keys, one
response per dossier and channel, and the daily device hash that flags likely duplicates."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.i18n import local_day_start, local_today
from survey.models import Questionnaire, Response
from survey.models.base import utcnow
from survey.responses.coded import encode_coded

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed back


class DuplicateDossier(Exception):
    """A response for this dossier code is already stored."""


def new_receipt_code() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def find_by_idempotency_key(session: Session, key: str) -> Response | None:
    return session.scalars(sa.select(Response).where(Response.idempotency_key == key)).first()


def receipt_for_idempotency_key(session: Session, key: str) -> str | None:
    """The receipt of the response stored with this idempotency key, if any (one column; a
    Core statement on the session's connection: nothing pending is flushed first)."""
    return session.connection().scalar(_RECEIPT_OF_KEY, {"key": key})


_RECEIPT_OF_KEY = sa.select(Response.receipt_code).where(Response.idempotency_key == sa.bindparam("key"))
#: A response from this device at this counter since the start of the day (statement built once).
_SAME_DEVICE = (
    sa.select(Response.id)
    .where(
        Response.device_hash == sa.bindparam("device"),
        Response.counter_id == sa.bindparam("counter_id"),
        Response.created_at >= sa.bindparam("since"),
    )
    .limit(1)
)


def dossier_taken(session: Session, dossier_code: str, channel: str) -> bool:
    stmt = sa.select(Response.id).where(Response.dossier_code == dossier_code, Response.channel == channel)
    return session.scalar(stmt) is not None


def device_hash(secret: str, client_address: str, user_agent: str, day: date) -> str:
    """A privacy-preserving device fingerprint: the salt is derived from the secret and the
    day, so hashes cannot be linked across days or reversed to an address."""
    salt = hmac.new(secret.encode(), f"device-salt:{day.isoformat()}".encode(), hashlib.sha256).digest()
    return hashlib.sha256(salt + f"{client_address}|{user_agent}".encode()).hexdigest()[:32]


def record_response(
    session: Session,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
    *,
    channel: str,
    place_id: int,
    field_group: str,
    counter_id: int | None = None,
    procedure_id: int | None = None,
    idempotency_key: str | None = None,
    started_at: datetime | None = None,
    device: str | None = None,
    interviewer_id: int | None = None,
    status: str = "submitted",
    submitted_at: datetime | None = None,
    mode: str | None = None,
    ended_at: datetime | None = None,
    duration_s: int | None = None,
    resubmit_key: str | None = None,
    key_checked: bool = False,
) -> tuple[Response, bool]:
    """Store one response and return ``(response, created)``.

    A known idempotency key returns the response stored with it (``created`` False). A
    dossier code already used raises `DuplicateDossier`. Flushes, never commits; a race
    lost to a concurrent request surfaces as `IntegrityError` at flush, after which the
    caller rolls back and looks the key up again. `key_checked`: the caller has just looked
    the key up in this transaction and found nothing (the unique key still catches a race).
    `resubmit_key`: the QR channel's digest of (device, counter, answers), stored with it."""
    if idempotency_key and not key_checked:
        existing = find_by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return existing, False
    definition = questionnaire.definition
    dossier_code = None
    for q in (q for s in definition["sections"] for q in s["questions"]):
        if q.get("field") == "dossier_code" and answers.get(q["code"]):
            dossier_code = str(answers[q["code"]]).upper()
            answers = {**answers, q["code"]: dossier_code}
    if dossier_code and dossier_taken(session, dossier_code, channel):
        raise DuplicateDossier(dossier_code)
    now = utcnow()
    possible_duplicate = False
    if device and counter_id is not None:
        day_start = local_day_start(local_today(now))  # the Vietnam calendar day
        same_device = {"device": device, "counter_id": counter_id, "since": day_start}
        possible_duplicate = session.connection().scalar(_SAME_DEVICE, same_device) is not None
    response = Response(
        questionnaire_id=questionnaire.id,
        channel=channel,
        status=status,
        place_id=place_id,
        counter_id=counter_id,
        field_group=field_group,
        procedure_id=procedure_id,
        dossier_code=dossier_code,
        receipt_code=new_receipt_code(),
        idempotency_key=idempotency_key,
        interviewer_id=interviewer_id,
        device_hash=device,
        resubmit_key=resubmit_key,
        possible_duplicate=possible_duplicate,
        answers=answers,
        coded=encode_coded(answers, list(questionnaire.coded_layout)),
        started_at=started_at,
        mode=mode,
        ended_at=ended_at,
        duration_s=duration_s,
        submitted_at=submitted_at or now,
        created_at=now,
    )
    session.add(response)
    session.flush()
    return response, True
