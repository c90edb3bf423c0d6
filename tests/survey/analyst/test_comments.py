"""The comments browser: filters, accent-insensitive search, export; analysts and admins only."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from survey import questionnaires
from survey.models import Counter, Place, Response
from survey.reports.comments import fold
from survey.responses.recording import record_response

ITEMS = [f"{e}{i}" for e, k in zip("ABCDE", (3, 4, 3, 3, 3), strict=True) for i in range(1, k + 1)]


def _respond(db, counter, group: str, code: int, comment: str | None) -> None:
    answers = {"nhom_linh_vuc": group, "loai_nguoi_tra_loi": "ca_nhan"} | {i: code for i in ITEMS}
    if comment is not None:
        answers["y_kien"] = comment
    record_response(
        db.session,
        questionnaires.get(db.session, "sipas-dich-vu"),
        answers,
        channel="qr",
        place_id=counter.place_id,
        counter_id=counter.id,
        field_group=group,
    )


def test_fold_removes_vietnamese_accents() -> None:
    assert fold("Đất ĐAI, thủ tục rườm rà") == "dat dai, thu tuc ruom ra"


def test_filter_search_and_export(client, db, demo, login_as) -> None:
    centre = db.session.scalars(sa.select(Counter).join(Place).where(Place.kind == "tinh")).first()
    commune = db.session.scalars(sa.select(Counter).join(Place).where(Place.kind == "xa")).first()
    _respond(db, centre, "dat_dai", 2, "Thủ tục đất đai còn rườm rà, phải đi lại nhiều lần.")
    _respond(db, centre, "khac", 5, "Cán bộ nhiệt tình.")
    _respond(db, commune, "dat_dai", 5, "Hồ sơ ĐẤT ĐAI được trả đúng hẹn.")
    _respond(db, commune, "khac", 4, None)
    db.session.commit()
    login_as("analyst")
    page = client.get("/phan-tich/y-kien").get_data(as_text=True)
    assert "3 ý kiến." in page
    page = client.get("/phan-tich/y-kien", query_string={"text": "dat dai"}).get_data(as_text=True)
    assert "2 ý kiến." in page and "rườm rà" in page and "đúng hẹn" in page and "nhiệt tình" not in page
    page = client.get("/phan-tich/y-kien", query_string={"text": "ĐẤT", "satisfied": "no"}).get_data(as_text=True)
    assert "1 ý kiến." in page and "rườm rà" in page
    page = client.get("/phan-tich/y-kien", query_string={"place_id": commune.place_id}).get_data(as_text=True)
    assert "1 ý kiến." in page and "đúng hẹn" in page
    page = client.get("/phan-tich/y-kien", query_string={"channel": "paper"}).get_data(as_text=True)
    assert "Không có ý kiến nào khớp bộ lọc." in page
    body = client.get("/phan-tich/y-kien.csv", query_string={"field_group": "dat_dai"}).data
    table = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig")
    assert len(table) == 2 and set(table["nhom_linh_vuc"]) == {"Đất đai"}
    assert sorted(table["ty_le_hai_long_ca_nhan"]) == [0.0, 100.0]


def test_bad_filter_gets_a_message(client, db, demo, login_as) -> None:
    login_as("analyst")
    response = client.get("/phan-tich/y-kien", query_string={"start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 400
    assert "Ngày kết thúc phải sau ngày bắt đầu." in response.get_data(as_text=True)
    assert client.get("/phan-tich/y-kien", query_string={"start": "hôm qua"}).status_code == 400


def test_comments_are_for_analysts_and_admins(client, db, demo, login_as) -> None:
    login_as("supervisor")
    assert client.get("/phan-tich/y-kien").status_code == 403
    assert client.get("/phan-tich/y-kien.csv").status_code == 403


def test_a_comment_is_dated_by_the_vietnam_day_on_the_page_in_the_filter_and_in_the_export(
    client, db, demo, login_as
) -> None:
    """Sent at 06:30 in Bắc Ninh (23:30 UTC the day before): it is a comment of that morning's
    day everywhere — the page, the date filter, the CSV."""
    counter = db.session.scalars(sa.select(Counter)).first()
    _respond(db, counter, "khac", 5, "Sáng sớm đã được tiếp nhận.")
    db.session.flush()
    response = db.session.scalars(sa.select(Response).order_by(Response.id.desc())).first()
    response.submitted_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March, 06:30 in Vietnam
    db.session.commit()
    login_as("analyst")
    page = client.get("/phan-tich/y-kien").get_data(as_text=True)
    assert "02/03/2026" in page and "01/03/2026" not in page
    on_the_day = {"start": "2026-03-02", "end": "2026-03-02"}
    assert "1 ý kiến." in client.get("/phan-tich/y-kien", query_string=on_the_day).get_data(as_text=True)
    the_day_before = {"start": "2026-03-01", "end": "2026-03-01"}
    assert "1 ý kiến." not in client.get("/phan-tich/y-kien", query_string=the_day_before).get_data(as_text=True)
    table = pd.read_csv(io.BytesIO(client.get("/phan-tich/y-kien.csv").data), encoding="utf-8-sig")
    assert list(table["ngay_gui"]) == ["2026-03-02"]


def test_a_response_status_is_said_in_vietnamese(client, db, demo, login_as) -> None:
    counter = db.session.scalars(sa.select(Counter)).first()
    _respond(db, counter, "khac", 4, None)
    db.session.commit()
    response = db.session.scalars(sa.select(Response)).one()
    login_as("analyst")
    for page in (client.get("/phan-tich/"), client.get(f"/phan-tich/phieu/{response.id}")):
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "<td>Đã gửi" in text and ">submitted<" not in text
