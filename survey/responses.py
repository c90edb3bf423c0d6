"""Reading stored responses the way the analysis needs them.

`wide_table` turns responses into one row per response with the design columns and one
small-integer column per ``scale`` question. The item codes come from ``Response.coded``
(one digit per scale question, ``.`` for no answer), so a million responses are one column
scan and a vectorised byte decode — no JSON parsing, no pivot of an answers table.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Questionnaire, Response
from survey.models.base import utcnow
from survey.models.response import CHANNELS, STATUSES

#: Design and domain columns read with every response.
DESIGN_COLUMNS = ("id", "channel", "status", "place_id", "counter_id", "field_group", "procedure_id", "submitted_at")


def decode_coded(coded: list[str] | np.ndarray, width: int) -> np.ndarray:
    """Decode ``coded`` strings of `width` characters into a float matrix (NaN = no answer).

    Raises `ValueError` if a string has the wrong length or a character that is neither a
    digit nor ``.``."""
    n = len(coded)
    if n == 0:
        return np.empty((0, width))
    joined = "".join(coded)
    if len(joined) != n * width:
        bad = next(i for i, c in enumerate(coded) if len(c) != width)
        raise ValueError(f"response #{bad}: coded answers have {len(coded[bad])} characters, expected {width}")
    raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(n, width)
    values = raw.astype(np.float64) - ord("0")
    blank = raw == ord(".")
    if np.any(~blank & ((values < 0) | (values > 9))):
        raise ValueError("coded answers contain a character that is neither a digit nor '.'")
    values[blank] = np.nan
    return values


def encode_coded(answers: dict[str, object], layout: list[str]) -> str:
    """The ``coded`` string for `answers` (codes of the scale questions in `layout` order)."""
    out = []
    for code in layout:
        value = answers.get(code)
        if value is None or value == "":
            out.append(".")
        else:
            digit = int(value)  # type: ignore[call-overload]
            if not 0 <= digit <= 9:
                raise ValueError(f"{code}: code {digit} is not a single digit")
            out.append(str(digit))
    return "".join(out)


def wide_statement(questionnaire_id: int, statuses: tuple[str, ...], channel: str | None = None) -> sa.Select:
    columns = [getattr(Response, c) for c in DESIGN_COLUMNS]
    stmt = sa.select(*columns, Response.coded).where(
        Response.questionnaire_id == questionnaire_id, Response.status.in_(statuses)
    )
    return stmt if channel is None else stmt.where(Response.channel == channel)


def _fetch(connection: sa.Connection, sql: str) -> pd.DataFrame:
    """Run `sql` at the driver level: COPY … TO STDOUT on PostgreSQL (parsed by pandas'
    C reader), a plain DB-API cursor (tuples, no Row objects) on SQLite."""
    names = [*DESIGN_COLUMNS, "coded"]
    dbapi = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        with dbapi.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        if buffer.tell() == 0:
            return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
        buffer.seek(0)
        return pd.read_csv(
            buffer, header=None, names=names, dtype={"coded": str}, keep_default_na=False, na_values=[""]
        )
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame(rows, columns=names)


def wide_table(
    session: Session,
    questionnaire: Questionnaire,
    *,
    statuses: tuple[str, ...] = ("submitted", "verified"),
    channel: str | None = None,
) -> pd.DataFrame:
    """One row per response of `questionnaire`: design columns plus one column per scale
    question (float: the code, NaN for no answer).

    The query runs at the driver level (no per-row ORM or type processing: that is most of
    the cost at a million rows); timestamps are converted once, column-wise."""
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown status {sorted(unknown)!r}")
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    layout: list[str] = list(questionnaire.coded_layout)
    connection = session.connection()
    sql = str(
        wide_statement(questionnaire.id, statuses, channel).compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    frame = _fetch(connection, sql)
    for name in ("id", "place_id"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("counter_id", "procedure_id"):
        frame[name] = frame[name].astype("Int64")
    for name in ("channel", "status", "field_group"):
        frame[name] = frame[name].astype("category")
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True, format="ISO8601")
    items = decode_coded(frame.pop("coded").tolist(), len(layout))
    frame = pd.concat([frame, pd.DataFrame(items, columns=layout, index=frame.index)], axis=1)
    return frame.sort_values("id", kind="stable", ignore_index=True)


# --- recording ---------------------------------------------------------------------------------
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed back


class DuplicateDossier(Exception):
    """A response for this dossier code is already stored."""


def new_receipt_code() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def find_by_idempotency_key(session: Session, key: str) -> Response | None:
    return session.scalars(sa.select(Response).where(Response.idempotency_key == key)).first()


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
) -> tuple[Response, bool]:
    """Store one response and return ``(response, created)``.

    A known idempotency key returns the response stored with it (``created`` False). A
    dossier code already used raises `DuplicateDossier`. Flushes, never commits; a race
    lost to a concurrent request surfaces as `IntegrityError` at flush, after which the
    caller rolls back and looks the key up again."""
    if idempotency_key:
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
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        possible_duplicate = (
            session.scalar(
                sa.select(Response.id).where(
                    Response.device_hash == device, Response.counter_id == counter_id, Response.created_at >= day_start
                )
            )
            is not None
        )
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
        possible_duplicate=possible_duplicate,
        answers=answers,
        coded=encode_coded(answers, list(questionnaire.coded_layout)),
        started_at=started_at,
        submitted_at=submitted_at or now,
        created_at=now,
    )
    session.add(response)
    session.flush()
    return response, True
