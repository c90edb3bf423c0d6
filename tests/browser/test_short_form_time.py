"""The short counter form's answering time, measured as a citizen would answer it on a phone,
and the figure its counters' posters print.

A citizen is simulated at a phone's size (360×740, touch, JavaScript on): the page is opened,
the intro and the scale's key are read, every question is read and answered by tapping, and the
form is sent. The reading delays are real waits in the browser (`page.wait_for_timeout`), from a
documented model, not a guess of the total:

* reading at ``READING_SYLLABLES_PER_SECOND`` = 3.3 Vietnamese syllables (space-separated words) a
  second — 200 a minute, the low end of adult silent reading rates, for a phone read standing at a
  counter;
* ``DECIDE_AND_TAP_SECONDS`` = 1.5 s per question to choose an answer and tap it (after reading it);
* the text read: the form's intro, each question's wording with its options' labels (for a rating
  question: the five labels of the scale's key, read once, then only the statement), and 2 s to
  find and tap "Gửi phiếu".

The wall-clock time from opening the page to the thank-you page is the measured time; rounded to
the nearest minute, it must be the questionnaire file's ``answer_minutes``, which the posters of
every counter carrying the form print ("trong khoảng N phút")."""

from __future__ import annotations

import io
import math
import time

import sqlalchemy as sa

from survey import questionnaires
from survey.models import Counter, Place, Response
from survey.qr.counters import counter_url

READING_SYLLABLES_PER_SECOND = 3.3
DECIDE_AND_TAP_SECONDS = 1.5
FIND_AND_SEND_SECONDS = 2.0


def reading_ms(*texts: str) -> int:
    syllables = sum(len(text.split()) for text in texts)
    return round(1000 * syllables / READING_SYLLABLES_PER_SECOND)


def test_the_short_form_takes_what_its_poster_says(browser, base_url, app, db, demo) -> None:
    row = questionnaires.get(db.session, "sipas-ngan")
    definition = row.definition
    counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.name == "Phường Kinh Bắc")).one()
    counter.questionnaire_slug = "sipas-ngan"
    db.session.commit()
    assert len(counter.field_groups) > 1  # the field-group question is asked: the longer case
    url = counter_url(base_url, app.config["SECRET_KEY"], counter)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    page = context.new_page()

    started = time.monotonic()
    page.goto(url)
    assert definition["title"]["vi"] in page.content()
    page.wait_for_timeout(reading_ms(definition["intro"]["vi"]))
    scale_read = False
    asked = 0
    for section in definition["sections"]:
        for q in section["questions"]:
            if "qr" not in q.get("channels", ("qr", "paper")):
                continue
            options = definition["scales"][q["scale"]]["options"] if q["type"] == "scale" else q["options"]
            labels = [o["label"]["vi"] for o in options]
            text = [q["text"]["vi"]] + ([] if q["type"] == "scale" and scale_read else labels)
            scale_read = scale_read or q["type"] == "scale"
            page.locator(f"#q-{q['code']}").scroll_into_view_if_needed()
            page.wait_for_timeout(reading_ms(*text) + round(1000 * DECIDE_AND_TAP_SECONDS))
            choice = options[3]["code"] if len(options) > 3 else options[0]["code"]  # "Hài lòng", or the first
            page.locator(f"input[name={q['code']}][value='{choice}']").tap()
            asked += 1
    page.wait_for_timeout(round(1000 * FIND_AND_SEND_SECONDS))
    page.locator("button[type=submit]").tap()
    page.wait_for_url("**/cam-on/*")
    seconds = time.monotonic() - started
    context.close()

    minutes = max(1, math.floor(seconds / 60 + 0.5))
    print(f"\nsipas-ngan: {asked} questions answered in {seconds:.0f} s on a 360×740 phone → about {minutes} min")
    assert asked == 17  # the field group and the 16 index items
    db.session.expire_all()
    [stored] = db.session.scalars(sa.select(Response)).all()
    assert stored.questionnaire.slug == "sipas-ngan" and stored.answers["A1"] == 4
    assert minutes == definition["answer_minutes"], f"measured {seconds:.0f} s: update answer_minutes"

    # the counter's poster prints that figure
    from survey.qr import printing

    pdf = printing.poster_pdf(
        [counter],
        base_url=base_url,
        secret=app.config["SECRET_KEY"],
        province=app.config["PROVINCE_NAME"],
        minutes=printing.answer_minutes(db.session),
        default_slug=app.config["QR_QUESTIONNAIRE"],
    )
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(io.BytesIO(pdf))
    text = document[0].get_textpage().get_text_range()
    document.close()
    assert f"trong khoảng {minutes} phút" in " ".join(text.split())
