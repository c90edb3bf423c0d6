"""Index definitions drive everything: a questionnaire no code knows about (a fixture file with
3 elements, 7 items, another index code and the equal-weight-per-element rule) is published,
carried by a counter, answered through the citizen's real form, keyed in a paper round, weighted
and exported — with no code change. And a v2 whose wording changed never mixes with v1."""

from __future__ import annotations

import io
import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from survey import questionnaires
from survey.models import Counter, Place, Questionnaire, Response
from survey.qr.counters import counter_code
from survey.questionnaires import load_directory
from survey.reports import estimates, exports, snapshots

FIXTURE = Path(__file__).parent / "fixtures" / "thu-nghiem" / "v1.yaml"
SHIPPED = Path(__file__).resolve().parents[3] / "questionnaires"
ITEMS = ("N1", "N2", "N3", "N4", "N5", "N6", "N7")


def _publish(db, tmp_path: Path, *extra: tuple[str, int, str]) -> None:
    """Publish the fixture (and any extra ``(slug, version, yaml text)``) next to the shipped files."""
    qdir = tmp_path / "q"
    if not qdir.exists():
        shutil.copytree(SHIPPED, qdir)
        (qdir / "thu-nghiem").mkdir()
        shutil.copy(FIXTURE, qdir / "thu-nghiem" / "v1.yaml")
    for slug, version, text in extra:
        (qdir / slug / f"v{version}.yaml").write_text(text, "utf-8")
    questionnaires.publish(db.session, load_directory(qdir))
    db.session.commit()


def _idem(page: str) -> str:
    return re.search(r'name="idem" type="hidden" value="([^"]+)"', page).group(1)


