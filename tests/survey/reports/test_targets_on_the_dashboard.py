"""The dashboard's target verdicts come from the questionnaire's own targets, per indicator."""

from __future__ import annotations

from survey.models import WeightingSnapshot
from survey.reports import snapshots
from survey.reports.dashboard import build_dashboard


def test_the_dashboard_shows_the_questionnaires_own_targets(app, db, paper_round, client, login_as) -> None:
    made = snapshots.build_paper_snapshot(db.session, paper_round)
    db.session.commit()
    login_as("admin")
    client.post(
        "/admin/chi-tieu/sipas-dich-vu", data={"indicator": "B", "year": "2027", "domain": "all", "target": "10"}
    )
    client.post(
        "/admin/chi-tieu/sipas-dich-vu", data={"indicator": "SIPAS", "year": "2027", "domain": "all", "target": "99.9"}
    )
    board = build_dashboard(db.session, db.session.get(WeightingSnapshot, made.id), app.config["TARGETS"])
    assert board.years == ["2026", "2027", "2030"]
    element_b = next(r for r in board.elements if r.key == "B")
    assert [(v.year, v.target, v.state) for v in element_b.verdicts] == [("2027", 10.0, "met")]
    index = board.overall[0]
    assert ("2027", 99.9, "not_met") in [(v.year, v.target, v.state) for v in index.verdicts]
    html = client.get(f"/phan-tich/quyen-so/{made.id}").get_data(as_text=True)
    assert "Mục tiêu 2027" in html
