from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey import questionnaires as questionnaire_registry
from survey.admin import bp, queries
from survey.admin.forms import LinhVucForm, PlaceForm, QuestionnaireUploadForm, TeamForm, counter_form, target_form
from survey.drafts import diff, preview, uploads
from survey.extensions import db, lazy_module
from survey.models import Counter, LinhVucGroup, Place, QuestionnaireDraft, User
from survey.paper.keying_form import build_keying_form_class, keyed_questions
from survey.places.editing import PlaceError, save_counter, save_place
from survey.qr import counters
from survey.questionnaires import Problem, QuestionnaireError
from survey.reports import targets as target_rules
from survey.security import ConfirmForm, role_required
from survey.users import UserError, set_team_leader

SIZES = ("A4", "A5")

if TYPE_CHECKING:  # imported on first use: pandas, reportlab, qrcode (survey.extensions.lazy_module)
    from survey.paper import procedures
    from survey.qr import printing
else:
    procedures = lazy_module("survey.paper.procedures")
    printing = lazy_module("survey.qr.printing")


@bp.route("/")
@role_required("admin")
def index() -> str:
    return render_template(
        "admin/index.html",
        places=db.session.execute(queries.places_with_counter_counts()).all(),
        users=db.session.scalars(queries.users()).all(),
        questionnaires=db.session.execute(queries.questionnaires_with_response_counts()).all(),
        procedures=db.session.execute(queries.procedure_counts_by_field_group()).all(),
        confirm=ConfirmForm(),
        team_form=TeamForm(),
    )


@bp.route("/tai-khoan/<int:user_id>/to", methods=["POST"])
@role_required("admin")
def set_team(user_id: int) -> WerkzeugResponse:
    member = db.get_or_404(User, user_id)
    form = TeamForm()
    leader = db.session.get(User, form.leader.data) if form.validate_on_submit() and form.leader.data else None
    try:
        if form.errors or (form.leader.data and leader is None):
            raise UserError(_("Tổ trưởng đã chọn không tồn tại."))
        set_team_leader(db.session, member, leader)
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Đã cập nhật tổ của %(u)s.", u=member.username), "success")
    return redirect(url_for("admin.index", _anchor="tai-khoan"))


@bp.route("/noi-tiep-nhan/moi", methods=["GET", "POST"])
@bp.route("/noi-tiep-nhan/<int:place_id>", methods=["GET", "POST"])
@role_required("admin")
def place(place_id: int | None = None) -> str | WerkzeugResponse:
    existing = db.get_or_404(Place, place_id) if place_id is not None else None
    form = PlaceForm(obj=existing)
    if form.validate_on_submit():
        try:
            saved = save_place(
                db.session,
                existing,
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
                active=form.active.data,
            )
        except PlaceError as exc:
            db.session.rollback()
            form.code.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Đã lưu %(name)s.", name=saved.name), "success")
            return redirect(url_for("admin.place", place_id=saved.id))
    return render_template("admin/place.html", form=form, place=existing, confirm=ConfirmForm(), sizes=SIZES)


@bp.route("/noi-tiep-nhan/<int:place_id>/quay/moi", methods=["GET", "POST"])
@bp.route("/quay/<int:counter_id>", methods=["GET", "POST"])
@role_required("admin")
def counter(place_id: int | None = None, counter_id: int | None = None) -> str | WerkzeugResponse:
    existing = db.get_or_404(Counter, counter_id) if counter_id is not None else None
    place = existing.place if existing else db.get_or_404(Place, place_id)
    form = counter_form(existing, questionnaire_registry.slugs(db.session), current_app.config["QR_QUESTIONNAIRE"])
    if request.method == "GET" and existing is not None:
        form.field_groups.data = existing.field_groups
    if form.validate_on_submit():
        try:
            saved = save_counter(
                db.session,
                existing,
                place=place,
                code=form.code.data,
                name=form.name.data,
                field_groups=form.field_groups.data,
                active=form.active.data,
                questionnaire_slug=form.questionnaire_slug.data or None,
            )
        except PlaceError as exc:
            db.session.rollback()
            form.code.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Đã lưu %(name)s.", name=saved.name), "success")
            return redirect(url_for("admin.place", place_id=place.id))
    return render_template("admin/counter.html", form=form, place=place, counter=existing)


