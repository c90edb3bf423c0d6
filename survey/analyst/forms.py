from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from survey.models.base import LAND_CONSTRUCTION_INVESTMENT
from survey.paper.backcheck import Verification


class RoundForm(FlaskForm):
    name = StringField(_l("Tên đợt khảo sát"), validators=[DataRequired(_l("Vui lòng nhập tên đợt.")), Length(max=200)])
    period_start = DateField(_l("Hồ sơ trả kết quả từ ngày"), validators=[InputRequired(_l("Vui lòng chọn ngày."))])
    period_end = DateField(_l("đến ngày"), validators=[InputRequired(_l("Vui lòng chọn ngày."))])
    #: The published questionnaire the round's paper forms use (its newest version); empty: the
    #: site's configured QR_QUESTIONNAIRE.
    questionnaire = SelectField(_l("Phiếu hỏi của đợt"), choices=[])

    def validate_period_end(self, field) -> None:
        if self.period_start.data and field.data and field.data < self.period_start.data:
            raise ValidationError(_l("Ngày kết thúc phải sau ngày bắt đầu."))


class FrameUploadForm(FlaskForm):
    file = FileField(
        _l("Tệp danh sách hồ sơ (CSV UTF-8 hoặc XLSX)"),
        validators=[
            FileRequired(_l("Vui lòng chọn tệp.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Chỉ nhận tệp CSV hoặc XLSX.")),
        ],
    )
    #: 0: a saved profile whose headers match the file, else the recognised headers.
    profile = SelectField(_l("Ánh xạ cột"), coerce=int, default=0, validate_choice=False)
    review = BooleanField(_l("Xem và sửa ánh xạ cột trước khi nhập"))


class FrameMappingForm(FlaskForm):
    """One select per frame field (`col_<field>`), added by `for_file`."""

    save_as = StringField(
        _l("Lưu ánh xạ này để dùng lại, với tên (không bắt buộc)"),
        validators=[Optional(), Length(max=120, message=_l("Tên dài quá 120 ký tự."))],
    )

    @classmethod
    def for_file(cls, fields: list[tuple[str, str]], headers: list[str], prefill: dict[str, str]) -> "FrameMappingForm":
        choices = [SelectChoice("", _l("— không dùng —")), *(SelectChoice(h, h) for h in headers)]
        selects = {
            f"col_{name}": SelectField(label, choices=choices, default=prefill.get(name, ""), validate_choice=False)
            for name, label in fields
        }
        return type("FrameMappingFormForFile", (cls,), selects)()

    def columns(self) -> dict[str, str | None]:
        """{field: header or None} as chosen."""
        return {
            name.removeprefix("col_"): f.data or None for name, f in self._fields.items() if name.startswith("col_")
        }


