"""Vietnam Post pages: assignments, cases, batches, keying and adjudication. The work is
done by `survey.paper`; these views parse the request, call it, and render."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.entry import bp, queries
from survey.entry.forms import (
    AssignForm,
    BatchForm,
    OutcomeForm,
    ReplaceForm,
    ReviewForm,
    SerialForm,
    case_filter,
    page_args,
)
from survey.extensions import db, lazy_module
from survey.models import Batch, Keying, PaperForm, Questionnaire, SampledCase, SurveyRound, User
from survey.models.paper import OUTCOMES
from survey.paper import case_lists, fieldwork, review
from survey.paper.batches import BatchError, batch_control, batch_controls, create_batch
from survey.paper.fieldwork import (
    AssignResult,
    ConfirmationNeeded,
    assign,
    log_pii_view,
)
from survey.paper.keying_form import (
    answers_from_keying,
    blank_required,
    build_adjudication_form_class,
    build_keying_form_class,
    keyed_questions,
    keying_values,
)
from survey.paper.rounds import RoundError
from survey.security import role_required

STAFF = ("supervisor", "surveyor")

if TYPE_CHECKING:  # imported on first use: pandas, reportlab, qrcode (survey.extensions.lazy_module)
    from survey.paper import double_keying, operators, printed, progress
    from survey.qr import posters
else:
    double_keying = lazy_module("survey.paper.double_keying")
    operators = lazy_module("survey.paper.operators")
    printed = lazy_module("survey.paper.printed")
    progress = lazy_module("survey.paper.progress")
    posters = lazy_module("survey.qr.posters")


def _questionnaire_of(round_id: int) -> Questionnaire:
    survey_round = db.get_or_404(SurveyRound, round_id)
    return db.get_or_404(Questionnaire, survey_round.questionnaire_id)


@bp.route("/")
@role_required(*STAFF)
def index() -> str:
    mine = None
    if current_user.role == "surveyor":
        page, per_page = page_args(request.args)
        mine = db.paginate(queries.my_cases(current_user.id), page=page, per_page=per_page, error_out=False)
        log_pii_view(db.session, current_user, mine.items, "my_cases")
    returned = [c.id for c in (mine.items if mine else []) if c.review_status == "returned"]
    html = render_template(
        "entry/index.html",
        rounds=db.session.scalars(queries.open_rounds()).all(),
        mine=mine,
        returned_notes=review.returned_notes(db.session, returned),
    )
    db.session.commit()  # after rendering, as on the assignment list
    return html


@bp.route("/dot/<int:round_id>/phan-cong", methods=["GET", "POST"])
@role_required("supervisor")
def assignments(round_id: int) -> str | WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    surveyors = db.session.scalars(queries.active_surveyors()).all()
    form = AssignForm()
    form.set_choices(surveyors)
    if form.validate_on_submit():
        return _apply_assignment(survey_round, form, surveyors)
    filters = case_filter(request.args)
    page, per_page = page_args(request.args)
    cases = case_lists.case_page(db.session, round_id, filters, page, per_page)
    log_pii_view(db.session, current_user, cases.items, "assignment")
    html = render_template(
        "entry/assignments.html",
        round=survey_round,
        cases=cases,
        form=form,
        surveyors=surveyors,
        places=db.session.execute(queries.round_places(round_id)).all(),
        filters=filters,
    )
    db.session.commit()  # after rendering: a commit expires the loaded rows, each would be read again
    return html


def _apply_assignment(survey_round: SurveyRound, form: AssignForm, surveyors: Sequence[User]) -> str | WerkzeugResponse:
    """Assign (or revoke) the chosen cases; ask for confirmation first when cases would be
    taken away from an interviewer; say what changed."""
    back = request.full_path if request.args else url_for("entry.assignments", round_id=survey_round.id)
    chosen = form.chosen_cases("giao-tat-ca" in request.form)
    try:
        target = form.target(surveyors)
        result = assign(db.session, survey_round, chosen, target, confirmed=form.xac_nhan.data)
    except LookupError:
        flash(_("Điều tra viên đã chọn không còn hoạt động."), "error")
    except ConfirmationNeeded as exc:
        db.session.rollback()
        return render_template(
            "entry/assign_confirm.html", round=survey_round, plan=exc.plan, target=target, cases=chosen, form=form
        )
    except RoundError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_assignment_summary(result, target), "success")
    return redirect(back)


def _assignment_summary(result: AssignResult, target: User | None) -> str:
    if target is None:
        return _("Đã thu hồi %(m)d trường hợp; không đổi (chưa giao): %(k)d.", m=result.revoked, k=result.unchanged)
    return _(
        "Đã giao cho %(name)s: %(n)d trường hợp chưa giao, %(moved)d chuyển từ điều tra viên khác; "
        "không đổi (đã giao cho %(name)s): %(k)d.",
        name=target.full_name,
        n=result.assigned,
        moved=result.moved,
        k=result.unchanged,
    )


def _case_for_user(case_id: int) -> SampledCase:
    case = db.get_or_404(SampledCase, case_id)
    if current_user.role == "surveyor" and case.surveyor_id != current_user.id:
        abort(403)
    return case


@bp.route("/truong-hop/<int:case_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def case(case_id: int) -> str | WerkzeugResponse:
    sampled = _case_for_user(case_id)
    outcome_form = OutcomeForm(prefix="kq")
    outcome_form.outcome.choices = [("", "—")] + [(code, label) for code, (_d, label) in OUTCOMES.items()]
    replace_form = ReplaceForm(prefix="tt")
    try:
        if "kq-outcome" in request.form and outcome_form.validate_on_submit():
            return _record_outcome(sampled, outcome_form)
        if "tt-reason" in request.form and replace_form.validate_on_submit():
            reserve = fieldwork.replace_case(db.session, sampled, replace_form.reason.data)
            db.session.commit()
            flash(_("Đã thay bằng hồ sơ dự phòng, phiếu số %(s)s.", s=reserve.form_serial), "warning")
            return redirect(url_for("entry.case", case_id=reserve.id))
    except RoundError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    log_pii_view(db.session, current_user, [sampled], "case")
    db.session.commit()
    outcome_form.truoc.data = sampled.outcome or ""
    returned = sampled.review_status == "returned"
    note = review.returned_notes(db.session, [sampled.id]).get(sampled.id) if returned else None
    return render_template(
        "entry/case.html", case=sampled, outcome_form=outcome_form, replace_form=replace_form, returned_note=note
    )


def _record_outcome(sampled: SampledCase, form: OutcomeForm) -> WerkzeugResponse:
    """Write the outcome if the case still has the one the page showed (RoundError if not)."""
    written = fieldwork.record_outcome(
        db.session, sampled, form.outcome.data, expected=form.expected(fieldwork.AS_LOADED)
    )
    db.session.commit()
    flash(_("Đã ghi kết quả liên hệ.") if written else _("Kết quả này đã được ghi trước đó."), "success")
    return redirect(url_for("entry.case", case_id=sampled.id))


def _sheet_owner(round_id: int, surveyor_id: int) -> tuple[SurveyRound, User]:
    """The round and interviewer of an assignment sheet: an interviewer sees only their own."""
    if current_user.role == "surveyor" and current_user.id != surveyor_id:
        abort(403)
    return db.get_or_404(SurveyRound, round_id), db.get_or_404(User, surveyor_id)


@bp.route("/dot/<int:round_id>/bang-phan-cong/<int:surveyor_id>")
@role_required(*STAFF)
def assignment_sheet(round_id: int, surveyor_id: int) -> str | WerkzeugResponse:
    if request.args.get("phieu") == "1":  # the old address of the printed forms
        return redirect(url_for("entry.printed_forms", round_id=round_id, surveyor_id=surveyor_id))
    survey_round, surveyor = _sheet_owner(round_id, surveyor_id)
    cases = db.session.scalars(queries.surveyor_sheet(round_id, surveyor_id)).all()
    log_pii_view(db.session, current_user, cases, "assignment_sheet")
    html = render_template(
        "entry/sheet.html", round=survey_round, surveyor=surveyor, cases=cases, parts=printed.print_parts(len(cases))
    )
    db.session.commit()  # after rendering, as on the assignment list
    return html


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'})


@bp.route("/dot/<int:round_id>/bang-phan-cong/<int:surveyor_id>.pdf")
@role_required(*STAFF)
def assignment_sheet_pdf(round_id: int, surveyor_id: int) -> Response:
    survey_round, surveyor = _sheet_owner(round_id, surveyor_id)
    part = page_args(request.args, "phan")[0]
    cases = printed.printable_cases(
        db.session, current_user, round_id, surveyor_id, "print_sheet", part, printed.SHEET_PART
    )
    db.session.commit()
    pdf = printed.assignment_sheet_pdf(cases, round_name=survey_round.name, interviewer=surveyor.full_name)
    return _pdf(pdf, f"bang-phan-cong-{round_id}-{surveyor_id}-{part}.pdf")


@bp.route("/dot/<int:round_id>/bang-phan-cong/<int:surveyor_id>/phieu.pdf")
@role_required(*STAFF)
def printed_forms(round_id: int, surveyor_id: int) -> Response | WerkzeugResponse:
    survey_round, surveyor = _sheet_owner(round_id, surveyor_id)
    part = page_args(request.args, "phan")[0]
    cases = printed.printable_cases(
        db.session, current_user, round_id, surveyor_id, "print_forms", part, printed.FORMS_PART
    )
    db.session.commit()
    if not cases:
        flash(_("%(n)s chưa có trường hợp nào để in phiếu.", n=surveyor.full_name), "info")
        return redirect(url_for("entry.assignment_sheet", round_id=round_id, surveyor_id=surveyor_id))
    pdf = printed.forms_pdf(cases, _questionnaire_of(round_id).definition, round_name=survey_round.name)
    return _pdf(pdf, f"phieu-{round_id}-{surveyor_id}-{part}.pdf")


@bp.route("/phieu-qr/<serial>.svg")
@role_required(*STAFF)
def serial_qr(serial: str) -> Response:
    if not serial.isdigit() or len(serial) > 20:
        abort(404)
    return Response(posters.qr_svg(serial), mimetype="image/svg+xml")


# --- team leader's review and progress -------------------------------------------------------
@bp.route("/dot/<int:round_id>/duyet")
@role_required("supervisor")
def review_list(round_id: int) -> str:
    survey_round = db.get_or_404(SurveyRound, round_id)
    cases = db.session.scalars(review.awaiting_review(round_id)).all()
    returned = db.session.scalars(queries.returned_cases(round_id)).all()
    return render_template(
        "entry/review.html",
        round=survey_round,
        cases=cases,
        returned=returned,
        notes=review.returned_notes(db.session, [c.id for c in returned]),
        form=ReviewForm(),
    )


@bp.route("/truong-hop/<int:case_id>/duyet", methods=["POST"])
@role_required("supervisor")
def review_case(case_id: int) -> WerkzeugResponse:
    sampled = db.get_or_404(SampledCase, case_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        for message in (m for errors in form.errors.values() for m in errors):
            flash(str(message), "error")
    else:
        try:
            review.review(db.session, sampled, current_user, form.decision.data, form.note.data)
        except RoundError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            accepted = form.decision.data == "accepted"
            serial = sampled.form_serial
            flash(
                _("Đã duyệt phiếu %(s)s.", s=serial) if accepted else _("Đã trả lại phiếu %(s)s.", s=serial), "success"
            )
    return redirect(url_for("entry.review_list", round_id=sampled.round_id))


@bp.route("/dot/<int:round_id>/tien-do")
@role_required("supervisor")
def progress_page(round_id: int) -> str:
    survey_round = db.get_or_404(SurveyRound, round_id)
    return render_template(
        "entry/progress.html",
        round=survey_round,
        result=progress.progress(db.session, round_id),
        headers=progress.HEADERS,
        counts=progress.COUNTS,
        rates=fieldwork.response_rates(db.session, round_id),
    )


@bp.route("/dot/<int:round_id>/tien-do.<any(csv, xlsx):ext>")
@role_required("supervisor")
def progress_export(round_id: int, ext: str) -> Response:
    data, mimetype, filename = progress.export(db.session, db.get_or_404(SurveyRound, round_id), ext)
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- batches and keying ----------------------------------------------------------------------
@bp.route("/dot/<int:round_id>/lo", methods=["GET", "POST"])
@role_required(*STAFF)
def batches(round_id: int) -> str | WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = BatchForm()
    if current_user.role == "supervisor" and form.validate_on_submit():
        try:
            batch = create_batch(
                db.session,
                round_id,
                code=form.code.data,
                post_office=form.post_office.data,
                received=form.received.data,
            )
        except BatchError as exc:
            db.session.rollback()
            form.code.errors.append(str(exc))
        else:
            db.session.commit()
            return redirect(url_for("entry.batch", batch_id=batch.id))
    rows = db.session.scalars(queries.round_batches(round_id)).all()
    return render_template(
        "entry/batches.html",
        round=survey_round,
        batches=rows,
        controls=batch_controls(db.session, rows),
        form=form,
        stats=operators.operator_stats(db.session, round_id=round_id),
    )


@bp.route("/lo/<int:batch_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def batch(batch_id: int) -> str | WerkzeugResponse:
    the_batch = db.get_or_404(Batch, batch_id)
    form = SerialForm()
    if form.validate_on_submit():
        try:
            keying = double_keying.start_keying(db.session, the_batch, form.serial.data, current_user)
        except double_keying.KeyingError as exc:
            db.session.rollback()
            form.serial.errors.append(str(exc))  # the message names the serial typed
            form.serial.data = ""  # ready for the next scan or the corrected serial
        else:
            db.session.commit()
            return redirect(url_for("entry.key_form", keying_id=keying.id))
    return render_template(
        "entry/batch.html",
        batch=the_batch,
        form=form,
        forms=db.paginate(
            queries.batch_forms(batch_id), page=page_args(request.args)[0], per_page=100, error_out=False
        ),
        control=batch_control(db.session, the_batch),
        stats=operators.operator_stats(db.session, batch_id=batch_id),
    )


@bp.route("/nhap/<int:keying_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def key_form(keying_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    keying = db.get_or_404(Keying, keying_id)
    if keying.keyer_id != current_user.id:
        abort(403)  # blind: nobody sees another keyer's work here
    paper_form = keying.form
    if not keying.draft:
        flash(_("Phiếu này đã nhập xong."), "info")
        return redirect(url_for("entry.batch", batch_id=paper_form.batch_id))
    questionnaire = _questionnaire_of(paper_form.case.round_id)
    form_class = build_keying_form_class(questionnaire.definition)
    if request.method == "GET":
        return _render_keying(keying, form_class(data=keying_values(questionnaire.definition, keying.answers)))
    form = form_class()
    if not form.validate_on_submit():
        # finishing (not a draft): the blank required answers are said now, with the typing
        # errors, not in a second round once those are mended
        blank = () if "luu-nhap" in request.form else blank_required(questionnaire.definition, form)
        return _render_keying(keying, form, double_keying.KeyingCheck(missing=blank) if blank else None), 422
    answers = answers_from_keying(questionnaire.definition, form)
    if "luu-nhap" in request.form:
        double_keying.save_draft(db.session, keying, answers)
        db.session.commit()
        flash(_("Đã lưu nháp phiếu %(s)s.", s=paper_form.serial), "info")
        return redirect(url_for("entry.batch", batch_id=paper_form.batch_id))
    return _finish_keying(keying, form, answers, questionnaire)


def _finish_keying(
    keying: Keying, form: Any, answers: dict[str, Any], questionnaire: Questionnaire
) -> WerkzeugResponse | tuple[str, int]:
    paper_form = keying.form
    try:
        check = double_keying.submit_keying(
            db.session, keying, answers, questionnaire, confirmed_straight=form.confirm_straight.data
        )
    except double_keying.KeyingError as exc:  # finished meanwhile (double click), or a lost race
        db.session.rollback()
        flash(str(exc), "info")
        return redirect(url_for("entry.batch", batch_id=paper_form.batch_id))
    db.session.commit()  # a draft kept for an already answered dossier, or the finished keying
    if not check.finished:
        return _render_keying(keying, form, check), 422
    flash(_("Xong phiếu %(s)s (lần nhập %(p)d).", s=paper_form.serial, p=keying.pass_no), "success")
    return redirect(url_for("entry.batch", batch_id=paper_form.batch_id))


def _render_keying(keying: Keying, form: object, check: double_keying.KeyingCheck | None = None) -> str:
    for code in check.missing if check else ():
        form[code].errors = [_("Câu bắt buộc: nhập mã đã đánh dấu trên phiếu.")]
    warning, straight = None, check is not None and check.straight_lined
    if straight:
        warning = _("Mọi câu đánh giá có cùng một mức. Hãy xem lại phiếu giấy rồi đánh dấu ô xác nhận.")
    if check is not None and check.answered_dossier:
        warning = _(
            "Hồ sơ %(d)s đã có phiếu trả lời giấy (có thể ở một đợt khảo sát khác): phiếu này chưa được ghi vào "
            "kết quả. Phần đã nhập được lưu nháp; hãy chuyển phiếu giấy cho tổ trưởng.",
            d=check.answered_dossier,
        )
    definition = _questionnaire_of(keying.form.case.round_id).definition
    return render_template(
        "entry/key.html",
        keying=keying,
        paper_form=keying.form,
        record=keying.form.case.record,
        form=form,
        sections=keyed_questions(definition),
        warning=warning,
        straight=straight,
    )


@bp.route("/phieu/<int:form_id>/doi-chieu", methods=["GET", "POST"])
@role_required("supervisor")
def adjudicate(form_id: int) -> str | WerkzeugResponse:
    paper_form = db.get_or_404(PaperForm, form_id)
    discrepancies = db.session.scalars(queries.form_discrepancies(form_id)).all()
    questionnaire = _questionnaire_of(paper_form.case.round_id)
    form = build_adjudication_form_class(list(discrepancies), questionnaire.definition)()
    if form.validate_on_submit():
        resolved = form.resolved(list(discrepancies))
        try:
            double_keying.adjudicate(db.session, paper_form, resolved, current_user, questionnaire)
        except double_keying.KeyingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Phiếu %(s)s đã được xác minh.", s=paper_form.serial), "success")
            return redirect(url_for("entry.batch", batch_id=paper_form.batch_id))
    for errors in form.errors.values():
        for message in errors:
            flash(str(message), "error")
    return render_template(
        "entry/adjudicate.html",
        paper_form=paper_form,
        discrepancies=discrepancies,
        labels=form.questions,
        keyers={k.pass_no: k.keyer for k in paper_form.keyings},
        form=form,
    )
