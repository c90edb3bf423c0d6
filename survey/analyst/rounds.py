"""Sở Nội vụ pages for a survey round: create it, import its frame, draw the sample, follow
the response rates."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from analysis.sampling import AllocationRule
from survey import frames, questionnaires
from survey.analyst import bp
from survey.analyst.forms import DrawForm, FrameUploadForm, RoundForm, VerificationForm
from survey.extensions import db
from survey.forms_common import ConfirmForm
from survey.models import StratumDesign, SurveyRound
from survey.rounds import (
    RoundError,
    case_summary,
    create_round,
    draw_sample,
    purge_pii,
    response_rates,
    stratum_sd_from_round,
)
from survey.security import role_required


@bp.route("/dot", methods=["GET", "POST"])
@role_required("analyst", "admin")
def rounds() -> str | WerkzeugResponse:
    form = RoundForm()
    if form.validate_on_submit():
        row = questionnaires.get(db.session, current_app.config["QR_QUESTIONNAIRE"])
        try:
            created = create_round(
                db.session,
                name=form.name.data,
                period_start=form.period_start.data,
                period_end=form.period_end.data,
                questionnaire=row,
            )
        except RoundError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            return redirect(url_for("analyst.round_detail", round_id=created.id))
    items = db.session.scalars(sa.select(SurveyRound).order_by(SurveyRound.id.desc())).all()
    return render_template("analyst/rounds.html", form=form, rounds=items)


@bp.route("/dot/<int:round_id>")
@role_required("analyst", "admin")
def round_detail(round_id: int) -> str:
    survey_round = db.get_or_404(SurveyRound, round_id)
    return _render_round(survey_round)


def _draw_form(survey_round: SurveyRound, form: DrawForm | None = None) -> DrawForm:
    form = form or DrawForm()
    earlier = db.session.scalars(
        sa.select(SurveyRound)
        .where(SurveyRound.id != survey_round.id, SurveyRound.seed.is_not(None))
        .order_by(SurveyRound.id.desc())
    ).all()
    form.sd_round.choices = [(0, _("không dùng (S_h = 0,5 mọi tầng)"))] + [(r.id, r.name) for r in earlier]
    return form


def _render_round(survey_round: SurveyRound, *, upload=None, draw=None, checked=None, token=None, verification=None):  # type: ignore[no-untyped-def]
    design = db.session.scalars(
        sa.select(StratumDesign).where(StratumDesign.round_id == survey_round.id).order_by(StratumDesign.stratum)
    ).all()
    return render_template(
        "analyst/round.html",
        round=survey_round,
        summary=frames.frame_summary(db.session, survey_round.id),
        design=design,
        cases=case_summary(db.session, survey_round.id),
        rates=response_rates(db.session, survey_round.id),
        upload=upload or FrameUploadForm(),
        draw=_draw_form(survey_round, draw),
        confirm=ConfirmForm(),
        verification=verification or VerificationForm(obj=survey_round),
        checked=checked,
        token=token,
    )


@bp.route("/dot/<int:round_id>/khung", methods=["POST"])
@role_required("analyst", "admin")
def upload_frame(round_id: int) -> str | WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = FrameUploadForm()
    if not form.validate_on_submit():
        return _render_round(survey_round, upload=form), 400
    storage = form.file.data
    data = storage.read()
    try:
        checked = frames.check(db.session, survey_round, frames.read_table(data, storage.filename or "tep.csv"))
    except frames.FrameError as exc:
        form.file.errors = [str(exc)]
        return _render_round(survey_round, upload=form), 400
    if not checked.problems:
        try:
            stored = frames.store(db.session, survey_round, checked)
        except frames.FrameError as exc:
            db.session.rollback()
            form.file.errors = [str(exc)]
            return _render_round(survey_round, upload=form), 400
        survey_round.frame_file = storage.filename
        db.session.commit()
        frames.remove_uploads(current_app.instance_path, round_id)
        flash(_("Đã nhập %(n)s hồ sơ vào khung mẫu.", n=f"{stored:,}".replace(",", ".")), "success")
        return redirect(url_for("analyst.round_detail", round_id=round_id))
    # Keep the file so that the user can download the report or confirm the valid rows.
    token = frames.keep_upload(current_app.instance_path, round_id, data, storage.filename or "tep.csv")
    return _render_round(survey_round, checked=checked, token=token), 422


def _reload(survey_round: SurveyRound, token: str) -> frames.FrameCheck:
    data = frames.read_upload(current_app.instance_path, survey_round.id, token)
    if data is None:
        abort(404)
    return frames.check(db.session, survey_round, frames.read_table(data, token))


@bp.route("/dot/<int:round_id>/khung/<token>/loi.csv")
@role_required("analyst", "admin")
def frame_problems(round_id: int, token: str) -> WerkzeugResponse:
    checked = _reload(db.get_or_404(SurveyRound, round_id), token)
    return Response(
        checked.problems_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="loi-khung-mau-dot-{round_id}.csv"'},
    )


@bp.route("/dot/<int:round_id>/khung/<token>/xac-nhan", methods=["POST"])
@role_required("analyst", "admin")
def confirm_frame(round_id: int, token: str) -> WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    checked = _reload(survey_round, token)
    try:
        stored = frames.store(db.session, survey_round, checked, valid_only=True)
    except frames.FrameError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("analyst.round_detail", round_id=round_id))
    survey_round.frame_file = _("các dòng hợp lệ của tệp tải lên")
    db.session.commit()
    frames.remove_uploads(current_app.instance_path, round_id)
    flash(
        _("Đã nhập %(n)s dòng hợp lệ; %(bad)s dòng có lỗi không được nhập.", n=stored, bad=checked.n_rows - stored),
        "warning",
    )
    return redirect(url_for("analyst.round_detail", round_id=round_id))


@bp.route("/dot/<int:round_id>/chon-mau", methods=["POST"])
@role_required("analyst", "admin")
def draw(round_id: int) -> str | WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = _draw_form(survey_round)
    if form.validate_on_submit():
        factors = {
            group: value
            for group in ("dat_dai", "xay_dung", "dau_tu")
            if (value := form[f"oversample_{group}"].data) not in (None, 1.0)
        }
        try:
            rule = AllocationRule(
                method=form.method.data,
                total_n=form.total_n.data if form.method.data != "fixed" else None,
                per_stratum=form.per_stratum.data if form.method.data == "fixed" else None,
                minimum=form.minimum.data or 0,
                oversample=factors,
                reserve_rate=form.reserve_rate.data,
            )
            stratum_sd = None
            if form.sd_round.data:
                earlier = db.get_or_404(SurveyRound, form.sd_round.data)
                stratum_sd = stratum_sd_from_round(db.session, earlier)
            design = draw_sample(db.session, survey_round, rule, seed=form.seed.data, stratum_sd=stratum_sd)
        except (RoundError, ValueError) as exc:
            db.session.rollback()
            form.method.errors = [str(exc)]
        else:
            db.session.commit()
            achieved = int(design["n_h"].sum())
            if rule.total_n and achieved != rule.total_n:
                flash(
                    _(
                        "Lưu ý: cỡ mẫu đạt được %(a)d khác cỡ mẫu yêu cầu %(t)d do tối thiểu mỗi tầng.",
                        a=achieved,
                        t=rule.total_n,
                    ),
                    "warning",
                )
            flash(
                _(
                    "Đã chọn %(n)d hồ sơ chính và %(r)d dự phòng (hạt giống %(seed)d).",
                    n=int(design["n_h"].sum()),
                    r=int(design["reserve_h"].sum()),
                    seed=survey_round.seed,
                ),
                "success",
            )
            return redirect(url_for("analyst.round_detail", round_id=round_id))
    return _render_round(survey_round, draw=form), 400


@bp.route("/dot/<int:round_id>/xoa-thong-tin-ca-nhan", methods=["POST"])
@role_required("admin")
def purge(round_id: int) -> WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    if ConfirmForm().validate_on_submit():
        cleared = purge_pii(db.session, survey_round)
        db.session.commit()
        frames.remove_uploads(current_app.instance_path, round_id)
        flash(_("Đã xoá thông tin cá nhân của %(n)d hồ sơ.", n=cleared), "warning")
    return redirect(url_for("analyst.round_detail", round_id=round_id))


@bp.route("/dot/<int:round_id>/kiem-tra-cheo", methods=["POST"])
@role_required("analyst", "admin")
def verification(round_id: int) -> str | WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = VerificationForm()
    if not form.validate_on_submit():
        return _render_round(survey_round, verification=form), 400
    survey_round.verify_every = form.verify_every.data
    survey_round.error_threshold = form.error_threshold.data
    db.session.commit()
    flash(_("Đã lưu cách kiểm tra chéo."), "success")
    return redirect(url_for("analyst.round_detail", round_id=round_id))
