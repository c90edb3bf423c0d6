"""WTForms classes generated from a questionnaire definition, so that the QR form and the
paper-entry form share one definition (indico's ``make_survey_form``), and the layout the
citizen's page is drawn from.

A published questionnaire version never changes (its file's sha256 is checked at start-up),
so both are built once per (version, channel, language, field-group set) and reused:
`cached_form_class` and `layout`, keyed by a `Version` — the slug, version number and
content hash, not a database id.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
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
class Version:
    """A published questionnaire version: hashable by its identity (slug, version, content
    hash), carrying its definition."""

    slug: str
    version: int
    content_hash: str
    definition: dict[str, Any] = field(compare=False, hash=False, repr=False)

    @classmethod
    def of(cls, row: Any) -> Version:
        """The version of a published questionnaire row (``survey.models.Questionnaire``)."""
        return cls(row.slug, row.version, row.content_hash, row.definition)


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    missing: bool = False  # "not applicable / no answer": laid out on its own row, with its label


@dataclass(frozen=True)
class QuestionView:
    """What a template needs to lay out one question.

    Scale questions are a grid of numbered radios; the scale's labels are shown once, in a
    key (`key`, its element id) above the first question of a run of questions on the same
    scale (`shows_key`), and each question's fieldset points to it (``aria-describedby``)."""

    code: str
    type: str  # scale, choice, string, text, date
    label: str
    required: bool
    element: str | None
    options: tuple[Option, ...] = ()
    key: str | None = None
    shows_key: bool = False
    max_length: int | None = None

    @property
    def columns(self) -> int:
        """Radios in the grid row of a scale question (the "no answer" option has its own row)."""
        return sum(not o.missing for o in self.options)


@dataclass(frozen=True)
class SectionView:
    id: str
    title: str
    help: str
    questions: tuple[QuestionView, ...]


def _valid_text(form: Any, field: Field) -> None:
    """Refuse text that arrived as invalid UTF-8 (decoded to U+FFFD) or with control
    characters; normalise to NFC."""
    if field.data is None:
        return
    if "\ufffd" in field.data or re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", field.data):
        raise ValidationError(BAD_CHARACTERS)
    field.data = unicodedata.normalize("NFC", field.data.strip())


