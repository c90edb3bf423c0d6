"""The citizen's submit behind a counter's QR code: which questionnaire version a form was
built from, its signed idempotency key, and storing the answers exactly once.

Each rendered form carries a signed, timestamped token (`new_form_token`): a random key,
the questionnaire version the form was built from, and — its timestamp — the start time. A
double tap, a retry after a timeout or a back-and-resubmit finds the response stored with
that key and shows the same receipt; concurrent submits of one form race on the unique key
and the losers look the winner up. A form is always checked against the version it was
built from, even if a newer one was published while the citizen was answering: never two
wordings in one response.

Back after the thank-you page: the browser may fetch the form anew (a new key) and restore
the answers. Each QR response therefore stores a keyed digest of (the device cookie handed
out with the form, the counter, the answers) — `resubmit_key`; the same answers from the
same device for the same counter within `RESUBMIT_WINDOW` are that response
(`resubmitted_receipt`), and nothing new is stored. Different answers are a new response
(the next citizen on a counter's tablet). Nothing is set on the device after a submit: a
cookie set then makes Chromium drop the previous page, and Back fails.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError

from survey.models import Counter, Questionnaire, Response
from survey.questionnaires.definition import field_code
from survey.questionnaires.forms import Version, answers_from_form, cached_form_class, form_groups, plain_answers
from survey.responses.recording import DuplicateDossier, device_hash, receipt_for_idempotency_key, record_response

FORM_SALT = "sipas-qr-form"
FORM_MAX_AGE = 24 * 3600
RESUBMIT_WINDOW = 30 * 60


@dataclass(frozen=True)
class FormToken:
    """What a rendered form's hidden ``idem`` field carries, once its signature is checked."""

    key: str
    questionnaire_id: int
    started_at: datetime


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submit: the receipt to show, or the dossier code already rated."""

    receipt: str | None
    duplicate_dossier: bool = False


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=FORM_SALT)


def new_form_token(secret: str, questionnaire_id: int) -> str:
    return _serializer(secret).dumps([uuid.uuid4().hex, questionnaire_id])


def read_form_token(secret: str, token: str | None) -> FormToken | None:
    """The token's content if its signature is valid and it is under a day old (never raises)."""
    if not token:
        return None
    try:
        payload, signed_at = _serializer(secret).loads(token, max_age=FORM_MAX_AGE, return_timestamp=True)
        key, questionnaire_id = str(payload[0]), int(payload[1])
    except (BadData, TypeError, ValueError, IndexError):
        return None
    return FormToken(key, questionnaire_id, signed_at.astimezone(UTC))


def questionnaire_for(session: Session, slug: str, token: FormToken | None) -> Questionnaire | None:
    """The version a submitted form was built from, else the newest published version.

    The row comes from `_PUBLISHED`, a per-process copy of each published version read once:
    a submitted form's version needs no statement once known; the newest version, one small
    statement (id and content hash, no definition)."""
    engine = session.get_bind().engine
    if token is not None:
        with _PUBLISHED_LOCK:
            known = _PUBLISHED.get(engine, {}).get(token.questionnaire_id)
        if known is not None and known.slug == slug:
            return known
    wanted = -1 if token is None else token.questionnaire_id  # -1: no id, the newest comes first
    found = session.connection().execute(_NEWEST, {"slug": slug, "wanted": wanted}).first()
    return None if found is None else _published(session, engine, found.id, found.content_hash)


#: The version a form names if it is of this slug, else the newest of the slug (built once).
_NEWEST = (
    sa.select(Questionnaire.id, Questionnaire.content_hash)
    .where(Questionnaire.slug == sa.bindparam("slug"))
    .order_by((Questionnaire.id == sa.bindparam("wanted")).desc(), Questionnaire.version.desc())
    .limit(1)
)

#: Published questionnaire versions, per database (engine) and id: a published version
#: never changes (`check_published`), so each worker reads its row once (read again if the
#: database says its content hash differs). The copies are transient objects, in no
#: session, and never modified.
_PUBLISHED: weakref.WeakKeyDictionary[Engine, dict[int, Questionnaire]] = weakref.WeakKeyDictionary()
_PUBLISHED_LOCK = threading.Lock()


def _published(session: Session, engine: Engine, questionnaire_id: int, content_hash: str) -> Questionnaire | None:
    with _PUBLISHED_LOCK:
        rows = _PUBLISHED.setdefault(engine, {})
        found = rows.get(questionnaire_id)
    if found is not None and found.content_hash == content_hash:
        return found
    row = session.get(Questionnaire, questionnaire_id)
    if row is None:
        return None
    copy = Questionnaire(**{column.key: getattr(row, column.key) for column in sa.inspect(Questionnaire).column_attrs})
    with _PUBLISHED_LOCK:
        rows[questionnaire_id] = copy
    return copy


