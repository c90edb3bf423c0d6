"""Vietnam Post pages: assignments, cases, batches, keying and adjudication."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as WerkzeugResponse

from survey import keying as keying_service
from survey.entry import bp
from survey.entry.forms import AssignForm, BatchForm, OutcomeForm, ReplaceForm, SerialForm
from survey.extensions import db
from survey.forms_common import ConfirmForm
from survey.keying_forms import (
    answers_from_keying,
    build_keying_form_class,
    keyed_questions,
    keying_values,
    required_missing,
    straight_lined,
)
from survey.models import (
    Batch,
    Discrepancy,
    FrameRecord,
    Keying,
    PaperForm,
    Place,
    Questionnaire,
    SampledCase,
    StratumDesign,
    SurveyRound,
    User,
)
from survey.models.paper import OUTCOMES
from survey.rounds import RoundError, assign, log_pii_view, record_outcome, replace_case
from survey.security import role_required

STAFF = ("supervisor", "surveyor")


def _case_query(round_id: int) -> sa.Select:
    return (
        sa.select(SampledCase)
        .where(SampledCase.round_id == round_id, SampledCase.active)
        .options(selectinload(SampledCase.record).selectinload(FrameRecord.place), selectinload(SampledCase.surveyor))
        .order_by(SampledCase.stratum, SampledCase.draw_order)
    )


@bp.route("/")
@role_required(*STAFF)
def index() -> str:
    rounds = db.session.scalars(
        sa.select(SurveyRound).where(SurveyRound.status.in_(("sampled", "fieldwork"))).order_by(SurveyRound.id.desc())
    ).all()
    mine = []
    if current_user.role == "surveyor":
        mine = db.session.scalars(
            sa.select(SampledCase)
            .where(SampledCase.surveyor_id == current_user.id, SampledCase.active, SampledCase.replaced_by_id.is_(None))
            .options(selectinload(SampledCase.record).selectinload(FrameRecord.place))
            .order_by(SampledCase.round_id, SampledCase.form_serial)
        ).all()
        for round_id in {c.round_id for c in mine}:
            log_pii_view(db.session, current_user, round_id, [c.id for c in mine if c.round_id == round_id], "my_cases")
        db.session.commit()
    return render_template("entry/index.html", rounds=rounds, mine=mine)


@bp.route("/dot/<int:round_id>/phan-cong", methods=["GET", "POST"])
@role_required("supervisor")
def assignments(round_id: int) -> str | WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    surveyors = db.session.scalars(
        sa.select(User).where(User.role == "surveyor", User.active).order_by(User.full_name)
    ).all()
    form = AssignForm()
    form.surveyor.choices = [(0, _("— thu hồi, chưa giao —"))] + [(u.id, u.full_name) for u in surveyors]
    place_filter = request.args.get("noi", type=int)
    unassigned_only = request.args.get("chua_giao") == "1"
    if form.validate_on_submit():
        target = next((u for u in surveyors if u.id == form.surveyor.data), None)
        chosen = form.cases.data
        if "giao-tat-ca" in request.form:  # every case shown by the current filter
            chosen = [int(v) for v in request.form.getlist("visible") if v.isdigit()]
        try:
            changed = assign(db.session, survey_round, chosen, target)
        except RoundError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Đã cập nhật %(n)d trường hợp.", n=changed), "success")
        return redirect(request.full_path if request.args else url_for("entry.assignments", round_id=round_id))
    query = _case_query(round_id)
    if place_filter:
        query = query.join(FrameRecord, FrameRecord.id == SampledCase.frame_record_id).where(
            FrameRecord.place_id == place_filter
        )
    if unassigned_only:
        query = query.where(SampledCase.surveyor_id.is_(None))
    cases = db.session.scalars(query).all()
    places = db.session.execute(
        sa.select(Place.id, Place.name)
        .join(StratumDesign, StratumDesign.place_id == Place.id)
        .where(StratumDesign.round_id == round_id)
        .distinct()
        .order_by(Place.name)
    ).all()
    log_pii_view(db.session, current_user, round_id, [c.id for c in cases], "assignment")
    db.session.commit()
    return render_template(
        "entry/assignments.html",
        round=survey_round,
        cases=cases,
        form=form,
        surveyors=surveyors,
        places=places,
        place_filter=place_filter,
        unassigned_only=unassigned_only,
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
    if request.method == "POST":
        try:
            if "kq-outcome" in request.form and outcome_form.validate_on_submit():
                record_outcome(db.session, sampled, outcome_form.outcome.data)
                db.session.commit()
                flash(_("Đã ghi kết quả liên hệ."), "success")
                return redirect(url_for("entry.case", case_id=case_id))
            if "tt-reason" in request.form and replace_form.validate_on_submit():
                reserve = replace_case(db.session, sampled, replace_form.reason.data)
                db.session.commit()
                flash(_("Đã thay bằng hồ sơ dự phòng, phiếu số %(s)s.", s=reserve.form_serial), "warning")
                return redirect(url_for("entry.case", case_id=reserve.id))
        except RoundError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    log_pii_view(db.session, current_user, sampled.round_id, [sampled.id], "case")
    db.session.commit()
    return render_template("entry/case.html", case=sampled, outcome_form=outcome_form, replace_form=replace_form)


@bp.route("/dot/<int:round_id>/bang-phan-cong/<int:surveyor_id>")
@role_required(*STAFF)
def assignment_sheet(round_id: int, surveyor_id: int) -> str:
    if current_user.role == "surveyor" and current_user.id != surveyor_id:
        abort(403)
    survey_round = db.get_or_404(SurveyRound, round_id)
    surveyor = db.get_or_404(User, surveyor_id)
    cases = db.session.scalars(
        _case_query(round_id).where(SampledCase.surveyor_id == surveyor_id, SampledCase.replaced_by_id.is_(None))
    ).all()
    log_pii_view(db.session, current_user, round_id, [c.id for c in cases], "assignment_sheet")
    db.session.commit()
    questionnaire = db.session.get(Questionnaire, survey_round.questionnaire_id)
    return render_template(
        "entry/sheet.html",
        round=survey_round,
        surveyor=surveyor,
        cases=cases,
        printed=request.args.get("phieu") == "1",
        sections=keyed_questions(questionnaire.definition),
        definition=questionnaire.definition,
    )


@bp.route("/phieu-qr/<serial>.svg")
@role_required(*STAFF)
def serial_qr(serial: str) -> WerkzeugResponse:
    from flask import Response

    from survey.posters import qr_svg

    if not serial.isdigit() or len(serial) > 20:
        abort(404)
    return Response(qr_svg(serial), mimetype="image/svg+xml")


# --- batches and keying ----------------------------------------------------------------------
@bp.route("/dot/<int:round_id>/lo", methods=["GET", "POST"])
@role_required(*STAFF)
def batches(round_id: int) -> str | WerkzeugResponse:
    survey_round = db.get_or_404(SurveyRound, round_id)
    form = BatchForm()
    if current_user.role == "supervisor" and form.validate_on_submit():
        code = form.code.data.strip().upper()
        if db.session.scalar(sa.select(Batch.id).where(Batch.round_id == round_id, Batch.code == code)):
            form.code.errors.append(_("Mã lô %(c)s đã có.", c=code))
        else:
            batch = Batch(
                round_id=round_id, code=code, post_office=form.post_office.data.strip(), received=form.received.data
            )
            db.session.add(batch)
            db.session.commit()
            return redirect(url_for("entry.batch", batch_id=batch.id))
    rows = db.session.scalars(sa.select(Batch).where(Batch.round_id == round_id).order_by(Batch.id)).all()
    controls = {b.id: keying_service.batch_control(db.session, b) for b in rows}
    stats = keying_service.operator_stats(db.session, round_id=round_id)
    return render_template(
        "entry/batches.html", round=survey_round, batches=rows, controls=controls, form=form, stats=stats
    )


@bp.route("/lo/<int:batch_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def batch(batch_id: int) -> str | WerkzeugResponse:
    the_batch = db.get_or_404(Batch, batch_id)
    form = SerialForm()
    if form.validate_on_submit():
        for attempt in (1, 2):
            try:
                keying = keying_service.open_keying(db.session, the_batch, form.serial.data, current_user)
                db.session.commit()
            except keying_service.KeyingError as exc:
                db.session.rollback()
                form.serial.errors.append(str(exc))
                break
            except IntegrityError:
                # Another clerk opened the same form at the same moment: look again, once.
                db.session.rollback()
                if attempt == 2:
                    raise
            else:
                return redirect(url_for("entry.key_form", keying_id=keying.id))
    forms = db.session.scalars(
        sa.select(PaperForm).where(PaperForm.batch_id == batch_id).order_by(PaperForm.serial)
    ).all()
    return render_template(
        "entry/batch.html",
        batch=the_batch,
        form=form,
        forms=forms,
        control=keying_service.batch_control(db.session, the_batch),
        stats=keying_service.operator_stats(db.session, batch_id=batch_id),
    )


@bp.route("/nhap/<int:keying_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def key_form(keying_id: int) -> str | WerkzeugResponse:
    keying = db.get_or_404(Keying, keying_id)
    if keying.keyer_id != current_user.id:
        abort(403)  # blind: nobody sees another keyer's work here
    if not keying.draft:
        flash(_("Phiếu này đã nhập xong."), "info")
        return redirect(url_for("entry.batch", batch_id=keying.form.batch_id))
    paper_form = keying.form
    survey_round = db.session.get(SurveyRound, paper_form.case.round_id)
    questionnaire = db.session.get(Questionnaire, survey_round.questionnaire_id)
    definition = questionnaire.definition
    form_class = build_keying_form_class(definition)
    form = form_class() if request.method == "POST" else form_class(data=keying_values(definition, keying.answers))
    warning = None
    if request.method == "POST" and form.validate_on_submit():
        answers = answers_from_keying(definition, form)
        if "luu-nhap" in request.form:
            keying_service.save_draft(db.session, keying, answers)
            db.session.commit()
            flash(_("Đã lưu nháp phiếu %(s)s.", s=paper_form.serial), "info")
            return redirect(url_for("entry.batch", batch_id=paper_form.batch_id))
        missing = required_missing(definition, answers)
        if missing:
            for code in missing:
                form[code].errors = [_("Câu bắt buộc: nhập mã đã đánh dấu trên phiếu.")]
        elif straight_lined(definition, answers) and not form.confirm_straight.data:
            warning = _("Mọi câu đánh giá có cùng một mức. Hãy xem lại phiếu giấy rồi đánh dấu ô xác nhận.")
        else:
            done = keying_service.finish_keying(db.session, keying, answers, questionnaire)
            db.session.commit()
            flash(
                _("Xong phiếu %(s)s (lần nhập %(p)d).", s=done.serial, p=keying.pass_no),
                "success",
            )
            return redirect(url_for("entry.batch", batch_id=paper_form.batch_id))
    return render_template(
        "entry/key.html",
        keying=keying,
        paper_form=paper_form,
        record=paper_form.case.record,
        form=form,
        sections=keyed_questions(definition),
        warning=warning,
    ), (200 if request.method == "GET" else 422 if form.errors or warning else 200)


@bp.route("/phieu/<int:form_id>/doi-chieu", methods=["GET", "POST"])
@role_required("supervisor")
def adjudicate(form_id: int) -> str | WerkzeugResponse:
    paper_form = db.get_or_404(PaperForm, form_id)
    discrepancies = db.session.scalars(
        sa.select(Discrepancy).where(Discrepancy.form_id == form_id).order_by(Discrepancy.question_code)
    ).all()
    survey_round = db.session.get(SurveyRound, paper_form.case.round_id)
    questionnaire = db.session.get(Questionnaire, survey_round.questionnaire_id)
    labels = {kq.code: kq for _s, items in keyed_questions(questionnaire.definition) for kq in items}
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        resolved = {}
        for d in discrepancies:
            choice = request.form.get(f"q-{d.question_code}")
            if choice == "first":
                resolved[d.question_code] = d.first_value
            elif choice == "second":
                resolved[d.question_code] = d.second_value
            elif choice == "other":
                typed = (request.form.get(f"other-{d.question_code}") or "").strip()
                kq = labels.get(d.question_code)
                if kq and kq.keys:
                    if typed not in kq.keys:
                        flash(_("%(c)s: giá trị %(v)s không hợp lệ.", c=d.question_code, v=typed or "(trống)"), "error")
                        break
                    typed = str(kq.keys[typed])
                resolved[d.question_code] = typed or None
        else:
            try:
                keying_service.adjudicate(db.session, paper_form, resolved, current_user, questionnaire)
            except keying_service.KeyingError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(_("Phiếu %(s)s đã được xác minh.", s=paper_form.serial), "success")
                return redirect(url_for("entry.batch", batch_id=paper_form.batch_id))
    keyers = {k.pass_no: k.keyer for k in paper_form.keyings}
    return render_template(
        "entry/adjudicate.html",
        paper_form=paper_form,
        discrepancies=discrepancies,
        labels=labels,
        keyers=keyers,
        confirm=ConfirmForm(),
    )