@bp.route("/quay/<int:counter_id>/doi-ma", methods=["POST"])
@role_required("admin")
def rotate_code(counter_id: int) -> WerkzeugResponse:
    counter = db.get_or_404(Counter, counter_id)
    if ConfirmForm().validate_on_submit():
        counters.rotate(counter)
        db.session.commit()
        flash(
            _(
                "Đã đổi mã QR của %(name)s. Áp phích cũ không còn dùng được: hãy in và dán áp phích mới.",
                name=counter.name,
            ),
            "warning",
        )
    return redirect(url_for("admin.place", place_id=counter.place_id))


def _poster_response(items: list[Counter], filename: str) -> WerkzeugResponse:
    size = request.args.get("kho", "A4").upper()
    if size not in SIZES:
        abort(404)
    try:
        base_url = printing.public_base_url(current_app.config, request.host_url)
        pdf = printing.poster_pdf(
            items,
            base_url=base_url,
            secret=current_app.config["SECRET_KEY"],
            province=current_app.config["PROVINCE_NAME"],
            minutes=printing.answer_minutes(db.session),
            default_slug=current_app.config["QR_QUESTIONNAIRE"],
            size=size,
        )
    except printing.PosterConfigError as exc:
        flash(str(exc), "error")
        return redirect(request.referrer or url_for("admin.index"))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}-{size}.pdf"'},
    )


@bp.route("/quay/<int:counter_id>/ap-phich.pdf")
@role_required("admin")
def counter_poster(counter_id: int) -> WerkzeugResponse:
    counter = db.get_or_404(Counter, counter_id)
    return _poster_response([counter], f"ap-phich-{counter.place.code}-{counter.code}")


@bp.route("/noi-tiep-nhan/<int:place_id>/ap-phich.pdf")
@role_required("admin")
def place_posters(place_id: int) -> WerkzeugResponse:
    place = db.get_or_404(Place, place_id)
    return _poster_response(counters.counters_for_posters(db.session, place_id=place.id), f"ap-phich-{place.code}")


@bp.route("/ap-phich.pdf")
@role_required("admin")
def all_posters() -> WerkzeugResponse:
    return _poster_response(counters.counters_for_posters(db.session), "ap-phich-toan-tinh")


@bp.route("/quay/<int:counter_id>/qr.<any(png, svg):fmt>")
@role_required("admin")
def counter_qr(counter_id: int, fmt: str) -> WerkzeugResponse:
    counter = db.get_or_404(Counter, counter_id)
    try:
        base_url = printing.public_base_url(current_app.config, request.host_url)
    except printing.PosterConfigError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.place", place_id=counter.place_id))
    url = counters.counter_url(base_url, current_app.config["SECRET_KEY"], counter)
    if fmt == "png":
        return Response(printing.qr_png(url), mimetype="image/png")
    return Response(printing.qr_svg(url), mimetype="image/svg+xml")


# --- the lĩnh vực → field group table ------------------------------------------------------------
def _render_linh_vuc(form: LinhVucForm, row: LinhVucGroup | None = None) -> str:
    return render_template(
        "admin/linh_vuc.html",
        rows=procedures.linh_vuc_rows(db.session),
        form=form,
        row=row,
        confirm=ConfirmForm(),
    )


def _save_linh_vuc(form: LinhVucForm, row: LinhVucGroup | None) -> WerkzeugResponse | None:
    """Save the form; None (with the message on the form) when a rule is broken."""
    try:
        saved = procedures.save_linh_vuc(db.session, row, name=form.name.data, field_group=form.field_group.data)
    except procedures.LinhVucError as exc:
        db.session.rollback()
        form.name.errors = [*form.name.errors, str(exc)]
        return None
    db.session.commit()
    flash(_("Đã lưu lĩnh vực “%(name)s”.", name=saved.name), "success")
    return redirect(url_for("admin.linh_vuc_table"))


