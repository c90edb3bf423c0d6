"""The keyboard-first entry form for paper questionnaires, generated from the same
questionnaire definition as the citizen's QR form, in the paper's order.

Every closed question is keyed as the number printed beside the ticked box: the scale code
for rated items (1–5, 9), the option's position (1, 2, 3…) for other closed questions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from survey.i18n import local_today
from survey.questionnaires.definition import asked, text_of
from survey.questionnaires.forms import BAD_CHARACTERS

#: Known from the sampled case, never keyed.
FROM_CASE = {"dossier_code", "field_group"}


@dataclass(frozen=True)
class KeyedQuestion:
    code: str
    type: str
    label: str
    keys: dict[str, Any]  # what may be typed → the stored code (closed questions)
    legend: str  # "1 Nam · 2 Nữ"
    element: str | None
    required: bool
    max_length: int | None


def keyed_questions(definition: dict[str, Any], lang: str = "vi") -> list[tuple[dict[str, Any], list[KeyedQuestion]]]:
    sections = []
    for section in definition["sections"]:
        items = []
        for q in section["questions"]:
            if not asked(q, "paper") or q.get("field") in FROM_CASE:
                continue
            keys: dict[str, Any] = {}
            legend = ""
            if q["type"] == "scale":
                options = definition["scales"][q["scale"]]["options"]
                keys = {str(o["code"]): o["code"] for o in options}
                legend = " · ".join(f"{o['code']} {text_of(o['label'], lang)}" for o in options)
            elif q["type"] == "choice":
                keys = {str(i): o["code"] for i, o in enumerate(q["options"], start=1)}
                legend = " · ".join(f"{i} {text_of(o['label'], lang)}" for i, o in enumerate(q["options"], start=1))
            items.append(
                KeyedQuestion(
                    code=q["code"],
                    type=q["type"],
                    label=text_of(q["text"], lang),
                    keys=keys,
                    legend=legend,
                    element=q.get("element"),
                    required=bool(q.get("required")),
                    max_length=q.get("max_length"),
                )
            )
        if items:
            sections.append((section, items))
    return sections


def _one_of(keys: dict[str, Any]):
    allowed = ", ".join(keys)

    def check(form: Any, field: Field) -> None:
        if field.data and field.data not in keys:
            raise ValidationError(_l("Chỉ nhập một trong: %(a)s", a=allowed))

    return check


def _vn_date(form: Any, field: Field) -> None:
    if not field.data:
        return
    for fmt in ("%d/%m/%Y", "%d%m%Y", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(field.data, fmt).date()
        except ValueError:
            continue
        if parsed > local_today():  # the Vietnam calendar day, not the server's
            raise ValidationError(_l("Ngày không được sau hôm nay."))
        field.data = parsed.isoformat()
        return
    raise ValidationError(_l("Ngày phải có dạng ngày/tháng/năm, ví dụ 05/03/2026."))


#: Control characters (tab, newline and carriage return allowed) and U+FFFD, the mark of bytes
#: that were not UTF-8: refused in keyed text, as the citizen's QR form refuses them.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def normalised_text(value: str) -> str:
    """Keyed text as stored and compared: NFC (a Vietnamese letter typed precomposed or with
    combining marks is the same letter), outer spaces dropped, inner runs of spaces as one."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip() if value else value


def _keyed_text(form: Any, field: Field) -> None:
    if field.data is None:
        return
    if CONTROL.search(field.data):
        raise ValidationError(BAD_CHARACTERS)
    field.data = normalised_text(field.data)


def build_keying_form_class(definition: dict[str, Any]) -> type[FlaskForm]:
    attrs: dict[str, Any] = {
        "confirm_straight": BooleanField(_l("Đã xem lại: phiếu giấy thật sự chọn cùng một mức cho mọi câu")),
    }
    for _section, items in keyed_questions(definition):
        for kq in items:
            validators: list[Any] = [Optional()]
            render_kw: dict[str, Any] = {"autocomplete": "off", "spellcheck": "false"}
            if kq.keys:
                width = max(len(k) for k in kq.keys)
                validators.append(_one_of(kq.keys))
                render_kw.update(
                    maxlength=width, inputmode="numeric", size=width + 1, pattern="|".join(map(re.escape, kq.keys))
                )
                render_kw["data-keys"] = " ".join(kq.keys)
            elif kq.type == "date":
                validators.append(_vn_date)
                render_kw.update(placeholder="dd/mm/yyyy", inputmode="numeric", maxlength=10)
            else:
                validators.append(_keyed_text)
                if kq.max_length:
                    validators.append(Length(max=kq.max_length, message=_l("Tối đa %(n)d ký tự.", n=kq.max_length)))
                    render_kw["maxlength"] = kq.max_length
                if kq.type == "string":
                    validators.append(Regexp(r"^[A-Za-z0-9./_-]*$", message=_l("Định dạng không hợp lệ.")))
            attrs[kq.code] = StringField(
                kq.label, validators=validators, render_kw=render_kw, filters=[lambda v: v.strip() if v else v]
            )
    return type("KeyingForm", (FlaskForm,), attrs)


