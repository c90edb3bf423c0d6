"""WTForms classes generated from a questionnaire definition, so that the QR form and the
paper-entry form share one definition (indico's ``make_survey_form``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Optional, Regexp, ValidationError

from survey.i18n import local_today
from survey.questionnaires.definition import asked, text_of

REQUIRED = _l("Vui lòng chọn hoặc nhập câu trả lời.")
NOT_A_CHOICE = _l("Lựa chọn không hợp lệ.")
BAD_CHARACTERS = _l("Nội dung có ký tự không hợp lệ; vui lòng nhập lại.")


@dataclass(frozen=True)
class QuestionView:
    """What a template needs to lay out one question."""

    code: str
    type: str
    required: bool
    element: str | None
    field_name: str


def _valid_text(form: Any, field: Field) -> None:
    """Refuse text that arrived as invalid UTF-8 (decoded to U+FFFD) or with control
    characters; normalise to NFC."""
    if field.data is None:
        return
    if "\ufffd" in field.data or re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", field.data):
        raise ValidationError(BAD_CHARACTERS)
    field.data = unicodedata.normalize("NFC", field.data.strip())


def _options(question: dict[str, Any], definition: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    if question["type"] == "scale":
        options = definition["scales"][question["scale"]]["options"]
    else:
        options = question["options"]
    return [(str(o["code"]), text_of(o["label"], lang)) for o in options]


def build_form_class(
    definition: dict[str, Any],
    *,
    channel: str,
    lang: str = "vi",
    field_groups: tuple[str, ...] | None = None,
) -> type[FlaskForm]:
    """A FlaskForm subclass with one field per question asked on `channel`.

    `field_groups` restricts the field-group question to the groups a counter serves; with a
    single group the question is not asked at all (the caller records that group)."""
    attrs: dict[str, Any] = {"idem": HiddenField()}
    for section in definition["sections"]:
        for q in section["questions"]:
            if not asked(q, channel):
                continue
            if q.get("field") == "field_group" and field_groups is not None and len(field_groups) <= 1:
                continue
            label = text_of(q["text"], lang)
            required = bool(q.get("required"))
            base = [InputRequired(REQUIRED)] if required else [Optional()]
            if q["type"] in ("scale", "choice"):
                choices = _options(q, definition, lang)
                if q.get("field") == "field_group" and field_groups is not None:
                    choices = [c for c in choices if c[0] in field_groups]
                attrs[q["code"]] = RadioField(
                    label,
                    choices=[SelectChoice(value, text) for value, text in choices],
                    validators=[*base, AnyOf([c[0] for c in choices], message=NOT_A_CHOICE)],
                    validate_choice=False,
                )
            elif q["type"] in ("string", "text"):
                validators = [*base, _valid_text]
                max_length = q.get("max_length")
                if max_length:
                    validators.append(Length(max=max_length, message=_l("Tối đa %(n)d ký tự.", n=max_length)))
                if q.get("pattern"):
                    validators.append(Regexp(q["pattern"], message=_l("Định dạng không hợp lệ.")))
                cls = TextAreaField if q["type"] == "text" else StringField
                render_kw = {"maxlength": max_length} if max_length else {}
                if q["type"] == "string":
                    render_kw.update(autocomplete="off", autocapitalize="characters", spellcheck="false")
                attrs[q["code"]] = cls(label, validators=validators, render_kw=render_kw, filters=[_strip])
            elif q["type"] == "date":
                attrs[q["code"]] = DateField(label, validators=[*base, _not_in_future], format="%Y-%m-%d")
    return type("QuestionnaireForm", (FlaskForm,), attrs)


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _not_in_future(form: Any, field: Field) -> None:
    if field.data and field.data > local_today():  # the Vietnam calendar day
        raise ValidationError(_l("Ngày không được sau hôm nay."))


def questions_in_form(definition: dict[str, Any], form: FlaskForm) -> Iterator[tuple[dict[str, Any], list[Field]]]:
    """(section, fields) pairs in questionnaire order, for the templates."""
    for section in definition["sections"]:
        fields = [form[q["code"]] for q in section["questions"] if q["code"] in form]
        if fields:
            yield section, fields


def answers_from_form(definition: dict[str, Any], form: FlaskForm) -> dict[str, Any]:
    """The validated answers keyed by question code: scale codes as int, choices and text as
    str, dates as ISO strings; unanswered questions are left out."""
    answers: dict[str, Any] = {}
    for section in definition["sections"]:
        for q in section["questions"]:
            if q["code"] not in form:
                continue
            value = form[q["code"]].data
            if value in (None, ""):
                continue
            if q["type"] == "scale":
                answers[q["code"]] = int(value)
            elif q["type"] == "date":
                answers[q["code"]] = value.isoformat()
            else:
                answers[q["code"]] = value
    return answers
