"""Targets per questionnaire and indicator: the admin's page (audit-logged), the province's
default for a questionnaire without its own, and the verdicts the dashboard shows."""

from __future__ import annotations

import sqlalchemy as sa

from survey.models import AuditLog, QuestionnaireTarget
from survey.reports.targets import targets_for


def test_a_questionnaire_without_targets_uses_the_provinces(app, db, demo) -> None:
    found = targets_for(db.session, "hai-long-y-te", "HL_YTE", app.config["TARGETS"])
    assert found == {"HL_YTE": app.config["TARGETS"]}


def test_the_admin_sets_a_target_audited_and_the_defaults_are_kept(app, db, demo, client, login_as) -> None:
    login_as("admin")
    page = client.get("/admin/chi-tieu?phieu=sipas-quoc-gia").get_data(as_text=True)
    assert "SIPAS_CS — Chỉ số hài lòng về chính sách công" in page and 'id="mac-dinh"' in page
    saved = client.post(
        "/admin/chi-tieu/sipas-quoc-gia",
        data={"indicator": "SIPAS_CS", "year": "2030", "domain": "all", "target": "85"},
    )
    assert saved.status_code == 302
    found = targets_for(db.session, "sipas-quoc-gia", "SIPAS_TONG", app.config["TARGETS"])
    assert found["SIPAS_CS"] == {"2030": {"all": 85.0}}
    assert found["SIPAS_TONG"] == app.config["TARGETS"]  # copied from the province's on the first save
    logged = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "questionnaire_target")).all()
    assert len(logged) == 1 + sum(len(v) for v in app.config["TARGETS"].values())
    # refused: an indicator the questionnaire does not have, a target above 100
    bad = client.post(
        "/admin/chi-tieu/sipas-quoc-gia", data={"indicator": "HL_YTE", "year": "2030", "domain": "all", "target": "85"}
    )
    assert bad.status_code == 400
    bad = client.post(
        "/admin/chi-tieu/sipas-quoc-gia",
        data={"indicator": "SIPAS_CS", "year": "2030", "domain": "all", "target": "101"},
    )
    assert bad.status_code == 400 and "từ 0 đến 100" in bad.get_data(as_text=True)
    # delete one
    row = db.session.scalars(sa.select(QuestionnaireTarget).where(QuestionnaireTarget.indicator == "SIPAS_CS")).one()
    assert client.post(f"/admin/chi-tieu/sipas-quoc-gia/{row.id}/xoa").status_code == 302
    assert "SIPAS_CS" not in targets_for(db.session, "sipas-quoc-gia", "SIPAS_TONG", app.config["TARGETS"])
    assert client.get("/admin/chi-tieu/khong-co").status_code == 404
