from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp
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
    active = BooleanField(_l("Đang nhận đánh giá qua mã QR"), default=True)


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