class DrawForm(FlaskForm):
    method = RadioField(
        _l("Cách phân bổ cỡ mẫu"),
        choices=[
            SelectChoice("proportional", _l("Tỉ lệ với số hồ sơ của tầng, có tối thiểu mỗi tầng")),
            SelectChoice("fixed", _l("Cố định mỗi tầng")),
            SelectChoice("neyman", _l("Neyman")),
        ],
        default="proportional",
        validators=[DataRequired()],
    )
    total_n = IntegerField(_l("Cỡ mẫu toàn đợt"), validators=[Optional(), NumberRange(min=1)])
    per_stratum = IntegerField(_l("Cỡ mẫu mỗi tầng"), validators=[Optional(), NumberRange(min=1)])
    minimum = IntegerField(_l("Tối thiểu mỗi tầng"), default=0, validators=[Optional(), NumberRange(min=0)])
    oversample_dat_dai = FloatField(
        _l("Hệ số chọn thêm: Đất đai"), default=1.0, validators=[Optional(), NumberRange(min=0.1, max=10)]
    )
    oversample_xay_dung = FloatField(
        _l("Hệ số chọn thêm: Xây dựng"), default=1.0, validators=[Optional(), NumberRange(min=0.1, max=10)]
    )
    oversample_dau_tu = FloatField(
        _l("Hệ số chọn thêm: Đầu tư"), default=1.0, validators=[Optional(), NumberRange(min=0.1, max=10)]
    )
    reserve_rate = FloatField(
        _l("Tỉ lệ dự phòng"), default=0.4, validators=[InputRequired(), NumberRange(min=0, max=1)]
    )
    seed = IntegerField(_l("Hạt giống ngẫu nhiên (bỏ trống để tạo mới)"), validators=[Optional(), NumberRange(min=0)])
    sd_round = SelectField(
        _l("Neyman: độ lệch chuẩn mỗi tầng lấy từ đợt"), coerce=int, default=0, validate_choice=False
    )
    assumed_rr = FloatField(
        _l("Xem trước: tỉ lệ trả lời dự kiến"), default=0.6, validators=[Optional(), NumberRange(min=0.01, max=1)]
    )

    def draw_parameters(self) -> dict[str, Any]:
        """The keyword arguments of `survey.paper.sample.draw_round` (without the S_h round):
        a total for proportional and Neyman allocation, a size per stratum for a fixed one."""
        fixed = self.method.data == "fixed"
        return {
            "method": self.method.data,
            "total_n": None if fixed else self.total_n.data,
            "per_stratum": self.per_stratum.data if fixed else None,
            "minimum": self.minimum.data or 0,
            "oversample": {g: self[f"oversample_{g}"].data for g in LAND_CONSTRUCTION_INVESTMENT},
            "reserve_rate": self.reserve_rate.data,
            "seed": self.seed.data,
        }


class VerificationForm(FlaskForm):
    verify_every = IntegerField(
        _l("Kiểm tra chéo (nhập lần hai): 1 trong bao nhiêu phiếu (1 = mọi phiếu)"),
        validators=[InputRequired(_l("Vui lòng nhập số.")), NumberRange(min=1, max=100)],
    )
    error_threshold = FloatField(
        _l("Người nhập có quá bao nhiêu lỗi/1.000 trường thì kiểm tra mọi phiếu của người đó"),
        validators=[InputRequired(_l("Vui lòng nhập số.")), NumberRange(min=0, max=1000)],
    )


class PaperSnapshotForm(FlaskForm):
    """A weighting run of a paper round."""

    round_id = SelectField(_l("Đợt phỏng vấn"), coerce=int, validators=[InputRequired(_l("Vui lòng chọn đợt."))])
    rake = BooleanField(_l("Hiệu chỉnh (raking) theo tổng số hồ sơ của khung mẫu theo nơi tiếp nhận và nhóm lĩnh vực"))
    trim = FloatField(
        _l("Cắt quyền số ở k × trung vị (để trống nếu không cắt)"),
        validators=[Optional(), NumberRange(min=1.01, message=_l("Hệ số cắt phải lớn hơn 1."))],
    )


def choose_questionnaire(field: SelectField, published: list[tuple[str, str]], default_slug: str) -> None:
    """Offer the published questionnaires, the site's configured one first and chosen when the
    request names none."""
    ordered = sorted(published, key=lambda p: (p[0] != default_slug, p[0]))
    field.choices = [SelectChoice(slug, f"{slug} — {title}") for slug, title in ordered]
    if not field.data:
        field.data = default_slug


