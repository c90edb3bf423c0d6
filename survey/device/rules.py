"""The questionnaire as the interviewer app renders and checks it, derived from the
questionnaire file, and the server's check of the answers a device sends.

`device_questions` is sent to the device as JSON; `static/js/device-rules.js` applies the same
rules in the browser (`tests/browser/test_device_rules.py` feeds the same inputs to both and
compares the errors). Each rule gives an error *code*; the wording is the page's."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from survey.questionnaires.definition import asked, text_of

#: Known from the sampled case, never asked on the device.
FROM_CASE = ("dossier_code", "field_group")
#: Control characters (tab, newline and carriage return allowed) and U+FFFD — the same class
#: as the keying form's `CONTROL`, written once more here for the JavaScript copy.
CONTROL_CLASS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]"
CONTROL = re.compile(CONTROL_CLASS)
#: A code typed into a `string` question when the file gives no pattern (the keying form's).
DEFAULT_STRING_PATTERN = r"^[A-Za-z0-9./_-]*$"
#: White space as both sides see it (Python's and JavaScript's ``\s`` differ at the edges).
WHITESPACE = re.compile(r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Error codes (the device and the server show them in words).
ERRORS = ("required", "not_allowed", "too_long", "pattern", "bad_characters", "date", "future_date", "unknown")


def device_questions(definition: dict[str, Any], lang: str = "vi") -> list[dict[str, Any]]:
    """The questions the interviewer asks (the paper channel's, without those the case
    fills), in the file's order, with what validation needs."""
    questions: list[dict[str, Any]] = []
    for section in definition["sections"]:
        for q in section["questions"]:
            if not asked(q, "paper") or q.get("field") in FROM_CASE:
                continue
            item: dict[str, Any] = {
                "code": q["code"],
                "type": q["type"],
                "section": text_of(section.get("title"), lang),
                "text": text_of(q["text"], lang),
                "required": bool(q.get("required")),
            }
            if q["type"] == "scale":
                options = definition["scales"][q["scale"]]["options"]
                item["options"] = [{"code": o["code"], "label": text_of(o["label"], lang)} for o in options]
            elif q["type"] == "choice":
                item["options"] = [{"code": o["code"], "label": text_of(o["label"], lang)} for o in q["options"]]
            else:
                if q.get("max_length"):
                    item["max_length"] = int(q["max_length"])
                if q["type"] == "string":
                    item["pattern"] = q.get("pattern") or DEFAULT_STRING_PATTERN
            if q.get("field"):
                item["field"] = q["field"]
            questions.append(item)
    return questions


def normalised_text(value: str) -> str:
    """NFC, outer spaces dropped, inner runs of white space as one (as keyed text is stored)."""
    return WHITESPACE.sub(" ", unicodedata.normalize("NFC", value)).strip(" ")


def clean_answers(questions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers as stored: text normalised, empty answers dropped (call after `validate`)."""
    cleaned: dict[str, Any] = {}
    for q in questions:
        value = answers.get(q["code"])
        if isinstance(value, str):
            value = normalised_text(value)
        if value is None or value == "":
            continue
        cleaned[q["code"]] = value
    return cleaned


def validate(questions: list[dict[str, Any]], answers: dict[str, Any], today: date) -> dict[str, str]:
    """Error code per question code (empty: the answers are valid). `today` is the Vietnam
    calendar day (a date may not be after it). An answer to no question is ``unknown``."""
    errors: dict[str, str] = {}
    known = {q["code"] for q in questions}
    for code in answers:
        if code not in known:
            errors[code] = "unknown"
    for q in questions:
        error = _check(q, answers.get(q["code"]), today)
        if error:
            errors[q["code"]] = error
    return errors


def _check(q: dict[str, Any], value: Any, today: date) -> str | None:
    if value is None or (isinstance(value, str) and normalised_text(value) == "" and not CONTROL.search(value)):
        return "required" if q["required"] else None
    if q["type"] in ("scale", "choice"):
        codes = [o["code"] for o in q["options"]]
        if isinstance(value, bool) or value not in codes or type(value) is not type(codes[0]):
            return "not_allowed"
        return None
    if not isinstance(value, str):
        return "not_allowed"
    if CONTROL.search(value):
        return "bad_characters"
    text = normalised_text(value)
    if q["type"] == "date":
        if not ISO_DATE.match(text):
            return "date"
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return "date"
        return "future_date" if day > today else None
    if q.get("max_length") and len(text) > q["max_length"]:
        return "too_long"
    if q.get("pattern") and not re.search(q["pattern"], text):
        return "pattern"
    return None
