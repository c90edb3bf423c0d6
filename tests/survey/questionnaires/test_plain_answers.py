"""`plain_answers` (the citizen's submit read without building a WTForms form) against the
form classes, which stay the statement of the rules: on generated submissions of every
shipped questionnaire, whenever `plain_answers` says yes, the form validates and gives the
same answers; and a cleanly filled form is always a yes (else the quick path would be dead)."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from survey.questionnaires import load_file
from survey.questionnaires.definition import asked
from survey.questionnaires.forms import Version, answers_from_form, build_form_class, plain_answers

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted((ROOT / "questionnaires").glob("*/v*.yaml"))
GROUP_SETS: list[tuple[str, ...]] = [(), ("dat_dai", "xay_dung", "khac")]

#: Values that look like answers but are not plainly valid (or not valid at all).
ODD = [" ", "3 ", "7", "0", "x", "1,2", "\x00", "\ufffd", "  \n"]
TEXTS = [
    "Cán bộ tận tình",
    "  cán bộ  ",
    unicodedata.normalize("NFD", "Cán bộ tận tình"),  # decomposed, as some keyboards send it
    "a" * 3000,
    "dòng 1\ndòng 2",
    "bad\x07",
    "ABC-123/2026",
    "abc def",
]


def _choices(question: dict[str, Any], definition: dict[str, Any]) -> list[str]:
    options = definition["scales"][question["scale"]]["options"] if question["type"] == "scale" else question["options"]
    return [str(o["code"]) for o in options]


def _clean(definition: dict[str, Any], rng: random.Random) -> MultiDict[str, str]:
    """A form filled as a citizen does: every required question, most others."""
    data: MultiDict[str, str] = MultiDict()
    for q in _questions(definition):
        if not (q.get("required") or rng.random() < 0.7):
            continue
        if q["type"] in ("scale", "choice"):
            data.add(q["code"], rng.choice(["dat_dai", "xay_dung"] if q.get("field") else _choices(q, definition)))
        elif q["type"] in ("string", "text"):
            data.add(q["code"], "ABC-123" if q.get("pattern") else "Cán bộ tận tình")
    data.add("idem", "khoa")
    data.add("la", "không có câu hỏi này")  # unknown fields are ignored by both
    return data


def _perturbed(definition: dict[str, Any], rng: random.Random) -> MultiDict[str, str]:
    """A clean form with one answer changed: left out, blank, odd, sent twice, another text…"""
    data = _clean(definition, rng)
    q = rng.choice(_questions(definition))
    code = q["code"]
    data.poplist(code)
    roll = rng.random()
    if roll < 0.15:
        return data  # left out
    if q["type"] in ("scale", "choice"):
        choices = _choices(q, definition)
        if roll < 0.3:
            data.add(code, "")
        elif roll < 0.8:
            data.add(code, rng.choice(ODD))
        else:
            data.add(code, rng.choice(choices))
            data.add(code, rng.choice(choices))
    elif q["type"] in ("string", "text"):
        data.add(code, rng.choice([*TEXTS, ""]))
    else:
        data.add(code, rng.choice(["2026-01-05", "", "05/01/2026", "2099-01-01"]))
    return data


def _questions(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for s in definition["sections"] for q in s["questions"] if asked(q, "qr")]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.parent.name)
@pytest.mark.parametrize("groups", GROUP_SETS, ids=["one-group", "three-groups"])
def test_plain_answers_agree_with_the_form(app, path: Path, groups: tuple[str, ...]) -> None:
    loaded = load_file(path)
    definition = loaded.data
    version = Version(loaded.slug, loaded.version, f"test-{path.parent.name}", definition)
    form_class = build_form_class(definition, channel="qr", field_groups=groups)
    rng = random.Random(f"{path.parent.name}-{groups}")
    yes = no = 0
    for i in range(400):
        clean = i % 4 == 0
        data = _clean(definition, rng) if clean else _perturbed(definition, rng)
        plain = plain_answers(version, data, channel="qr", field_groups=groups)
        with app.test_request_context(method="POST", data=data):
            form = form_class()
            valid = form.validate()
            if plain is not None:
                assert valid, (dict(data.lists()), form.errors)
                assert plain == answers_from_form(definition, form)
                yes += 1
            else:
                no += 1
        if clean:
            assert plain is not None, (dict(data.lists()), form.errors)
    assert yes and no  # both sides of the comparison were exercised
