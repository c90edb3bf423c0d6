"""Sở Nội vụ pages: stored responses, the estimates report, weighting runs with their
dashboard, trend and exports, open comments, and the survey rounds of the paper channel
(create, import the frame, draw the sample, follow the response rates)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from survey import questionnaires
from survey.analyst import bp, queries
from survey.analyst.forms import (
    BackCheckDrawForm,
    BackCheckForm,
    CommentFilterForm,
    CountsUploadForm,
    DrawForm,
    FrameMappingForm,
    FrameUploadForm,
    PaperSnapshotForm,
    QrSnapshotForm,
    RoundForm,
    TopUpForm,
    VerificationForm,
    choose_questionnaire,
)
from survey.extensions import db, lazy_module
from survey.i18n import select_locale
from survey.models import BackCheck, DossierCountTable, FrameMappingProfile, SurveyRound, WeightingSnapshot
from survey.models import Response as StoredResponse
from survey.models.base import FIELD_GROUP_LABELS, LAND_CONSTRUCTION_INVESTMENT_LABEL
from survey.models.paper import OUTCOMES
from survey.paper import backcheck, fieldwork
from survey.paper.purge import purge_pii
from survey.paper.rounds import RoundError, create_round
from survey.questionnaires.definition import text_of
from survey.security import ConfirmForm, role_required

if TYPE_CHECKING:  # imported on first use: pandas, reportlab (survey.extensions.lazy_module)
    from survey.paper import dossier_counts, frames, mapping, progress, sample
    from survey.reports import annual_pdf, comments, estimates, exports, snapshots
    from survey.reports import dashboard as dashboards
else:
    dossier_counts, frames, mapping, progress, sample = (
        lazy_module(f"survey.paper.{name}") for name in ("dossier_counts", "frames", "mapping", "progress", "sample")
    )
    annual_pdf, comments, estimates, exports, snapshots = (
        lazy_module(f"survey.reports.{name}")
        for name in ("annual_pdf", "comments", "estimates", "exports", "snapshots")
    )
    dashboards = lazy_module("survey.reports.dashboard")

PAGE_SIZE = 50
ANALYSTS = ("analyst", "admin")


@bp.route("/")
@role_required(*ANALYSTS)
def index() -> str:
    return render_template(
        "analyst/index.html",
        counts=db.session.execute(queries.response_counts()).all(),
        targets=current_app.config["TARGETS"],
    )


@bp.route("/phieu")
@role_required(*ANALYSTS)
def responses() -> str:
    page = db.paginate(queries.responses_newest_first(), page=request.args.get("page", 1, type=int), per_page=PAGE_SIZE)
    return render_template("analyst/responses.html", page=page)


@bp.route("/phieu/<int:response_id>")
@role_required(*ANALYSTS)
def response_detail(response_id: int) -> str:
    response = db.get_or_404(StoredResponse, response_id)
    return render_template(
        "analyst/response.html",
        response=response,
        definition=response.questionnaire.definition,
        t=lambda block: text_of(block, "vi"),
    )


# --- the estimates report ----------------------------------------------------------------------
def _report_from_request() -> estimates.Report:
    round_id = request.args.get("dot", type=int)
    survey_round = None if round_id is None else db.get_or_404(SurveyRound, round_id)
    versions, excluded = estimates.report_questionnaires(
        db.session, current_app.config["QR_QUESTIONNAIRE"], survey_round
    )
    if not versions:
        abort(404)
    channel = "qr" if survey_round is None else "paper"
    return estimates.build_report(db.session, versions, channel=channel, survey_round=survey_round, excluded=excluded)


def _qr_goes_to_snapshots() -> WerkzeugResponse | None:
    """The QR channel is estimated only in a weighting run (post-stratified to dossier counts,
    place × field-group strata, a counter's week as a cluster): the old unweighted QR page,
    which took every response as its own cluster, sends the analyst there."""
    if request.args.get("dot", type=int) is not None:
        return None
    flash(
        _("Ước lượng kênh QR được tính trong một lần tính quyền số (hậu phân tầng theo số hồ sơ): chọn kỳ bên dưới."),
        "info",
    )
    return redirect(url_for("analyst.snapshot_list", _anchor="qr"))


@bp.route("/bao-cao")
@role_required(*ANALYSTS)
def report() -> str | WerkzeugResponse:
    if (moved := _qr_goes_to_snapshots()) is not None:
        return moved
    result = _report_from_request()
    return render_template(
        "analyst/report.html",
        result=result,
        **estimates.report_sections(result),
        targets=current_app.config["TARGETS"],
        rounds=estimates.rounds_with_responses(db.session),
        ldx_label=LAND_CONSTRUCTION_INVESTMENT_LABEL,
    )


@bp.route("/bao-cao.csv")
@role_required(*ANALYSTS)
def report_csv() -> Response | WerkzeugResponse:
    if (moved := _qr_goes_to_snapshots()) is not None:
        return moved
    body, name = estimates.estimates_csv(_report_from_request())
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- weighting snapshots, the dashboard, trend and exports --------------------------------------
def _snapshot_forms(
    paper: PaperSnapshotForm | None = None, qr: QrSnapshotForm | None = None
) -> tuple[PaperSnapshotForm, QrSnapshotForm]:
    paper = paper or PaperSnapshotForm(prefix="giay")
    qr = qr or QrSnapshotForm(prefix="qr")
    paper.round_id.choices = [SelectChoice(r.id, r.name) for r in snapshots.rounds_with_forms(db.session)]
    choose_questionnaire(qr.questionnaire, questionnaires.slugs(db.session), current_app.config["QR_QUESTIONNAIRE"])
    qr.frame_round.choices = [SelectChoice(0, _("— không dùng —"))] + [
        SelectChoice(r.id, r.name) for r in snapshots.rounds_with_frame(db.session)
    ]
    qr.counts_table.choices = [SelectChoice(0, _("— không dùng —"))] + [
        SelectChoice(t.id, f"{t.name} ({t.period_start:%d/%m/%Y}–{t.period_end:%d/%m/%Y})")
        for t in snapshots.counts_tables(db.session)
    ]
    return paper, qr


def _render_snapshots(paper: PaperSnapshotForm | None = None, qr: QrSnapshotForm | None = None) -> str:
    paper_form, qr_form = _snapshot_forms(paper, qr)
    return render_template(
        "analyst/snapshots.html",
        snapshots=snapshots.snapshots_newest_first(db.session),
        paper_form=paper_form,
        qr_form=qr_form,
    )


@bp.route("/quyen-so")
@role_required(*ANALYSTS)
def snapshot_list() -> str:
    return _render_snapshots()


@bp.route("/quyen-so/giay", methods=["POST"])
@role_required(*ANALYSTS)
def snapshot_paper() -> WerkzeugResponse | tuple[str, int]:
    form, _qr = _snapshot_forms()
    if not form.validate_on_submit():
        return _render_snapshots(paper=form), 400
    try:
        made = snapshots.build_paper_snapshot(
            db.session,
            db.get_or_404(SurveyRound, form.round_id.data),
            rake=form.rake.data,
            trim=form.trim.data,
            actor=current_user,
        )
    except snapshots.SnapshotError as exc:
        db.session.rollback()
        form.round_id.errors = [str(exc)]
        return _render_snapshots(paper=form), 400
    db.session.commit()
    return redirect(url_for("analyst.dashboard", snapshot_id=made.id))


def _count_source(form: QrSnapshotForm) -> dict[str, object]:
    """The dossier counts the analyst chose: a round's frame or an imported table."""
    if form.frame_round.data:
        return {"frame_round": db.get_or_404(SurveyRound, form.frame_round.data)}
    return {"counts_table": db.get_or_404(DossierCountTable, form.counts_table.data)}


@bp.route("/quyen-so/qr", methods=["POST"])
@role_required(*ANALYSTS)
def snapshot_qr() -> WerkzeugResponse | tuple[str, int]:
    _paper, form = _snapshot_forms()
    if not form.validate_on_submit():
        return _render_snapshots(qr=form), 400
    try:
        start, end = form.bounds()
        made = snapshots.build_qr_snapshot(
            db.session,
            slug=form.questionnaire.data,
            start=start,
            end=end,
            **_count_source(form),
            background=form.background.data,
            actor=current_user,
        )
    except snapshots.SnapshotError as exc:
        db.session.rollback()
        form.period_start.errors = [str(exc)]
        return _render_snapshots(qr=form), 400
    db.session.commit()
    return redirect(url_for("analyst.dashboard", snapshot_id=made.id))  # its page says what it left out


@bp.route("/quyen-so/<int:snapshot_id>")
@role_required(*ANALYSTS)
def dashboard(snapshot_id: int) -> str:
    board = dashboards.build_dashboard(
        db.session, db.get_or_404(WeightingSnapshot, snapshot_id), current_app.config["TARGETS"]
    )
    others = snapshots.comparable_snapshots(db.session, board.snapshot)
    return render_template(
        "analyst/dashboard.html",
        board=board,
        others=others,
        funnel=dashboards.funnel_svg(board.funnel, board.funnel_p0),
        bars=dashboards.bar_svg(board.elements),
        group_bars=dashboards.bar_svg(board.groups),
        coverage_text=dashboards.coverage_sentence(board.snapshot),
    )


@bp.route("/quyen-so/<int:snapshot_id>/xu-huong")
@role_required(*ANALYSTS)
def trend(snapshot_id: int) -> str:
    later = db.get_or_404(WeightingSnapshot, snapshot_id)
    earlier = db.get_or_404(WeightingSnapshot, request.args.get("so-voi", type=int) or 0)
    if earlier.kind != later.kind or earlier.questionnaire_slug != later.questionnaire_slug:
        abort(400)
    result = dashboards.build_trend(earlier, later)
    headline = dashboards.trend_headline(db.session, result)
    return render_template(
        "analyst/trend.html",
        trend=result,
        rows=result.table.to_dict("records"),
        headline=headline,
        chart=dashboards.trend_svg(headline),
    )


@bp.route("/quyen-so/<int:snapshot_id>/bao-cao-nam")
@role_required(*ANALYSTS)
def annual_report(snapshot_id: int) -> str:
    snapshot = db.get_or_404(WeightingSnapshot, snapshot_id)
    result = dashboards.build_annual_report(db.session, snapshot, current_app.config["TARGETS"])
    return render_template(
        "analyst/annual.html",
        report=result,
        board=result.board,
        funnel=dashboards.funnel_svg(result.board.funnel, result.board.funnel_p0),
        bars=dashboards.bar_svg(result.board.elements),
        outcome_labels_vi={code: label for code, (_d, label) in OUTCOMES.items()},
        method_text=annual_pdf.method_sentence(result.board),
        formula_text=annual_pdf.formula_sentence(result.board),
        coverage_text=dashboards.coverage_sentence(snapshot),
    )


@bp.route("/quyen-so/<int:snapshot_id>/bao-cao-nam.pdf")
@role_required(*ANALYSTS)
def annual_report_pdf(snapshot_id: int) -> Response:
    snapshot = db.get_or_404(WeightingSnapshot, snapshot_id)
    body, filename = annual_pdf.annual_report_pdf(
        db.session, snapshot, targets=current_app.config["TARGETS"], province=current_app.config["PROVINCE_NAME"]
    )
    return Response(
        body, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.route("/quyen-so/<int:snapshot_id>/<string:name>.<string:ext>")
@role_required(*ANALYSTS)
def snapshot_export(snapshot_id: int, name: str, ext: str) -> Response:
    snapshot = db.get_or_404(WeightingSnapshot, snapshot_id)
    try:
        body, mimetype, filename = exports.export(db.session, snapshot, name, ext)
    except exports.UnknownExport:
        abort(404)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- dossier counts from the one-stop system ------------------------------------------------------
def _render_counts(form: CountsUploadForm | None = None, problems: dossier_counts.CountsError | None = None) -> str:
    return render_template(
        "analyst/counts.html",
        form=form or CountsUploadForm(),
        tables=dossier_counts.tables_newest_first(db.session),
        problems=problems,
    )


@bp.route("/so-ho-so", methods=["GET", "POST"])
@role_required(*ANALYSTS)
def counts() -> str | WerkzeugResponse | tuple[str, int]:
    form = CountsUploadForm()
    if request.method == "GET":
        return _render_counts(form)
    if not form.validate_on_submit():
        return _render_counts(form), 400
    storage = form.file.data
    try:
        table = dossier_counts.import_counts(
            db.session, storage.read(), storage.filename or "tep.csv", name=form.name.data, actor=current_user
        )
    except dossier_counts.CountsError as exc:
        db.session.rollback()
        return _render_counts(form, exc), 400
    db.session.commit()
    flash(
        _("Đã nhập bảng số hồ sơ “%(name)s”: %(n)s ô, %(d)s hồ sơ.", name=table.name, n=table.cells, d=table.dossiers),
        "success",
    )
    return redirect(url_for("analyst.counts"))


# --- open comments -------------------------------------------------------------------------------
def _comment_form() -> CommentFilterForm:
    form = CommentFilterForm(request.args)
    form.place_id.choices = [SelectChoice(0, _("Mọi nơi"))] + [
        SelectChoice(i, n) for i, n in comments.places(db.session)
    ]
    form.field_group.choices = [SelectChoice("", _("Mọi nhóm"))] + [
        SelectChoice(k, v) for k, v in FIELD_GROUP_LABELS.items()
    ]
    return form


@bp.route("/y-kien")
@role_required(*ANALYSTS)
def comment_list() -> str | tuple[str, int]:
    form = _comment_form()
    if request.args and not form.validate():
        return render_template("analyst/comments.html", form=form, rows=None), 400
    table = comments.comments(db.session, comments.as_filter(form.data))
    page = request.args.get("page", 1, type=int)
    rows = table.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE].to_dict("records")
    return render_template("analyst/comments.html", form=form, rows=rows, total=len(table), page=page, size=PAGE_SIZE)


@bp.route("/y-kien.csv")
@role_required(*ANALYSTS)
def comment_csv() -> Response:
    form = _comment_form()
    if not form.validate():
        abort(400)
    body = comments.comments_csv(comments.comments(db.session, comments.as_filter(form.data)))
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="y-kien.csv"'})


# --- survey rounds -----------------------------------------------------------------------------
@bp.url_value_preprocessor
def _large_frame_uploads(endpoint: str | None, values: dict[str, object] | None) -> None:
    """The frame upload alone accepts large files (FRAME_UPLOAD_MAX_BYTES), and only from an
    analyst: this runs before any before_request hook (CSRF reads the form there)."""
    if endpoint == "analyst.upload_frame" and getattr(current_user, "role", None) in ANALYSTS:
        request.max_content_length = current_app.config["FRAME_UPLOAD_MAX_BYTES"]


@bp.route("/dot", methods=["GET", "POST"])
@role_required(*ANALYSTS)
def rounds() -> str | WerkzeugResponse:
    form = RoundForm()
    choose_questionnaire(form.questionnaire, questionnaires.slugs(db.session), current_app.config["QR_QUESTIONNAIRE"])
    if form.validate_on_submit():
        row = questionnaires.get(db.session, form.questionnaire.data)
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
    items = db.session.scalars(queries.rounds_newest_first()).all()
    return render_template("analyst/rounds.html", form=form, rounds=items)


@bp.route("/dot/<int:round_id>")
@role_required(*ANALYSTS)
def round_detail(round_id: int) -> str:
    return _render_round(db.get_or_404(SurveyRound, round_id))


def _draw_form(survey_round: SurveyRound, form: DrawForm | None = None) -> DrawForm:
    form = form or DrawForm()
    earlier = db.session.scalars(queries.earlier_drawn_rounds(survey_round.id)).all()
    form.sd_round.choices = [(0, _("không dùng (S_h = 0,5 mọi tầng)"))] + [(r.id, r.name) for r in earlier]
    return form


def _render_round(
    survey_round: SurveyRound,
    *,
    upload: FrameUploadForm | None = None,
    draw: DrawForm | None = None,
    checked: frames.FrameCheck | None = None,
    token: str | None = None,
    verification: VerificationForm | None = None,
    preview: sample.Preview | None = None,
) -> str:
    return render_template(
        "analyst/round.html",
        round=survey_round,
        summary=frames.frame_summary(db.session, survey_round.id),
        design=db.session.scalars(queries.stratum_designs(survey_round.id)).all(),
        cases=fieldwork.case_summary(db.session, survey_round.id),
        rates=fieldwork.response_rates(db.session, survey_round.id),
        progress=fieldwork.interviewer_progress(db.session, survey_round.id),
        upload=_upload_form(upload),
        draw=_draw_form(survey_round, draw),
        confirm=ConfirmForm(),
        top_up=TopUpForm(),
        verification=verification or VerificationForm(obj=survey_round),
        checked=checked,
        token=token,
        preview=preview,
    )


def _upload_form(form: FrameUploadForm | None = None) -> FrameUploadForm:
    form = form or FrameUploadForm()
    form.profile.choices = [(0, _("Tự nhận diện (hoặc hồ sơ ánh xạ khớp tiêu đề)"))] + [
        (p.id, p.name) for p in mapping.profiles(db.session)
    ]
    return form


@bp.route("/dot/<int:round_id>/khung", methods=["POST"])
@role_required(*ANALYSTS)
def upload_frame(round_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = _upload_form()
    if not form.validate_on_submit():
        return _render_round(survey_round, upload=form), 400
    storage = form.file.data
    try:
        done = mapping.import_upload(
            db.session,
            survey_round,
            storage.stream,
            storage.filename or "tep.csv",
            instance_path=current_app.instance_path,
            profile_id=form.profile.data or None,
            review=form.review.data,
        )
    except frames.FrameError as exc:
        db.session.rollback()
        form.file.errors = [str(exc)]
        return _render_round(survey_round, upload=form), 400
    if done.needs_mapping:
        return redirect(url_for("analyst.frame_mapping", round_id=round_id, token=done.token))
    return _frame_checked(survey_round, done)


def _frame_checked(survey_round: SurveyRound, done: mapping.Upload) -> WerkzeugResponse | tuple[str, int]:
    """After the check: the report of a file with problems, or the import done."""
    db.session.commit()  # the frame, or a profile saved with the mapping (the report writes nothing)
    if done.saved_profile:
        flash(_("Đã lưu hồ sơ ánh xạ “%(name)s”.", name=done.saved_profile), "success")
    if done.stored is None:
        assert done.checked is not None
        return _render_round(survey_round, checked=done.checked, token=done.token), 422
    flash(_("Đã nhập %(n)s hồ sơ vào khung mẫu.", n=f"{done.stored:,}".replace(",", ".")), "success")
    if done.profile and not done.saved_profile:
        flash(_("Cột đọc theo hồ sơ ánh xạ “%(name)s”.", name=done.profile), "info")
    assert done.checked is not None
    _flash_import_notes(done.checked)
    return redirect(url_for("analyst.round_detail", round_id=survey_round.id))


def _flash_import_notes(checked: frames.FrameCheck) -> None:
    """What the import read from where: field groups taken from the lĩnh vực, unused columns."""
    if checked.from_linh_vuc:
        parts = [
            f"{name} → {FIELD_GROUP_LABELS[group]}: {n}" for (name, group), n in sorted(checked.from_linh_vuc.items())
        ]
        shown = "; ".join(parts[:12]) + (" …" if len(parts) > 12 else "")
        flash(_("Nhóm lĩnh vực suy từ cột Lĩnh vực: %(list)s.", list=shown), "info")
    if checked.unused:
        flash(_("Các cột không dùng: %(cols)s.", cols=", ".join(checked.unused)), "info")


@bp.route("/dot/<int:round_id>/khung/<token>/anh-xa", methods=["GET", "POST"])
@role_required(*ANALYSTS)
def frame_mapping(round_id: int, token: str) -> str | WerkzeugResponse | tuple[str, int]:
    survey_round = db.get_or_404(SurveyRound, round_id)
    step = mapping.mapping_step(db.session, survey_round, token, instance_path=current_app.instance_path)
    if step is None:
        abort(404)
    fields = [(t.field, t.label) for t in mapping.targets()]
    form = FrameMappingForm.for_file(fields, step.headers, step.columns)
    if not form.validate_on_submit():
        return _render_mapping(survey_round, step, form), 400 if request.method == "POST" else 200
    try:
        done = mapping.confirm_mapping(
            db.session,
            survey_round,
            token,
            form.columns(),
            save_as=form.save_as.data,
            actor_id=current_user.id,
            instance_path=current_app.instance_path,
        )
    except frames.MappingError as exc:
        db.session.rollback()
        return _render_mapping(survey_round, step, form, errors=exc.reasons), 400
    except frames.FrameError as exc:  # the file itself cannot be read past its first rows: it is gone
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("analyst.round_detail", round_id=round_id))
    return abort(404) if done is None else _frame_checked(survey_round, done)


def _render_mapping(
    survey_round: SurveyRound, step: mapping.MappingStep, form: FrameMappingForm, errors: list[str] | None = None
) -> str:
    return render_template(
        "analyst/frame_mapping.html",
        round=survey_round,
        step=step,
        form=form,
        targets=mapping.targets(),
        errors=errors or [],
    )


def _kept_upload(survey_round: SurveyRound, token: str) -> frames.FrameCheck:
    checked = mapping.check_kept_upload(db.session, survey_round, token, instance_path=current_app.instance_path)
    if checked is None:
        abort(404)
    return checked


@bp.route("/dot/<int:round_id>/khung/<token>/loi.csv")
@role_required(*ANALYSTS)
def frame_problems(round_id: int, token: str) -> Response:
    checked = _kept_upload(db.get_or_404(SurveyRound, round_id), token)
    return Response(
        checked.problems_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="loi-khung-mau-dot-{round_id}.csv"'},
    )


@bp.route("/dot/<int:round_id>/khung/<token>/xac-nhan", methods=["POST"])
@role_required(*ANALYSTS)
def confirm_frame(round_id: int, token: str) -> WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    checked = _kept_upload(survey_round, token)
    label = _("các dòng hợp lệ của tệp tải lên")
    try:
        stored = mapping.import_valid_rows(
            db.session, survey_round, checked, label=label, instance_path=current_app.instance_path
        )
    except frames.FrameError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        bad = checked.n_rows - stored
        flash(_("Đã nhập %(n)s dòng hợp lệ; %(bad)s dòng có lỗi không được nhập.", n=stored, bad=bad), "warning")
    return redirect(url_for("analyst.round_detail", round_id=round_id))


# --- column-mapping profiles of frame exports -----------------------------------------------------
@bp.route("/anh-xa-cot")
@role_required(*ANALYSTS)
def mapping_profiles() -> str:
    return render_template(
        "analyst/mapping_profiles.html",
        profiles=mapping.profiles(db.session),
        labels=frames.COLUMN_LABELS,
        ordered=mapping.ordered_columns,
        confirm=ConfirmForm(),
    )


@bp.route("/anh-xa-cot/<int:profile_id>/xoa", methods=["POST"])
@role_required(*ANALYSTS)
def delete_mapping_profile(profile_id: int) -> WerkzeugResponse:
    profile = db.get_or_404(FrameMappingProfile, profile_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = profile.name
    mapping.delete_profile(db.session, profile)
    db.session.commit()
    flash(_("Đã xoá hồ sơ ánh xạ “%(name)s”.", name=name), "success")
    return redirect(url_for("analyst.mapping_profiles"))


@bp.route("/dot/<int:round_id>/chon-mau", methods=["POST"])
@role_required(*ANALYSTS)
def draw(round_id: int) -> WerkzeugResponse | tuple[str, int]:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = _draw_form(survey_round)
    if not form.validate_on_submit():
        return _render_round(survey_round, draw=form), 400
    sd_round = db.get_or_404(SurveyRound, form.sd_round.data) if form.sd_round.data else None
    try:
        done = sample.draw_round(db.session, survey_round, **form.draw_parameters(), sd_round=sd_round)
    except RoundError as exc:
        db.session.rollback()
        if survey_round.status != "frame":  # reloaded after the rollback
            flash(str(exc), "error")  # drawn meanwhile (a double click): the page shows that sample
            return redirect(url_for("analyst.round_detail", round_id=round_id))
        form.method.errors = [str(exc)]
        return _render_round(survey_round, draw=form), 400
    db.session.commit()
    _flash_draw(done)
    return redirect(url_for("analyst.round_detail", round_id=round_id))


def _flash_draw(done: sample.Draw) -> None:
    if done.size_changed:
        flash(
            _(
                "Lưu ý: cỡ mẫu đạt được %(a)d khác cỡ mẫu yêu cầu %(t)d do tối thiểu mỗi tầng.",
                a=done.achieved,
                t=done.requested,
            ),
            "warning",
        )
    flash(
        _(
            "Đã chọn %(n)d hồ sơ chính và %(r)d dự phòng (hạt giống %(seed)d).",
            n=done.achieved,
            r=done.reserves,
            seed=done.seed,
        ),
        "success",
    )


@bp.route("/dot/<int:round_id>/chon-mau/xem-truoc", methods=["POST"])
@role_required(*ANALYSTS)
def draw_preview(round_id: int) -> str | tuple[str, int]:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = _draw_form(survey_round)
    if not form.validate_on_submit():
        return _render_round(survey_round, draw=form), 400
    sd_round = db.get_or_404(SurveyRound, form.sd_round.data) if form.sd_round.data else None
    try:
        preview = sample.preview_round(
            db.session,
            survey_round,
            **form.draw_parameters(),
            sd_round=sd_round,
            response_rate=form.assumed_rr.data or 0.6,
        )
    except RoundError as exc:
        form.method.errors = [str(exc)]
        return _render_round(survey_round, draw=form), 400
    return _render_round(survey_round, draw=form, preview=preview)


def _round_action(round_id: int, action: Callable[[], int], done: Callable[[int], tuple[str, str]]) -> WerkzeugResponse:
    """Run one round service: commit and say what it did (`done` of its count: message and
    category), or roll back and show the rule it broke; then back to the round page."""
    try:
        count = action()
    except RoundError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(*done(count))
    return redirect(url_for("analyst.round_detail", round_id=round_id))


@bp.route("/dot/<int:round_id>/huy-chon-mau", methods=["POST"])
@role_required(*ANALYSTS)
def undo(round_id: int) -> WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("analyst.round_detail", round_id=round_id))
    return _round_action(
        round_id,
        lambda: sample.undo_draw(db.session, survey_round),
        lambda n: (_("Đã huỷ lần chọn mẫu (%(n)d hồ sơ); có thể chọn mẫu lại.", n=n), "success"),
    )


@bp.route("/dot/<int:round_id>/bo-sung-du-phong", methods=["POST"])
@role_required(*ANALYSTS)
def top_up(round_id: int) -> WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = TopUpForm()
    if not form.validate_on_submit():
        for message in (m for errors in form.errors.values() for m in errors):
            flash(str(message), "error")
        return redirect(url_for("analyst.round_detail", round_id=round_id))
    return _round_action(
        round_id,
        lambda: sample.top_up_reserves(db.session, survey_round, form.stratum.data, form.count.data, form.reason.data),
        lambda n: (_("Đã bổ sung %(n)d hồ sơ dự phòng cho tầng %(s)s.", n=n, s=form.stratum.data), "success"),
    )


@bp.route("/dot/<int:round_id>/xoa-thong-tin-ca-nhan", methods=["POST"])
@role_required("admin")
def purge(round_id: int) -> WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("analyst.round_detail", round_id=round_id))
    return _round_action(
        round_id,
        lambda: purge_pii(db.session, survey_round, instance_path=current_app.instance_path),
        lambda n: (_("Đã xoá thông tin cá nhân của %(n)d hồ sơ.", n=n), "warning"),
    )


