"""The response rates kept with a weighting run say whether fieldwork was still running, and
the annual report marks them interim (tạm tính). Both databases."""

from __future__ import annotations

from survey.reports import snapshots


def test_rates_of_a_run_during_fieldwork_are_marked_interim(client, db, paper_round, login_as) -> None:
    paper_round.status = "fieldwork"
    db.session.commit()
    during = snapshots.build_paper_snapshot(db.session, paper_round)
    paper_round.status = "closed"
    db.session.commit()
    after = snapshots.build_paper_snapshot(db.session, paper_round)
    db.session.commit()
    assert during.report["interim"] is True and after.report["interim"] is False
    login_as("analyst")
    page = client.get(f"/phan-tich/quyen-so/{during.id}/bao-cao-nam").get_data(as_text=True)
    assert 'id="rr-tam-tinh"' in page and "đợt khảo sát còn đang ở thực địa" in page
    final = client.get(f"/phan-tich/quyen-so/{after.id}/bao-cao-nam").get_data(as_text=True)
    assert 'id="rr-tam-tinh"' not in final and "tỷ lệ trả lời AAPOR RR1" in final