class QrSnapshotForm(FlaskForm):
    """A weighting run of the QR responses of a period: a month, a quarter, a year, or dates —
    of one questionnaire (its versions with the same index and wording), never several."""

    questionnaire = SelectField(_l("Phiếu hỏi"), choices=[])

    period_kind = RadioField(
        _l("Kỳ"),
        choices=[
            SelectChoice("month", _l("Tháng")),
            SelectChoice("quarter", _l("Quý")),
            SelectChoice("year", _l("Năm")),
            SelectChoice("dates", _l("Từ ngày … đến ngày")),
        ],
        default="quarter",
        validators=[InputRequired(_l("Vui lòng chọn loại kỳ."))],
    )
    year = IntegerField(
        _l("Năm"), validators=[Optional(), NumberRange(min=2000, max=2100, message=_l("Năm không hợp lệ."))]
    )
    number = IntegerField(
        _l("Tháng (1–12) hoặc quý (1–4)"),
        validators=[Optional(), NumberRange(min=1, max=12, message=_l("Số không hợp lệ."))],
    )
    period_start = DateField(_l("Phiếu QR gửi từ ngày"), validators=[Optional()])
    period_end = DateField(_l("đến ngày"), validators=[Optional()])
    frame_round = SelectField(
        _l("Số hồ sơ theo nơi tiếp nhận × nhóm lĩnh vực lấy từ khung mẫu của đợt"), coerce=int, default=0
    )
    background = BooleanField(
        _l("Tính cả theo đặc điểm người trả lời (giới tính, tuổi, học vấn…; chậm hơn với nhiều phiếu)")
    )
    counts_table = SelectField(
        _l("… hoặc từ bảng số hồ sơ đã nhập từ hệ thống một cửa"), coerce=int, default=0, validators=[Optional()]
    )

    def validate(self, extra_validators=None) -> bool:
        """The fields a period kind needs (the inline validators of an empty Optional field
        never run, so the cross-field rules are checked here)."""
        ok = super().validate(extra_validators)
        kind = self.period_kind.data
        needs: list[tuple[Any, bool, Any]] = []
        if kind in ("month", "quarter", "year"):
            needs.append((self.year, self.year.data is None, _l("Vui lòng nhập năm.")))
        if kind == "month":
            needs.append((self.number, self.number.data is None, _l("Vui lòng nhập tháng (1–12).")))
        if kind == "quarter":
            bad = self.number.data is None or not 1 <= self.number.data <= 4
            needs.append((self.number, bad, _l("Quý phải từ 1 đến 4.")))
        if kind == "dates":
            needs.append((self.period_start, self.period_start.data is None, _l("Vui lòng chọn ngày.")))
            needs.append((self.period_end, self.period_end.data is None, _l("Vui lòng chọn ngày.")))
            both = self.period_start.data is not None and self.period_end.data is not None
            backwards = both and self.period_end.data < self.period_start.data
            needs.append((self.period_end, backwards, _l("Ngày kết thúc phải sau ngày bắt đầu.")))
        if bool(self.frame_round.data) == bool(self.counts_table.data):
            message = _l("Chọn một nguồn số hồ sơ: khung mẫu của một đợt hoặc một bảng số hồ sơ đã nhập.")
            needs.append((self.frame_round, True, message))
        for field, failed, message in needs:
            if failed and message not in field.errors:
                field.errors = [*field.errors, message]
                ok = False
        return ok

    def bounds(self) -> tuple[date, date]:
        """The first and last day of the chosen period (call after validation)."""
        kind = self.period_kind.data
        if kind == "dates":
            return self.period_start.data, self.period_end.data
        from survey.reports.snapshots import period_bounds  # pandas: on first use, not at start-up

        return period_bounds(kind, self.year.data, self.number.data or 1)


class CountsUploadForm(FlaskForm):
    """A table of dossier counts exported from the one-stop system."""

    file = FileField(
        _l("Tệp số hồ sơ (CSV UTF-8 hoặc XLSX)"),
        validators=[
            FileRequired(_l("Vui lòng chọn tệp.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Chỉ nhận tệp CSV hoặc XLSX.")),
        ],
    )
    name = StringField(_l("Tên bảng (để trống: lấy tên tệp)"), validators=[Optional(), Length(max=200)])


