"""Public pages: the home page, the health check, and the citizen's questionnaire behind a
counter's QR code (the work is done by `survey.qr`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from survey.errors import render_error
from survey.extensions import csrf, db, limiter
from survey.i18n import local_today, select_locale
from survey.models import Counter, Questionnaire
from survey.public import assets, bp, form_page, limits, queries
from survey.qr import counters, submit
from survey.questionnaires.definition import field_code
from survey.security import ROLE_HOME, security_event

SESSION_EXPIRED = _l("Phiên trả lời đã hết hạn. Câu trả lời của Ông/Bà vẫn còn, vui lòng bấm Gửi phiếu lần nữa.")


@bp.route("/")
def index() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for(ROLE_HOME[current_user.role]))
    return render_template("public/index.html")


@bp.route("/healthz")
def healthz() -> dict[str, str]:
    """The process answers (liveness)."""
    return {"status": "ok"}


@bp.route("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    """The process can serve: its database answers (readiness, for the proxy or a monitor)."""
    try:
        db.session.execute(queries.ping())
    except SQLAlchemyError as exc:
        db.session.rollback()
        current_app.logger.error("event=not_ready error=%s", type(exc).__name__)
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ready", "database": "ok"}, 200


@bp.route("/q", methods=["GET", "POST"])
def enter_code() -> str | Response | tuple[str, int]:
    """For citizens who type the address printed under the QR code. A code that is no
    counter's (a character mistyped) stays in the box, with the message, to be corrected."""
    if request.method == "POST":
        code = (request.form.get("code") or "").strip()
        if not code:
            flash(_("Vui lòng nhập mã in trên áp phích."), "error")
        elif counters.lookup(db.session, current_app.config["SECRET_KEY"], code).status == "invalid":
            return _wrong_code(code)
        else:
            return redirect(url_for("public.questionnaire", code=counters.normalise_code(code)))
    return render_template("public/enter_code.html", code="")


def _wrong_code(code: str, status: int = 400) -> tuple[str, int]:
    flash(
        _("Mã quầy không đúng. Vui lòng kiểm tra lại từng ký tự với mã in trên áp phích."),
        "error",
    )
    return render_template("public/enter_code.html", code=code), status


@bp.route("/q/<code>", methods=["GET", "POST"])
@csrf.exempt  # the generated form checks its own CSRF token, so a stale one keeps the answers
@limiter.limit(lambda: current_app.config["QR_RATE_LIMIT"], key_func=limits.device_key, methods=["POST"])
@limiter.limit(lambda: current_app.config["QR_ADDRESS_RATE_LIMIT"], key_func=limits.address_key, methods=["POST"])
def questionnaire(code: str) -> str | Response | tuple[str, int]:
    secret = current_app.config["SECRET_KEY"]
    counter = _counter_or_404(secret, code)
    if isinstance(counter, tuple):
        return counter
    token = submit.read_form_token(secret, request.form.get("idem")) if request.method == "POST" else None
    slug = counters.questionnaire_slug(counter, current_app.config["QR_QUESTIONNAIRE"])
    row = submit.questionnaire_for(db.session, slug, token)
    if row is None:
        abort(503)
    if request.method == "GET":  # a new form: the cached page with a fresh key
        return form_page.new_form_page(row, counter, lang=select_locale(), idem=submit.new_form_token(secret, row.id))
    if token is None:  # a form whose key expired or was tampered with: the answers stay on the page
        form = submit.form_for(row, counter, lang=select_locale())
        form.idem.data = submit.new_form_token(secret, row.id)
        flash(str(SESSION_EXPIRED), "error")
        return _render(row, form, counter), 400
    receipt = submit.stored_receipt(db.session, token)  # double tap, retry, back-and-resubmit
    if receipt is not None:
        return redirect(url_for("public.thanks", receipt=receipt))
    answers, form = submit.answers_of(row, counter, request.form, lang=select_locale())
    if answers is None:
        assert form is not None
        if "csrf_token" in form.errors:
            flash(str(SESSION_EXPIRED), "error")
        return _render(row, form, counter), 400
    return _store(row, counter, answers, token)