@bp.route("/linh-vuc", methods=["GET", "POST"])
@role_required("admin")
def linh_vuc_table() -> str | WerkzeugResponse | tuple[str, int]:
    form = LinhVucForm()
    if not form.validate_on_submit():
        return _render_linh_vuc(form), 400 if request.method == "POST" else 200
    return _save_linh_vuc(form, None) or (_render_linh_vuc(form), 400)


@bp.route("/linh-vuc/<int:row_id>", methods=["GET", "POST"])
@role_required("admin")
def linh_vuc_row(row_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    row = db.get_or_404(LinhVucGroup, row_id)
    form = LinhVucForm(obj=row)
    if not form.validate_on_submit():
        return _render_linh_vuc(form, row), 400 if request.method == "POST" else 200
    return _save_linh_vuc(form, row) or (_render_linh_vuc(form, row), 400)


@bp.route("/linh-vuc/<int:row_id>/xoa", methods=["POST"])
@role_required("admin")
def delete_linh_vuc(row_id: int) -> WerkzeugResponse:
    row = db.get_or_404(LinhVucGroup, row_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        procedures.delete_linh_vuc(db.session, row)
    except procedures.LinhVucError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(
            _("Đã xoá lĩnh vực “%(name)s”: hồ sơ thuộc lĩnh vực này sẽ vào nhóm Lĩnh vực khác.", name=row.name),
            "success",
        )
    return redirect(url_for("admin.linh_vuc_table"))


def _schema() -> Path:
    return Path(current_app.config["QUESTIONNAIRES_DIR"]) / "schema.json"


def _draft_page(draft_id: int) -> uploads.DraftPage:
    draft = db.get_or_404(QuestionnaireDraft, draft_id)
    files = current_app.extensions["sipas_questionnaires"]
    return uploads.draft_page(db.session, draft, schema_path=_schema(), files=files)


def _render_questionnaires(form: QuestionnaireUploadForm, problems: list[Problem] | None = None) -> str:
    return render_template(
        "admin/questionnaires.html",
        form=form,
        problems=problems or [],
        published=db.session.execute(queries.questionnaires_with_response_counts()).all(),
        drafts=db.session.scalars(uploads.drafts()).all(),
        max_bytes=current_app.config["QUESTIONNAIRE_UPLOAD_MAX_BYTES"],
    )


@bp.route("/phieu-khao-sat")
@role_required("admin")
def questionnaires() -> str:
    return _render_questionnaires(QuestionnaireUploadForm())


@bp.route("/phieu-khao-sat/tai-len", methods=["POST"])
@role_required("admin")
def upload_questionnaire() -> WerkzeugResponse | tuple[str, int]:
    form = QuestionnaireUploadForm()
    if not form.validate_on_submit():
        return _render_questionnaires(form), 400
    storage = form.file.data
    limit = current_app.config["QUESTIONNAIRE_UPLOAD_MAX_BYTES"]
    try:
        raw = storage.read(limit + 1)
        draft = uploads.upload(
            db.session, storage.filename, raw, actor=current_user, schema_path=_schema(), max_bytes=limit
        )
    except QuestionnaireError as exc:
        db.session.rollback()
        return _render_questionnaires(form, exc.problems), 422
    db.session.commit()
    flash(_("Đã tải lên bản nháp phiếu %(s)s. Hãy xem trước và đối chiếu rồi mới công bố.", s=draft.slug), "success")
    return redirect(url_for("admin.draft", draft_id=draft.id))


@bp.route("/phieu-khao-sat/nhap/<int:draft_id>")
@role_required("admin")
def draft(draft_id: int) -> str:
    page = _draft_page(draft_id)
    old = page.previous.definition if page.previous is not None else None
    changes = diff.differences(old, page.definition) if old is not None and page.definition else []
    return render_template("admin/draft.html", page=page, changes=changes, confirm=ConfirmForm())


@bp.route("/phieu-khao-sat/nhap/<int:draft_id>/xem-truoc", methods=["GET", "POST"])
@role_required("admin")
def draft_citizen_preview(draft_id: int) -> str:
    page = _draft_page(draft_id)
    if not page.definition:
        abort(404)
    lang = request.args.get("lang") if request.args.get("lang") in ("vi", "en") else "vi"
    where = _("Xem trước — không ghi nhận câu trả lời")
    body = preview.citizen_form(page.draft.slug, page.draft.content_hash, page.definition, lang=lang, where=where)
    submitted = request.method == "POST"  # a preview records nothing, whatever is sent
    return render_template("admin/draft_citizen.html", page=page, body=body, lang=lang, submitted=submitted)


@bp.route("/phieu-khao-sat/nhap/<int:draft_id>/nhap-lieu")
@role_required("admin")
def draft_keying_preview(draft_id: int) -> str:
    page = _draft_page(draft_id)
    if not page.definition:
        abort(404)
    form = build_keying_form_class(page.definition)(meta={"csrf": False})
    return render_template("admin/draft_keying.html", page=page, form=form, sections=keyed_questions(page.definition))


@bp.route("/phieu-khao-sat/nhap/<int:draft_id>/cong-bo", methods=["POST"])
@role_required("admin")
def publish_draft(draft_id: int) -> WerkzeugResponse:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    files = current_app.extensions["sipas_questionnaires"]
    try:
        done = uploads.publish(db.session, draft_id, actor=current_user, schema_path=_schema(), files=files)
    except (uploads.DraftError, QuestionnaireError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.questionnaires"))
    db.session.commit()
    row = done.questionnaire
    if done.new:
        flash(_("Đã công bố %(s)s v%(v)d.", s=row.slug, v=row.version), "success")
    else:
        flash(_("Bản nháp này đã được công bố là %(s)s v%(v)d.", s=row.slug, v=row.version), "info")
    return redirect(url_for("admin.questionnaires"))


@bp.route("/phieu-khao-sat/nhap/<int:draft_id>/huy", methods=["POST"])
@role_required("admin")
def discard_draft(draft_id: int) -> WerkzeugResponse:
    draft = db.get_or_404(QuestionnaireDraft, draft_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        uploads.discard(db.session, draft, actor=current_user)
    except uploads.DraftError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Đã huỷ bản nháp phiếu %(s)s.", s=draft.slug), "success")
    return redirect(url_for("admin.questionnaires"))


# --- targets per questionnaire and indicator ------------------------------------------------------
@bp.route("/chi-tieu", methods=["GET"])
@bp.route("/chi-tieu/<slug>", methods=["GET", "POST"])
@role_required("admin")
def targets(slug: str | None = None) -> str | WerkzeugResponse | tuple[str, int]:
    published = questionnaire_registry.slugs(db.session)
    slug = slug or request.args.get("phieu") or current_app.config["QR_QUESTIONNAIRE"]
    if slug not in dict(published):
        abort(404)
    form = target_form(target_rules.indicators_of(db.session, slug))
    if form.validate_on_submit():
        try:
            target_rules.save_target(
                db.session,
                slug,
                indicator=form.indicator.data,
                year=form.year.data,
                domain=form.domain.data,
                target=form.target.data,
                default=current_app.config["TARGETS"],
            )
        except target_rules.TargetError as exc:
            db.session.rollback()
            form.target.errors = [*form.target.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Đã lưu chỉ tiêu."), "success")
            return redirect(url_for("admin.targets", slug=slug))
    page = target_rules.target_page(db.session, slug, current_app.config["TARGETS"])
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/targets.html", page=page, form=form, published=published, confirm=ConfirmForm()
    ), status


@bp.route("/chi-tieu/<slug>/<int:target_id>/xoa", methods=["POST"])
@role_required("admin")
def delete_target(slug: str, target_id: int) -> WerkzeugResponse:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        target_rules.delete_target(db.session, slug, target_id)
    except target_rules.TargetError:
        abort(404)
    db.session.commit()
    flash(_("Đã xoá chỉ tiêu."), "success")
    return redirect(url_for("admin.targets", slug=slug))
