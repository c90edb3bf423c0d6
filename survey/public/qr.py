"""The citizen's questionnaire behind a counter's QR code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as WerkzeugResponse

from survey import counters, questionnaires
from survey.extensions import csrf, db, limiter
from survey.models import Questionnaire, Response
from survey.public import bp
from survey.questionnaire_forms import answers_from_form, build_form_class, field_code, questions_in_form, text_of
from survey.responses import DuplicateDossier, device_hash, find_by_idempotency_key, record_response

FORM_SALT = "sipas-qr-form"
FORM_MAX_AGE = 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FORM_SALT)


def _new_idempotency_token(questionnaire_id: int) -> str:
    """A signed, timestamped key for one rendered form (the timestamp is the start time),
    carrying the questionnaire version the form was built from."""
    return _serializer().dumps([uuid.uuid4().hex, questionnaire_id])


def _read_idempotency_token(token: str | None) -> tuple[str, int, datetime] | None:
    if not token:
        return None
    try:
        payload, signed_at = _serializer().loads(token, max_age=FORM_MAX_AGE, return_timestamp=True)
        key, questionnaire_id = str(payload[0]), int(payload[1])
    except (BadData, TypeError, ValueError, IndexError):
        return None
    return key, questionnaire_id, signed_at.astimezone(UTC)


def _lang() -> str:
    from survey import _select_locale

    return _select_locale()


@bp.route("/q", methods=["GET", "POST"])
def enter_code() -> str | WerkzeugResponse:
    """For citizens who type the address printed under the QR code."""
    if request.method == "POST":
        code = (request.form.get("code") or "").strip()
        if code:
            return redirect(url_for("public.questionnaire", code=counters.normalise_code(code)))
        flash(_("Vui lòng nhập mã in trên áp phích."), "error")
    return render_template("public/enter_code.html")


@bp.route("/q/<code>", methods=["GET", "POST"])
@csrf.exempt  # the generated form checks its own CSRF token, so a stale one keeps the answers
@limiter.limit(lambda: current_app.config["QR_RATE_LIMIT"], methods=["POST"])
def questionnaire(code: str) -> str | WerkzeugResponse | tuple[str, int]:
    secret = current_app.config["SECRET_KEY"]
    found = counters.lookup(db.session, secret, code)
    if found.status == "invalid":
        abort(404)
    counter = found.counter
    assert counter is not None
    if found.status in ("rotated", "inactive"):
        return render_template("public/code_unavailable.html", status=found.status, counter=counter), 410
    slug = current_app.config["QR_QUESTIONNAIRE"]
    newest = questionnaires.get(db.session, slug)
    if newest is None:
        abort(503)
    idem = _read_idempotency_token(request.form.get("idem")) if request.method == "POST" else None
    # A form is checked against the version it was built from, even if a newer one was
    # published while the citizen was answering: never two wordings in one response.
    row = newest
    if idem is not None:
        built_from = db.session.get(Questionnaire, idem[1])
        row = built_from if built_from is not None and built_from.slug == slug else newest
    definition = row.definition
    groups = tuple(counter.field_groups)
    form_class = build_form_class(definition, channel="qr", lang=_lang(), field_groups=groups)
    form = form_class()
    if request.method == "GET":
        form.idem.data = _new_idempotency_token(row.id)
        return _render(definition, form, counter)

    if idem is None:
        form.idem.data = _new_idempotency_token(row.id)
        flash(_("Phiên trả lời đã hết hạn. Câu trả lời của Ông/Bà vẫn còn, vui lòng bấm Gửi phiếu lần nữa."), "error")
        return _render(definition, form, counter), 400
    key, _questionnaire_id, started_at = idem
    stored = find_by_idempotency_key(db.session, key)
    if stored is not None:  # double tap, retry after a timeout, back-and-resubmit
        return redirect(url_for("public.thanks", receipt=stored.receipt_code))
    if not form.validate():
        if "csrf_token" in form.errors:
            flash(
                _("Phiên trả lời đã hết hạn. Câu trả lời của Ông/Bà vẫn còn, vui lòng bấm Gửi phiếu lần nữa."), "error"
            )
        return _render(definition, form, counter), 400

    answers = answers_from_form(definition, form)
    group_code = field_code(definition, "field_group")
    field_group = groups[0] if len(groups) == 1 or group_code is None else answers.get(group_code)
    if len(groups) == 1 and group_code is not None:
        answers[group_code] = field_group
    device = device_hash(
        secret, request.remote_addr or "", request.headers.get("User-Agent", ""), datetime.now(UTC).date()
    )
    try:
        response, _created = record_response(
            db.session,
            row,
            answers,
            channel="qr",
            place_id=counter.place_id,
            counter_id=counter.id,
            field_group=field_group,
            idempotency_key=key,
            started_at=started_at,
            device=device,
        )
        db.session.commit()
    except DuplicateDossier:
        db.session.rollback()
        return _duplicate_dossier(definition, form, counter)
    except IntegrityError:
        # Lost a race with a concurrent submit of the same form (or the same dossier).
        db.session.rollback()
        stored = find_by_idempotency_key(db.session, key)
        if stored is not None:
            return redirect(url_for("public.thanks", receipt=stored.receipt_code))
        if answers.get(field_code(definition, "dossier_code") or ""):
            return _duplicate_dossier(definition, form, counter)
        raise
    return redirect(url_for("public.thanks", receipt=response.receipt_code))


def _duplicate_dossier(definition: dict, form, counter) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    form[field_code(definition, "dossier_code")].errors = [
        _("Hồ sơ này đã được đánh giá. Mỗi hồ sơ chỉ đánh giá một lần; nếu mã hồ sơ nhập nhầm, vui lòng kiểm tra lại.")
    ]
    return _render(definition, form, counter), 409


def _render(definition: dict, form, counter):  # type: ignore[no-untyped-def]
    lang = _lang()
    return render_template(
        "public/questionnaire.html",
        definition=definition,
        form=form,
        sections=list(questions_in_form(definition, form)),
        counter=counter,
        t=lambda block: text_of(block, lang),
    )


@bp.route("/cam-on/<receipt>")
def thanks(receipt: str) -> str:
    stored = db.session.scalar(sa.select(Response.receipt_code).where(Response.receipt_code == receipt))
    if stored is None:
        abort(404)
    return render_template("public/thanks.html", receipt=stored)