@bp.route("/dot/<int:round_id>/ket-thuc", methods=["POST"])
@role_required(*ANALYSTS)
def close_round(round_id: int) -> WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("analyst.round_detail", round_id=round_id))
    return _round_action(
        round_id,
        lambda: fieldwork.close_fieldwork(db.session, survey_round),
        lambda n: (
            _("Đã kết thúc thực địa; %(n)d trường hợp không có kết quả được tính là chưa rõ đủ điều kiện.", n=n),
            "success",
        ),
    )


@bp.route("/dot/<int:round_id>/kiem-tra-cheo", methods=["POST"])
@role_required(*ANALYSTS)
def verification(round_id: int) -> WerkzeugResponse | tuple[str, int]:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = VerificationForm()
    if not form.validate_on_submit():
        return _render_round(survey_round, verification=form), 400
    survey_round.verify_every = form.verify_every.data
    survey_round.error_threshold = form.error_threshold.data
    db.session.commit()
    flash(_("Đã lưu cách kiểm tra chéo."), "success")
    return redirect(url_for("analyst.round_detail", round_id=round_id))


# --- back-check (phúc tra) and the progress export --------------------------------------------
@bp.route("/dot/<int:round_id>/phuc-tra")
@role_required(*ANALYSTS)
def back_check(round_id: int) -> str:
    survey_round = db.get_or_404(SurveyRound, round_id)
    checks = db.session.scalars(backcheck.listing(round_id)).all()
    fieldwork.log_pii_view(db.session, current_user, [c.case for c in checks if c.checked_at is None], "back_check")
    db.session.commit()
    return render_template(
        "analyst/back_check.html",
        round=survey_round,
        checks=checks,
        results=backcheck.results(db.session, survey_round),
        form=BackCheckDrawForm(share=round(100 * survey_round.backcheck_share, 1)),
    )