def test_a_new_questionnaire_runs_the_whole_chain(app, db, demo, client, login_as, tmp_path) -> None:
    _publish(db, tmp_path)
    counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.code == "P001")).one()
    # the admin gives the counter the new questionnaire on the counter's page
    login_as("admin")
    page = client.get(f"/admin/quay/{counter.id}").get_data(as_text=True)
    assert "thu-nghiem — Phiếu thử nghiệm về dịch vụ nước sạch" in page
    saved = client.post(
        f"/admin/quay/{counter.id}",
        data={
            "code": counter.code,
            "name": counter.name,
            "field_groups": counter.field_groups,
            "active": "y",
            "questionnaire_slug": "thu-nghiem",
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Counter, counter.id).questionnaire_slug == "thu-nghiem"
    poster = client.get(f"/admin/quay/{counter.id}/ap-phich.pdf")
    assert poster.status_code == 200 and poster.mimetype == "application/pdf"
    client.get("/dang-xuat")

    # citizens answer it through the real form (GET the page, POST the answers)
    url = "/q/" + counter_code(app.config["SECRET_KEY"], counter)
    for i in range(6):
        html = client.get(url).get_data(as_text=True)
        assert "Nước trong, không mùi" in html and "Biển hiệu" not in html  # its own wording, not SIPAS's
        answers = {code: str(4 + ((i >> j) & 1)) for j, code in enumerate(ITEMS)} | {"nhom_dv": "khac"}  # distinct
        assert client.post(url, data={**answers, "idem": _idem(html)}).status_code == 302
    stored = db.session.scalars(sa.select(Response).where(Response.channel == "qr")).all()
    assert len(stored) == 6 and {r.questionnaire.slug for r in stored} == {"thu-nghiem"}
    assert all(r.counter_id == counter.id and r.field_group == "khac" for r in stored)

    # a paper round on it: frame, sample, interviews keyed twice and verified
    from survey.demo import load_paper_round

    survey_round = load_paper_round(db.session, name="Nước sạch 2026", sample_size=60, slug="thu-nghiem")
    db.session.commit()
    assert db.session.get(Questionnaire, survey_round.questionnaire_id).slug == "thu-nghiem"

    # the estimates of the round and of the QR period, from this questionnaire's index definition
    paper = snapshots.build_paper_snapshot(db.session, survey_round)
    qr = snapshots.build_qr_snapshot(
        db.session, slug="thu-nghiem", start=date(2000, 1, 1), end=date(2100, 1, 1), frame_round=survey_round
    )
    db.session.commit()
    for made in (paper, qr):
        assert made.questionnaire_slug == "thu-nghiem"
        rates = snapshots.estimates_frame(made, "rates")
        overall = rates[rates["domain_var"] == "all"]
        assert set(overall["indicator"]) == {*ITEMS, "NA", "NB", "NC", "HL_NUOC"}
        row = overall.set_index("indicator")
        # equal weight per element: the index is the mean of the three element indices
        assert row.loc["HL_NUOC", "estimate"] == pytest.approx(row.loc[["NA", "NB", "NC"], "estimate"].mean())
    assert qr.respondents == 6

    # the exports: estimates and microdata carry its codes
    body, _mimetype, _name = exports.export(db.session, paper, "uoc-luong", "csv")
    table = pd.read_csv(io.BytesIO(body))
    assert "HL_NUOC" in set(table.astype(str).to_numpy().ravel())
    body, _mimetype, _name = exports.export(db.session, paper, "vi-mo", "csv")
    micro = pd.read_csv(io.BytesIO(body))
    assert set(ITEMS) <= set(micro.columns) and "A1" not in micro.columns

    # the analyst's dashboard of the run shows its index and elements
    login_as("analyst")
    board = client.get(f"/phan-tich/quyen-so/{paper.id}").get_data(as_text=True)
    assert "Chỉ số HL_NUOC" in board and "NB. Hóa đơn và giá" in board


def test_a_v2_with_changed_wording_never_mixes_with_v1(app, db, demo, tmp_path) -> None:
    _publish(db, tmp_path)
    counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.code == "P001")).one()
    v1 = questionnaires.get(db.session, "thu-nghiem", 1)
    from survey.responses.recording import record_response

    def answer(questionnaire, value: int) -> None:
        record_response(
            db.session,
            questionnaire,
            dict.fromkeys(ITEMS, value) | {"nhom_dv": "khac"},
            channel="qr",
            place_id=counter.place_id,
            counter_id=counter.id,
            field_group="khac",
        )

    for _ in range(3):
        answer(v1, 5)
    db.session.commit()
    # v2: the same codes, one item reworded
    doc = yaml.safe_load(FIXTURE.read_text("utf-8"))
    doc["version"] = 2
    doc["sections"][1]["questions"][4]["text"]["vi"] = "Giá nước phù hợp với thu nhập"
    _publish(db, tmp_path, ("thu-nghiem", 2, yaml.safe_dump(doc, allow_unicode=True)))
    v2 = questionnaires.get(db.session, "thu-nghiem", 2)
    for _ in range(2):
        answer(v2, 1)
    db.session.commit()

    versions, excluded = estimates.report_questionnaires(db.session, "thu-nghiem")
    assert [q.version for q in versions] == [2] and [q.version for q in excluded] == [1]
    report = estimates.build_report(db.session, versions, channel="qr", excluded=excluded)
    assert report.respondents == 2 and report.slug == "thu-nghiem" and report.excluded_versions == (1,)
    with pytest.raises(ValueError, match="never pooled"):
        estimates.build_report(db.session, [v1, v2], channel="qr")
    # the same wording in a v3 pools with v2 (codes, index and wording identical)
    doc["version"] = 3
    _publish(db, tmp_path, ("thu-nghiem", 3, yaml.safe_dump(doc, allow_unicode=True)))
    versions, excluded = estimates.report_questionnaires(db.session, "thu-nghiem")
    assert [q.version for q in versions] == [2, 3] and [q.version for q in excluded] == [1]
    # and another questionnaire's responses are never read
    assert all(q.slug == "thu-nghiem" for q in versions + excluded)
