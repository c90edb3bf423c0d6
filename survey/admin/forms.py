from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from survey.models.base import FIELD_GROUP_LABELS, FIELD_GROUPS

CODE_RULE = Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Mã chỉ gồm chữ không dấu, số và các dấu . _ -"))


class PlaceForm(FlaskForm):
    code = StringField(
        _l("Mã nơi tiếp nhận"), validators=[DataRequired(_l("Vui lòng nhập mã.")), Length(max=20), CODE_RULE]
    )
    name = StringField(_l("Tên"), validators=[DataRequired(_l("Vui lòng nhập tên.")), Length(max=200)])
    kind = RadioField(
        _l("Cấp"),
        choices=[
            SelectChoice("tinh", _l("Trung tâm Phục vụ hành chính công tỉnh")),
            SelectChoice("xa", _l("Xã, phường")),
        ],
        validators=[DataRequired(_l("Vui lòng chọn cấp."))],
    )
    active = BooleanField(_l("Đang hoạt động"), default=True)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CounterForm(FlaskForm):
    code = StringField(_l("Mã quầy"), validators=[DataRequired(_l("Vui lòng nhập mã.")), Length(max=20), CODE_RULE])
    name = StringField(_l("Tên quầy"), validators=[DataRequired(_l("Vui lòng nhập tên.")), Length(max=200)])
    field_groups = MultiCheckboxField(
        _l("Nhóm lĩnh vực quầy phục vụ"),
        choices=[SelectChoice(g, FIELD_GROUP_LABELS[g]) for g in FIELD_GROUPS],
        validators=[DataRequired(_l("Chọn ít nhất một nhóm lĩnh vực."))],
    )
    questionnaire_slug = SelectField(_l("Phiếu hỏi của quầy (áp phích và trang của người dân)"), choices=[])
    active = BooleanField(_l("Đang nhận đánh giá qua mã QR"), default=True)


def counter_form(existing: object, published: list[tuple[str, str]], default_slug: str) -> CounterForm:
    """The counter form with the published questionnaires to choose from; the empty choice
    is the site's configured questionnaire (`default_slug`)."""
    form = CounterForm(obj=existing)
    default = _l("Mặc định của hệ thống (%(slug)s)", slug=default_slug)
    form.questionnaire_slug.choices = [SelectChoice("", default)] + [
        SelectChoice(slug, f"{slug} — {title}") for slug, title in published
    ]
    if form.questionnaire_slug.data is None:
        form.questionnaire_slug.data = ""
    return form


class TeamForm(FlaskForm):
    """A surveyor's team leader (empty: no team)."""

    leader = IntegerField(validators=[Optional()])


class LinhVucForm(FlaskForm):
    name = StringField(
        _l("Tên lĩnh vực (như trong tệp xuất)"),
        validators=[DataRequired(_l("Vui lòng nhập tên lĩnh vực.")), Length(max=200)],
    )
    field_group = SelectField(
        _l("Nhóm lĩnh vực"),
        choices=[SelectChoice(g, FIELD_GROUP_LABELS[g]) for g in FIELD_GROUPS],
        validators=[DataRequired(_l("Vui lòng chọn nhóm lĩnh vực."))],
    )


class QuestionnaireUploadForm(FlaskForm):
    file = FileField(
        _l("Tệp phiếu (YAML, UTF-8)"),
        validators=[
            FileRequired(_l("Vui lòng chọn tệp.")),
            FileAllowed(["yaml", "yml"], _l("Chỉ nhận tệp .yaml hoặc .yml.")),
        ],
    )


class TargetForm(FlaskForm):
    """One target of a questionnaire's indicator: a year, a domain, a percent."""

    indicator = SelectField(_l("Chỉ số"), choices=[], validators=[DataRequired(_l("Vui lòng chọn chỉ số."))])
    year = StringField(
        _l("Năm mục tiêu"),
        validators=[
            DataRequired(_l("Vui lòng nhập năm.")),
            Regexp(r"^(19|20|21)[0-9]{2}$", message=_l("Năm gồm 4 chữ số, ví dụ 2030.")),
        ],
    )
    domain = SelectField(
        _l("Miền"),
        choices=[SelectChoice("all", _l("Toàn tỉnh")), *(SelectChoice(g, FIELD_GROUP_LABELS[g]) for g in FIELD_GROUPS)],
        default="all",
    )
    target = FloatField(
        _l("Chỉ tiêu (%)"),
        validators=[
            InputRequired(_l("Vui lòng nhập chỉ tiêu.")),
            NumberRange(min=0, max=100, message=_l("Chỉ tiêu phải từ 0 đến 100 phần trăm.")),
        ],
    )


def target_form(indicators: list[tuple[str, str]]) -> TargetForm:
    form = TargetForm()
    form.indicator.choices = [SelectChoice(code, f"{code} — {label}") for code, label in indicators]
    return form