def answers_from_keying(definition: dict[str, Any], form: FlaskForm) -> dict[str, Any]:
    """Stored codes from what was typed (blank = no answer)."""
    answers: dict[str, Any] = {}
    for _section, items in keyed_questions(definition):
        for kq in items:
            value = form[kq.code].data
            if value in (None, ""):
                continue
            answers[kq.code] = kq.keys[value] if kq.keys else value
    return answers


def keying_values(definition: dict[str, Any], answers: dict[str, Any]) -> dict[str, str]:
    """What to show in the inputs for stored answers (a draft being resumed)."""
    values: dict[str, str] = {}
    for _section, items in keyed_questions(definition):
        for kq in items:
            if kq.code not in answers:
                continue
            stored = answers[kq.code]
            if kq.keys:
                values[kq.code] = next((k for k, v in kq.keys.items() if v == stored), "")
            elif kq.type == "date":
                values[kq.code] = datetime.fromisoformat(stored).strftime("%d/%m/%Y")
            else:
                values[kq.code] = str(stored)
    return values


def required_missing(definition: dict[str, Any], answers: dict[str, Any]) -> list[str]:
    return [
        kq.code for _s, items in keyed_questions(definition) for kq in items if kq.required and kq.code not in answers
    ]


def blank_required(definition: dict[str, Any], form: FlaskForm) -> tuple[str, ...]:
    """The required questions left blank on a submitted form, whether or not the rest is valid."""
    return tuple(
        kq.code
        for _s, items in keyed_questions(definition)
        for kq in items
        if kq.required and not str((form[kq.code].raw_data or [""])[0] or "").strip()
    )


def straight_lined(definition: dict[str, Any], answers: dict[str, Any]) -> bool:
    """All rated items answered with one and the same code: worth a second look at the paper."""
    items = [kq.code for _s, items in keyed_questions(definition) for kq in items if kq.element]
    values = {answers.get(code) for code in items}
    return len(items) > 3 and len(values) == 1 and None not in values


# --- adjudication ------------------------------------------------------------------------------
ADJUDICATION_CHOICES = ("first", "second", "other")


class _AdjudicationForm(FlaskForm):
    codes: tuple[str, ...] = ()
    questions: dict[str, KeyedQuestion] = {}  # noqa: RUF012 - set per generated class

    def resolved(self, discrepancies: list[Any]) -> dict[str, str | None]:
        """The value settled for each mismatch, from the paper: the first keying's, the
        second's, or the one typed (closed questions: stored as the option's code)."""
        values: dict[str, str | None] = {}
        for d in discrepancies:
            choice = self[f"q-{d.question_code}"].data
            if choice == "first":
                values[d.question_code] = d.first_value
            elif choice == "second":
                values[d.question_code] = d.second_value
            else:
                values[d.question_code] = self[f"other-{d.question_code}"].data or None
        return values


def _other_value(code: str, kq: KeyedQuestion | None):
    """Checks the value typed under "Khác" like the keying form does, and turns a closed
    question's key into its stored code."""

    def check(form: Any, field: Field) -> None:
        if form[f"q-{code}"].data != "other":
            return
        typed = (field.data or "").strip()
        if kq is not None and kq.keys:
            if typed not in kq.keys:
                raise ValidationError(
                    _l(
                        "Câu %(q)s: giá trị %(v)s không hợp lệ. Chỉ nhập một trong: %(keys)s.",
                        q=code,
                        v=typed or _l("(trống)"),
                        keys=", ".join(kq.keys),
                    )
                )
            field.data = str(kq.keys[typed])
        elif kq is not None and kq.type == "date":
            field.data = typed
            _vn_date(form, field)
        else:
            if CONTROL.search(typed):
                raise ValidationError(BAD_CHARACTERS)
            field.data = normalised_text(typed)

    return check


def build_adjudication_form_class(discrepancies: list[Any], definition: dict[str, Any]) -> type[_AdjudicationForm]:
    """One choice (first / second / other) and one "other" value per mismatched question."""
    questions = {kq.code: kq for _s, items in keyed_questions(definition) for kq in items}
    attrs: dict[str, Any] = {"questions": questions, "codes": tuple(d.question_code for d in discrepancies)}
    for d in discrepancies:
        code = d.question_code
        attrs[f"q-{code}"] = RadioField(
            code,
            choices=[SelectChoice(c, c) for c in ADJUDICATION_CHOICES],
            validators=[InputRequired(_l("%(c)s: chọn giá trị đúng theo phiếu giấy.", c=code))],
        )
        attrs[f"other-{code}"] = StringField(code, validators=[_other_value(code, questions.get(code))])
    return type("AdjudicationForm", (_AdjudicationForm,), attrs)