def _options(question: dict[str, Any], definition: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    return [(str(o["code"]), text_of(o["label"], lang)) for o in _option_blocks(question, definition)]


def _option_blocks(question: dict[str, Any], definition: dict[str, Any]) -> list[dict[str, Any]]:
    if question["type"] == "scale":
        return list(definition["scales"][question["scale"]]["options"])
    return list(question["options"])


def _asked_here(question: dict[str, Any], channel: str, field_groups: tuple[str, ...] | None) -> bool:
    if not asked(question, channel):
        return False
    return not (question.get("field") == "field_group" and field_groups is not None and len(field_groups) <= 1)


def form_groups(field_groups: tuple[str, ...]) -> tuple[str, ...]:
    """The part of a counter's field groups that changes its form: with one group the
    question is not asked (any single group gives the same form), else the groups offered."""
    return tuple(field_groups) if len(field_groups) > 1 else ()


@lru_cache(maxsize=64)
def cached_form_class(
    version: Version, *, channel: str, lang: str, field_groups: tuple[str, ...] | None
) -> type[FlaskForm]:
    """`build_form_class` once per (version, channel, language, field groups). A form class
    holds no request state (messages are lazy strings, CSRF is read per instance)."""
    return build_form_class(version.definition, channel=channel, lang=lang, field_groups=field_groups)


@lru_cache(maxsize=64)
def layout(
    version: Version, *, channel: str, lang: str, field_groups: tuple[str, ...] | None
) -> tuple[SectionView, ...]:
    """The sections and questions of the form as `build_form_class` builds it, in
    questionnaire order, with their wording in `lang` (empty sections left out)."""
    definition = version.definition
    sections = []
    for section in definition["sections"]:
        views: list[QuestionView] = []
        for q in section["questions"]:
            if not _asked_here(q, channel, field_groups):
                continue
            options: tuple[Option, ...] = ()
            if q["type"] in ("scale", "choice"):
                options = tuple(
                    Option(str(o["code"]), text_of(o["label"], lang), bool(o.get("missing")))
                    for o in _option_blocks(q, definition)
                    if not (q.get("field") == "field_group" and field_groups is not None)
                    or str(o["code"]) in field_groups
                )
            key = None
            shows_key = False
            if q["type"] == "scale":
                previous = views[-1] if views else None
                same_run = previous is not None and previous.type == "scale" and previous.options == options
                key = previous.key if same_run and previous is not None else f"k-{section['id']}-{len(views)}"
                shows_key = not same_run
            views.append(
                QuestionView(
                    code=q["code"],
                    type=q["type"],
                    label=text_of(q["text"], lang),
                    required=bool(q.get("required")),
                    element=q.get("element"),
                    options=options,
                    key=key,
                    shows_key=shows_key,
                    max_length=q.get("max_length"),
                )
            )
        if views:
            title, help_text = text_of(section.get("title"), lang), text_of(section.get("help"), lang)
            sections.append(SectionView(section["id"], title, help_text, tuple(views)))
    return tuple(sections)


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
            if not _asked_here(q, channel, field_groups):
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


@dataclass(frozen=True)
class _Rule:
    code: str
    type: str
    required: bool
    choices: frozenset[str] = frozenset()
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None


@lru_cache(maxsize=64)
def _rules(version: Version, channel: str, field_groups: tuple[str, ...] | None) -> tuple[_Rule, ...]:
    """The checks `build_form_class` puts on each field, as plain data (same questions, same
    choices)."""
    definition = version.definition
    rules = []
    for section in definition["sections"]:
        for q in section["questions"]:
            if not _asked_here(q, channel, field_groups):
                continue
            choices = (
                [str(o["code"]) for o in _option_blocks(q, definition)] if q["type"] in ("scale", "choice") else []
            )
            if q.get("field") == "field_group" and field_groups is not None:
                choices = [c for c in choices if c in field_groups]
            pattern = re.compile(q["pattern"]) if q.get("pattern") else None
            rules.append(
                _Rule(q["code"], q["type"], bool(q.get("required")), frozenset(choices), q.get("max_length"), pattern)
            )
    return tuple(rules)


def plain_answers(
    version: Version, formdata: Any, *, channel: str, field_groups: tuple[str, ...] | None
) -> dict[str, Any] | None:
    """The answers of a submitted form that is plainly valid, checked without building a form.

    Returns exactly what ``answers_from_form`` returns for the form of `build_form_class`
    after it validates (CSRF aside: the caller checks the token), or None for anything else —
    a missing or unknown answer, a value sent twice, blank-looking text, a date… — for which
    the caller builds the WTForms form, whose messages the page shows. So the form classes
    stay the one statement of the rules; this is the quick yes for the common case
    (`tests/survey/questionnaires/test_plain_answers.py` compares the two on generated data)."""
    answers: dict[str, Any] = {}
    for rule in _rules(version, channel, field_groups):
        values = formdata.getlist(rule.code)
        if len(values) > 1:
            return None
        raw = values[0] if values else ""
        if not isinstance(raw, str):
            return None
        if raw == "":
            if rule.required:
                return None
            continue
        if rule.type in ("scale", "choice"):
            if raw not in rule.choices:
                return None
            answers[rule.code] = int(raw) if rule.type == "scale" else raw
        elif rule.type in ("string", "text"):
            text = raw.strip()
            if not text or "\ufffd" in text or _CONTROL.search(text):
                return None
            text = unicodedata.normalize("NFC", text)
            if rule.max_length and len(text) > rule.max_length:
                return None
            if rule.pattern is not None and not rule.pattern.match(text):
                return None
            answers[rule.code] = text
        else:  # dates and any other type: the form's own parsing
            return None
    return answers


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