def form_for(questionnaire: Questionnaire, counter: Counter, *, lang: str) -> FlaskForm:
    """The citizen's form for this counter: the field-group question lists only the groups the
    counter serves, and is not asked at all when it serves one. The class is built once per
    (questionnaire version, language, field-group set) — a published version never changes."""
    version = Version.of(questionnaire)
    form_class = cached_form_class(
        version, channel="qr", lang=lang, field_groups=form_groups(tuple(counter.field_groups))
    )
    return form_class()


def answers_of(
    questionnaire: Questionnaire, counter: Counter, formdata: Any, *, lang: str
) -> tuple[dict[str, Any] | None, FlaskForm | None]:
    """The answers of a submitted form, or its form with messages: ``(answers, None)`` when it is
    valid, ``(None, form)`` when not. A plainly valid form (the common case) is read without
    building the WTForms form (`plain_answers`); anything else goes through the form, which
    also checks the CSRF token."""
    version = Version.of(questionnaire)
    groups = form_groups(tuple(counter.field_groups))
    if _csrf_valid(formdata):
        answers = plain_answers(version, formdata, channel="qr", field_groups=groups)
        if answers is not None:
            return answers, None
    form = form_for(questionnaire, counter, lang=lang)
    if form.validate():
        return answers_from_form(questionnaire.definition, form), None
    return None, form


def _csrf_valid(formdata: Any) -> bool:
    """Flask-WTF's own check of the form's CSRF token (always valid where CSRF is off)."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(formdata.get("csrf_token"))
    except ValidationError:
        return False
    return True


def resubmit_key(
    secret: str, device: str | None, counter_id: int, questionnaire: Questionnaire, answers: dict[str, Any]
) -> str | None:
    """A keyed digest of (device cookie, counter, answers); None without a device cookie."""
    if not device:
        return None
    text = json.dumps([device, counter_id, questionnaire.id, answers], sort_keys=True, default=str, ensure_ascii=False)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def resubmitted_receipt(session: Session, key: str | None, now: datetime) -> str | None:
    """The receipt of a response with this resubmit key stored less than `RESUBMIT_WINDOW` ago."""
    if key is None:
        return None
    since = now - timedelta(seconds=RESUBMIT_WINDOW)
    return session.connection().scalar(_RESUBMITTED, {"key": key, "since": since})


_RESUBMITTED = (
    sa.select(Response.receipt_code)
    .where(Response.resubmit_key == sa.bindparam("key"), Response.created_at >= sa.bindparam("since"))
    .order_by(Response.id.desc())
    .limit(1)
)


def stored_receipt(session: Session, token: FormToken) -> str | None:
    """The receipt of the response already stored for this form, if any."""
    return receipt_for_idempotency_key(session, token.key)


def submit(
    session: Session,
    questionnaire: Questionnaire,
    counter: Counter,
    answers: dict[str, Any],
    *,
    token: FormToken,
    secret: str,
    client: tuple[str, str],
    today: date,
    resubmit: str | None = None,
) -> Submitted:
    """Store the validated `answers` once. `client` is (address, user agent), hashed with a salt
    of the day into the device hash that flags likely duplicates. Flushes; on a lost race the
    session is rolled back and the winner's receipt returned. The caller commits."""
    definition = questionnaire.definition
    answers = dict(answers)
    groups = tuple(counter.field_groups)
    group_code = field_code(definition, "field_group")
    if group_code is None:  # a questionnaire that does not ask it (health, education): the counter's
        field_group = groups[0] if len(groups) == 1 else "khac"
    else:
        field_group = groups[0] if len(groups) == 1 else answers.get(group_code)
    if len(groups) == 1 and group_code is not None:
        answers[group_code] = field_group
    try:
        response, _created = record_response(
            session,
            questionnaire,
            answers,
            channel="qr",
            place_id=counter.place_id,
            counter_id=counter.id,
            field_group=field_group,
            idempotency_key=token.key,
            started_at=token.started_at,
            device=device_hash(secret, client[0], client[1], today),
            resubmit_key=resubmit,
            key_checked=True,  # the view has just looked this form's key up (`stored_receipt`)
        )
    except DuplicateDossier:
        session.rollback()
        return Submitted(None, duplicate_dossier=True)
    except IntegrityError:
        # Lost a race with a concurrent submit of the same form (or the same dossier).
        session.rollback()
        receipt = stored_receipt(session, token)
        if receipt is not None:
            return Submitted(receipt)
        if answers.get(field_code(definition, "dossier_code") or ""):
            return Submitted(None, duplicate_dossier=True)
        raise
    return Submitted(response.receipt_code)