@bp.route("/dot/<int:round_id>/phuc-tra/chon", methods=["POST"])
@role_required(*ANALYSTS)
def back_check_draw(round_id: int) -> WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = BackCheckDrawForm()
    if not form.validate_on_submit():
        for message in (m for errors in form.errors.values() for m in errors):
            flash(str(message), "error")
        return redirect(url_for("analyst.back_check", round_id=round_id))
    try:
        added = backcheck.draw(db.session, survey_round, current_user, form.share.data / 100)
    except RoundError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Đã chọn thêm %(n)d phỏng vấn để phúc tra.", n=added), "success")
    return redirect(url_for("analyst.back_check", round_id=round_id))


@bp.route("/phuc-tra/<int:check_id>", methods=["GET", "POST"])
@role_required(*ANALYSTS)
def back_check_case(check_id: int) -> str | WerkzeugResponse:
    check = db.get_or_404(BackCheck, check_id)
    round_id, form = check.round_id, BackCheckForm()
    if form.validate_on_submit():
        try:
            backcheck.record(db.session, check, current_user, form.verification())
        except RoundError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Đã ghi kết quả phúc tra."), "success")
        return redirect(url_for("analyst.back_check", round_id=round_id))
    fieldwork.log_pii_view(db.session, current_user, [check.case], "back_check")
    db.session.commit()
    answers = backcheck.key_answers(db.session, [check.case_id], select_locale()).get(check.case_id)
    return render_template("analyst/back_check_case.html", check=check, form=form, answers=answers)


@bp.route("/dot/<int:round_id>/tien-do.<any(csv, xlsx):ext>")
@role_required(*ANALYSTS)
def progress_export(round_id: int, ext: str) -> Response:
    data, mimetype, filename = progress.export(db.session, db.get_or_404(SurveyRound, round_id), ext)
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