def _store(
    row: Questionnaire, counter: Counter, answers: dict[str, Any], token: submit.FormToken
) -> Response | tuple[str, int]:
    """Store valid answers once, unless this device just sent the same answers to this counter
    (Back after the thank-you page, on a form fetched anew with a new key)."""
    secret = current_app.config["SECRET_KEY"]
    resubmit = submit.resubmit_key(secret, limits.device_id(), counter.id, row, answers)
    again = submit.resubmitted_receipt(db.session, resubmit, datetime.now(UTC))
    if again is not None:  # "already sent" — unless it is this very form, stored meanwhile by a double tap
        flag = {} if submit.stored_receipt(db.session, token) == again else {"lai": "1"}
        return redirect(url_for("public.thanks", receipt=again, **flag))
    client = (request.remote_addr or "", request.headers.get("User-Agent", ""))
    done = submit.submit(
        db.session,
        row,
        counter,
        answers,
        token=token,
        secret=secret,
        client=client,
        today=local_today(),
        resubmit=resubmit,
    )
    if done.duplicate_dossier or done.receipt is None:
        return _duplicate_dossier(row, submit.form_for(row, counter, lang=select_locale()), counter)
    db.session.commit()
    return redirect(url_for("public.thanks", receipt=done.receipt))


bp.after_request(limits.give_device_cookie)
bp.app_url_defaults(assets.add_version)  # every page's static URLs, not only this blueprint's
bp.after_app_request(assets.cache_versioned)


@bp.errorhandler(429)
def too_many_submissions(error: Exception) -> tuple[str, int, dict[str, str]] | tuple[str, int]:
    """A limited citizen keeps the answers: the form comes back filled in, with a retry time."""
    if request.endpoint != "public.questionnaire" or request.method != "POST":
        return render_error(error)
    secret = current_app.config["SECRET_KEY"]
    found = counters.lookup(db.session, secret, (request.view_args or {}).get("code", ""))
    counter = found.counter if found.status == "ok" else None  # never abort inside a handler
    token = submit.read_form_token(secret, request.form.get("idem"))
    slug = current_app.config["QR_QUESTIONNAIRE"] if counter is None else counter.questionnaire_slug
    row = submit.questionnaire_for(db.session, slug or current_app.config["QR_QUESTIONNAIRE"], token)
    if counter is None or row is None:
        return render_error(error)
    form = submit.form_for(row, counter, lang=select_locale())
    if token is None:
        form.idem.data = submit.new_form_token(secret, row.id)
    current = limiter.current_limit
    seconds = max(1, int(current.reset_at - time.time())) if current is not None else 60
    security_event("refused", reason="rate_limit", endpoint=request.endpoint, retry_after=seconds)
    message = _(
        "Hệ thống đang nhận quá nhiều phiếu từ thiết bị hoặc mạng này. Câu trả lời của Ông/Bà vẫn còn trên trang; "
        "vui lòng đợi %(seconds)d giây rồi bấm Gửi phiếu lần nữa.",
        seconds=seconds,
    )
    flash(message, "error")
    return _render(row, form, counter), 429, {"Retry-After": str(seconds)}


def _counter_or_404(secret: str, code: str) -> Counter | tuple[str, int]:
    """The counter behind a poster's code, or the page saying its code was replaced."""
    found = counters.lookup(db.session, secret, code)
    if found.status == "invalid" or found.counter is None:  # an address typed with a mistake
        return _wrong_code(code, 404)
    if found.status in ("rotated", "inactive"):
        return render_template("public/code_unavailable.html", status=found.status, counter=found.counter), 410
    return found.counter


def _duplicate_dossier(row: Questionnaire, form: FlaskForm, counter: Counter) -> tuple[str, int]:
    code = field_code(row.definition, "dossier_code")
    form[code or "idem"].errors = [
        _("Hồ sơ này đã được đánh giá. Mỗi hồ sơ chỉ đánh giá một lần; nếu mã hồ sơ nhập nhầm, vui lòng kiểm tra lại.")
    ]
    return _render(row, form, counter), 409


def _render(row: Questionnaire, form: FlaskForm, counter: Counter) -> str:
    return form_page.form_again_page(row, counter, form, lang=select_locale())


@bp.route("/cam-on/<receipt>")
def thanks(receipt: str) -> str:
    stored = db.session.connection().scalar(queries.receipt(), {"code": receipt})
    if stored is None:
        abort(404)
    return form_page.thanks_page(stored, again=request.args.get("lai") == "1", lang=select_locale())
