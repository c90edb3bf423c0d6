"""A counter carries its questionnaire: chosen on the admin's counter page, used by its poster
(and the answering time it prints) and by the citizen's page behind its QR code."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import sqlalchemy as sa

from survey.models import AuditLog, Counter, Place, Response
from survey.qr.counters import counter_code


def _counter(db) -> Counter:
    return db.session.scalars(sa.select(Counter).join(Place).where(Place.code == "P001")).one()


def _form(counter: Counter, slug: str) -> dict[str, object]:
    return {
        "code": counter.code,
        "name": counter.name,
        "field_groups": counter.field_groups,
        "active": "y",
        "questionnaire_slug": slug,
    }


def _poster_text(client, counter: Counter) -> str:
    pdf = client.get(f"/admin/quay/{counter.id}/ap-phich.pdf").data
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    text = document[0].get_textpage().get_text_range()
    document.close()
    return " ".join(text.split())


def test_the_counter_page_chooses_the_questionnaire_of_its_poster_and_page(app, db, demo, client, login_as) -> None:
    counter = _counter(db)
    citizen = app.test_client()
    url = "/q/" + counter_code(app.config["SECRET_KEY"], counter)
    assert "Phiếu khảo sát sự hài lòng của người dân, tổ chức" in citizen.get(url).get_data(as_text=True)

    login_as("admin")
    page = client.get(f"/admin/quay/{counter.id}").get_data(as_text=True)
    assert "Mặc định của hệ thống (sipas-dich-vu)" in page and "hai-long-y-te — " in page
    assert "phút" not in _poster_text(client, counter)  # sipas-dich-vu states no measured time

    assert client.post(f"/admin/quay/{counter.id}", data=_form(counter, "hai-long-y-te")).status_code == 302
    db.session.expire_all()
    assert _counter(db).questionnaire_slug == "hai-long-y-te"
    change = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "counter")).all()[-1]
    assert change.changes["questionnaire_slug"] == [None, "hai-long-y-te"]
    # the citizen's page (cached per questionnaire version) now shows the health form
    html = citizen.get(url).get_data(as_text=True)
    assert "sự hài lòng của người bệnh" in html and "Biển hiệu" not in html
    answers = {
        q: "4"
        for q in (
            [
                "YA1",
                "YA2",
                "YA3",
                "YB1",
                "YB2",
                "YB3",
                "YC1",
                "YC2",
                "YC3",
                "YC4",
                "YD1",
                "YD2",
                "YD3",
                "YE1",
                "YE2",
                "YE3",
            ]
        )
    }
    idem = html.split('name="idem" type="hidden" value="')[1].split('"')[0]
    sent = citizen.post(
        url, data={**answers, "loai_dieu_tri": "ngoai_tru", "nguoi_tra_loi": "nguoi_benh", "idem": idem}
    )
    assert sent.status_code == 302
    [stored] = db.session.scalars(sa.select(Response)).all()
    assert stored.questionnaire.slug == "hai-long-y-te" and stored.field_group == "khac"  # a counter of 4 groups

    # the short form's counter: its poster prints the measured time
    assert client.post(f"/admin/quay/{counter.id}", data=_form(counter, "sipas-ngan")).status_code == 302
    assert "Quét mã QR để đánh giá trong khoảng 2 phút" in _poster_text(client, _counter(db))
    # back to the site's default; an unknown questionnaire is refused
    assert client.post(f"/admin/quay/{counter.id}", data=_form(counter, "")).status_code == 302
    db.session.expire_all()
    assert _counter(db).questionnaire_slug is None
    refused = client.post(f"/admin/quay/{counter.id}", data=_form(counter, "khong-co"))
    assert refused.status_code == 200 and _counter(db).questionnaire_slug is None