class CommentFilterForm(FlaskForm):
    """Filters of the comments browser (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    start = DateField(_l("Từ ngày"), validators=[Optional()])
    end = DateField(_l("đến ngày"), validators=[Optional()])
    place_id = SelectField(_l("Nơi tiếp nhận"), coerce=int, validators=[Optional()])
    field_group = SelectField(_l("Nhóm lĩnh vực"), validators=[Optional()])
    channel = SelectField(
        _l("Kênh"),
        choices=[
            SelectChoice("", _l("Cả hai kênh")),
            SelectChoice("qr", _l("Mã QR tại quầy")),
            SelectChoice("paper", _l("Phỏng vấn (phiếu giấy)")),
        ],
        validators=[Optional()],
    )
    satisfied = SelectField(
        _l("Mức hài lòng của người viết"),
        choices=[
            SelectChoice("", _l("Tất cả")),
            SelectChoice("yes", _l("Hài lòng (từ một nửa số câu trở lên)")),
            SelectChoice("no", _l("Chưa hài lòng")),
        ],
        validators=[Optional()],
    )
    text = StringField(_l("Tìm trong ý kiến (không phân biệt dấu)"), validators=[Optional(), Length(max=200)])

    def validate_end(self, field) -> None:
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("Ngày kết thúc phải sau ngày bắt đầu."))


class TopUpForm(FlaskForm):
    """More reserves for a stratum whose reserves ran out."""

    stratum = SelectField(_l("Tầng"), validators=[DataRequired(_l("Vui lòng chọn tầng."))], validate_choice=False)
    count = IntegerField(
        _l("Số hồ sơ dự phòng bổ sung"),
        validators=[InputRequired(_l("Vui lòng nhập số hồ sơ.")), NumberRange(min=1, max=1000)],
    )
    reason = StringField(
        _l("Lý do bổ sung"), validators=[DataRequired(_l("Phải ghi lý do bổ sung dự phòng.")), Length(max=300)]
    )


class BackCheckDrawForm(FlaskForm):
    """The back-check (phúc tra) draw: a share of each interviewer's interviews, at least one."""

    share = FloatField(
        _l("Tỉ lệ phúc tra của mỗi điều tra viên (%)"),
        validators=[
            InputRequired(_l("Vui lòng nhập tỉ lệ.")),
            NumberRange(min=0.1, max=100, message=_l("Tỉ lệ từ 0,1 đến 100 %%.")),
        ],
    )


class BackCheckForm(FlaskForm):
    """What the phone re-contact of a back-check case found."""

    reached = RadioField(
        _l("Liên lạc được với người dân?"),
        choices=[SelectChoice("1", _l("Có")), SelectChoice("0", _l("Không liên lạc được"))],
        validators=[InputRequired(_l("Vui lòng chọn có liên lạc được hay không."))],
    )
    interviewed = RadioField(
        _l("Ông/Bà có được phỏng vấn về hồ sơ này không?"),
        choices=[
            SelectChoice("yes", _l("Có")),
            SelectChoice("no", _l("Không")),
            SelectChoice("unsure", _l("Không nhớ rõ")),
        ],
        validate_choice=False,
    )
    mode = RadioField(
        _l("Phỏng vấn bằng hình thức nào?"),
        choices=[
            SelectChoice("phone", _l("Qua điện thoại")),
            SelectChoice("face", _l("Gặp trực tiếp")),
            SelectChoice("unknown", _l("Không nhớ")),
        ],
        validate_choice=False,
    )
    approx_date = DateField(_l("Khoảng ngày được phỏng vấn (nếu người dân nhớ)"), validators=[Optional()])
    key_answer = RadioField(
        _l("Câu trả lời cho câu hỏi kiểm tra (hình thức nộp hồ sơ, tư cách cá nhân/tổ chức) khớp với phiếu?"),
        choices=[
            SelectChoice("match", _l("Khớp")),
            SelectChoice("mismatch", _l("Không khớp")),
            SelectChoice("not_asked", _l("Không hỏi / phiếu chưa nhập")),
        ],
        validate_choice=False,
    )
    note = TextAreaField(_l("Ghi chú"), validators=[Length(max=500)])

    def validate_interviewed(self, field: Any) -> None:
        if self.reached.data == "1" and field.data not in ("yes", "no", "unsure"):
            raise ValidationError(_l("Vui lòng chọn người dân có được phỏng vấn hay không."))

    def verification(self) -> Verification:
        reached = self.reached.data == "1"
        return Verification(
            reached=reached,
            interviewed=self.interviewed.data or None,
            mode=self.mode.data or None,
            approx_date=self.approx_date.data,
            key_answer=self.key_answer.data or None,
            note=self.note.data,
        )
