from collections.abc import Mapping, Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from survey.models import FIELD_GROUPS, User
from survey.models.paper import OUTCOMES
from survey.paper.case_lists import NO_OUTCOME, UNASSIGNED, CaseFilter

#: Rows per page of a case list, and the choices offered.
PAGE_SIZES = (50, 100, 200)

#: The surveyor choice that takes cases back. Never the default: the select starts empty.
REVOKE = "thu-hoi"


class AssignForm(FlaskForm):
    surveyor = SelectField(
        _l("Giao cho điều tra viên"),
        validators=[DataRequired(_l("Vui lòng chọn điều tra viên (hoặc chọn thu hồi)."))],
        validate_choice=False,
    )
    cases = SelectMultipleField(coerce=int, validate_choice=False)
    #: Every case the page showed under its current filter ("Giao tất cả N trường hợp").
    visible = SelectMultipleField(coerce=int, validate_choice=False)
    #: The number of cases taken away that the user confirmed on the confirmation step.
    xac_nhan = IntegerField(validators=[Optional()])

    def set_choices(self, surveyors: Sequence[User]) -> None:
        self.surveyor.choices = [
            ("", _l("— chọn điều tra viên —")),
            *((str(u.id), u.full_name) for u in surveyors),
            (REVOKE, _l("— thu hồi, chưa giao —")),
        ]

    def target(self, surveyors: Sequence[User]) -> User | None:
        """The chosen surveyor, None to revoke; LookupError for anything else."""
        if self.surveyor.data == REVOKE:
            return None
        chosen = next((u for u in surveyors if str(u.id) == self.surveyor.data), None)
        if chosen is None:
            raise LookupError(self.surveyor.data)
        return chosen

    def chosen_cases(self, everything_shown: bool) -> list[int]:
        return list(self.visible.data if everything_shown else self.cases.data)


class OutcomeForm(FlaskForm):
    outcome = SelectField(_l("Kết quả liên hệ"), validators=[DataRequired(_l("Vui lòng chọn kết quả."))])
    #: The outcome the page showed ("" = none): a different one in the database means someone
    #: else recorded an outcome meanwhile.
    truoc = HiddenField()

    def expected(self, fallback: object) -> object:
        """The outcome the user saw, or `fallback` when the form did not carry it."""
        if self.truoc.raw_data is None:
            return fallback
        return self.truoc.data or None


class ReviewForm(FlaskForm):
    decision = RadioField(
        _l("Quyết định"),
        choices=[
            SelectChoice("accepted", _l("Đạt: nhận phỏng vấn")),
            SelectChoice("returned", _l("Trả lại cho điều tra viên làm lại")),
        ],
        validators=[DataRequired(_l("Vui lòng chọn đạt hoặc trả lại."))],
    )
    note = TextAreaField(_l("Ghi chú (bắt buộc khi trả lại)"), validators=[Length(max=500)])


class ReplaceForm(FlaskForm):
    reason = StringField(
        _l("Lý do thay bằng hồ sơ dự phòng"), validators=[DataRequired(_l("Phải ghi lý do thay thế.")), Length(max=300)]
    )


class BatchForm(FlaskForm):
    code = StringField(_l("Mã lô"), validators=[DataRequired(_l("Vui lòng nhập mã lô.")), Length(max=20)])
    post_office = StringField(
        _l("Bưu điện giao lô"), validators=[DataRequired(_l("Vui lòng nhập tên bưu điện.")), Length(max=200)]
    )
    received = IntegerField(
        _l("Số phiếu giấy nhận được (đếm tay)"),
        validators=[InputRequired(_l("Vui lòng nhập số phiếu.")), NumberRange(min=0, max=100000)],
    )


class SerialForm(FlaskForm):
    serial = StringField(
        _l("Số phiếu (in ở góc phiếu)"),
        validators=[DataRequired(_l("Vui lòng nhập số phiếu.")), Length(max=30)],
        render_kw={"autofocus": True, "inputmode": "numeric", "autocomplete": "off"},
    )


def case_filter(args: Mapping[str, str]) -> CaseFilter:
    """The filter of a case list from its query string; anything unknown is ignored (a bad
    bookmark shows the whole list, never an error)."""
    place = args.get("noi", "")
    surveyor = args.get("dtv", "")
    if args.get("chua_giao") == "1":  # the earlier "unassigned only" box
        surveyor = UNASSIGNED
    outcome = args.get("kq", "")
    search = " ".join(args.get("tim", "").split())[:40]
    return CaseFilter(
        place_id=int(place) if place.isdigit() else None,
        field_group=args.get("nhom") if args.get("nhom") in FIELD_GROUPS else None,
        surveyor=int(surveyor) if surveyor.isdigit() else (UNASSIGNED if surveyor == UNASSIGNED else None),
        outcome=outcome if outcome in OUTCOMES or outcome == NO_OUTCOME else None,
        search="".join(ch for ch in search if ch.isprintable()),
    )


def page_args(args: Mapping[str, str], name: str = "trang") -> tuple[int, int]:
    """The page number (from 1; from the argument `name`) and page size of a list."""
    page = args.get(name, "1")
    size = args.get("n", "")
    return (
        min(int(page), 10**6) if page.isdigit() and int(page) >= 1 else 1,
        int(size) if size.isdigit() and int(size) in PAGE_SIZES else PAGE_SIZES[0],
    )
