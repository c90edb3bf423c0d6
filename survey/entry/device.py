"""The interviewer app (Bưu điện interviewers on a phone, offline): the app shell, its web app
manifest and service worker, and the JSON endpoints it syncs with; the team leader's page of
items kept for a decision. The work is done by `survey.device`."""

from __future__ import annotations

from flask import Response, current_app, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.device import assets, sync
from survey.entry import bp
from survey.extensions import db
from survey.models import DeviceSubmission, SurveyRound
from survey.paper.rounds import RoundError
from survey.security import ConfirmForm, role_required


@bp.route("/may/")
@role_required("surveyor")
def device_app() -> Response:
    response = make_response(render_template("entry/device_app.html", assets=assets.shell_assets()))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/may/sw.js")
def device_worker() -> Response:
    body = render_template("entry/device_sw.js", assets=assets.shell_assets(), version=assets.version())
    response = make_response(body)
    response.headers.update({"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"})
    return response


@bp.route("/may/manifest.webmanifest")
def device_manifest() -> Response:
    response = jsonify(assets.manifest(url_for("entry.device_app"), url_for("static", filename="favicon.svg")))
    response.headers["Content-Type"] = "application/manifest+json"
    return response


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/may/api/ca")
@role_required("surveyor")
def device_cases() -> Response:
    data = sync.download(db.session, current_user, current_app.config["SECRET_KEY"], str(get_locale()))
    db.session.commit()
    return _no_store(jsonify(data))


@bp.route("/may/api/token")
@role_required("surveyor")
def device_token() -> Response:
    return _no_store(jsonify(csrf_token=generate_csrf(), user_id=current_user.id))


@bp.route("/may/api/gui", methods=["POST"])
@role_required("surveyor")
def device_sync() -> tuple[Response, int]:
    payload, secret = request.get_json(silent=True), current_app.config["SECRET_KEY"]
    try:
        try:
            result = sync.receive(db.session, current_user, secret, payload)
            db.session.commit()
        except IntegrityError:  # the same key sent twice at once: the other request stored it
            db.session.rollback()
            result = sync.receive(db.session, current_user, secret, payload)
    except sync.SyncRefused as exc:
        db.session.rollback()
        return _no_store(jsonify(error=exc.message, errors=exc.errors)), exc.status
    return _no_store(jsonify(result)), 200


@bp.route("/dot/<int:round_id>/may-xung-dot")
@role_required("supervisor")
def device_conflicts(round_id: int) -> str:
    survey_round = db.get_or_404(SurveyRound, round_id)
    items = db.session.scalars(sync.conflicts(round_id)).all()
    return render_template(
        "entry/device_conflicts.html", round=survey_round, items=items, form=ConfirmForm(), reasons=sync.CONFLICTS
    )


@bp.route("/may/xung-dot/<int:submission_id>", methods=["POST"])
@role_required("supervisor")
def device_decide(submission_id: int) -> WerkzeugResponse:
    submission = db.get_or_404(DeviceSubmission, submission_id)
    back = url_for("entry.device_conflicts", round_id=submission.round_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(back)
    try:
        sync.decide(db.session, submission, current_user, request.form.get("decision", ""), request.form.get("note"))
    except RoundError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Đã ghi quyết định."), "success")
    return redirect(back)
