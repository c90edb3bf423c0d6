"""One definition, two validators: the interviewer app's JavaScript rules (device-rules.js)
and the server's (survey/device/rules.py) give the same errors on the same inputs, for the
questions derived from the shipped questionnaire file."""

from __future__ import annotations

import random
from datetime import date

from survey.device.rules import device_questions, validate

TODAY = date(2026, 4, 15)

#: Values worth trying per question type (JSON-representable, as a phone sends them).
TRIES = {
    "scale": [None, "", 1, 4, 5, 9, 0, 7, "4", True, 4.5, [], {}],
    "choice": [None, "", "  ", "ca_nhan", "to_chuc", "25-34", "nam", "khac", "CA_NHAN", 1, False],
    "text": [
        None,
        "",
        "   ",
        "Cán bộ nhiệt tình",
        "Ca\u0301n bo\u0323\u0302 nhi\u00eat ti\u0300nh",
        "a\x00b",
        "tab\tok",
        "dòng\nmới",
        "bad\ufffd",
        "x" * 2000,
        "x" * 2001,
        "😀" * 2000,
        "😀" * 2001,
        " \u00a0 ",
        "a\x85b",
        12,
    ],
    "string": [None, "", "DD.01", "1.000001", "DD 01", "DD_01/2", "mã", "A" * 40, "A" * 41, "😀", "\x07", "  DD.01  "],
    "date": [
        None,
        "",
        "2026-04-15",
        "2026-04-16",
        "2026-02-29",
        "2024-02-29",
        "2026-02-30",
        "2026-4-1",
        "15/04/2026",
        "0000-01-01",
        "2026-13-01",
        " 2026-04-01 ",
        "2026-04-01T00:00",
        20260401,
    ],
}


def cases(questions: list[dict], n: int = 300) -> list[dict]:
    rng = random.Random(13)
    valid = {q["code"]: q["options"][0]["code"] for q in questions if q["required"]}
    out: list[dict] = [{}, valid]
    for q in questions:  # a valid answer set with one value changed
        for value in TRIES[q["type"]]:
            out.append({**valid, q["code"]: value})
    for _ in range(n):  # mixed answer sets, some with an unknown code
        answers = {}
        for q in questions:
            if rng.random() < 0.8:
                answers[q["code"]] = rng.choice(TRIES[q["type"]])
        if rng.random() < 0.1:
            answers["khong_co"] = "x"
        out.append({k: v for k, v in answers.items() if v is not None or rng.random() < 0.5})
    return out


def test_the_javascript_and_the_server_validators_agree(browser, base_url, app) -> None:
    questions = device_questions(app.extensions["sipas_questionnaires"][("sipas-dich-vu", 1)].data)
    assert {q["type"] for q in questions} == set(TRIES)
    inputs = cases(questions)
    page = browser.new_page()
    page.goto(base_url + "/healthz")
    page.add_script_tag(url=base_url + "/static/js/device-rules.js")
    in_browser = page.evaluate(
        "([questions, inputs, today]) => inputs.map((a) => SipasRules.validate(questions, a, today))",
        [questions, inputs, TODAY.isoformat()],
    )
    on_server = [validate(questions, answers, TODAY) for answers in inputs]
    disagree = [(a, b, s) for a, b, s in zip(inputs, in_browser, on_server, strict=True) if b != s]
    assert disagree == []
    assert sum(1 for s in on_server if s) > 100 and sum(1 for s in on_server if not s) >= 1  # both kinds tried
    page.close()
