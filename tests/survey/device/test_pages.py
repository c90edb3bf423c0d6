"""The interviewer app's routes through the test client: the shell holds no case data, the
service worker never caches the API, the JSON API with its CSRF token in a header. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from survey.models import DeviceSubmission, Response
from tests.survey.device.conftest import interview_answers

PASSWORD = "mat-khau-dung-1"


def sign_in(client, user) -> None:
    reply = client.post("/dang-nhap", data={"username": user.username, "password": PASSWORD})
    assert reply.status_code == 302


def test_shell_worker_and_manifest(client, fielded) -> None:
    _round, cases, (first, _second) = fielded
    sign_in(client, first)
    shell = client.get("/nhap-phieu/may/")
    html = shell.get_data(as_text=True)
    assert shell.status_code == 200 and "device-queue.js" in html and "manifest.webmanifest" in html
    assert cases[0].record.applicant_name not in html and cases[0].form_serial not in html  # no case data
    worker = client.get("/nhap-phieu/may/sw.js")
    assert worker.mimetype == "text/javascript" and "/api/" in worker.get_data(as_text=True)
    manifest = client.get("/nhap-phieu/may/manifest.webmanifest").get_json()
    assert manifest["start_url"] == manifest["scope"] == "/nhap-phieu/may/"


def test_the_api_downloads_and_takes_an_item_once_with_the_csrf_token_in_a_header(app, client, fielded) -> None:
    _round, _cases, (first, _second) = fielded
    sign_in(client, first)
    data = client.get("/nhap-phieu/may/api/ca")
    assert data.headers["Cache-Control"] == "no-store"
    case = data.get_json()["cases"][0]
    item = {
        "key": str(uuid.uuid4()),
        "case_token": case["token"],
        "kind": "interview",
        "mode": "phone",
        "answers": interview_answers(),
        "started_at": "2026-04-02T08:00:00Z",
        "ended_at": "2026-04-02T08:06:00Z",
    }
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/nhap-phieu/may/api/gui", json=item).status_code == 400  # no token: refused
        token = client.get("/nhap-phieu/may/api/token").get_json()["csrf_token"]
        first_reply = client.post("/nhap-phieu/may/api/gui", json=item, headers={"X-CSRFToken": token})
        again = client.post("/nhap-phieu/may/api/gui", json=item, headers={"X-CSRFToken": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert first_reply.status_code == again.status_code == 200
    assert first_reply.get_json() == again.get_json() and first_reply.get_json()["status"] == "recorded"
    bad = client.post("/nhap-phieu/may/api/gui", json={**item, "key": str(uuid.uuid4()), "answers": {"A1": 8}})
    assert bad.status_code == 422 and bad.get_json()["errors"]["A1"] == "not_allowed"
    assert client.post("/nhap-phieu/may/api/gui", data="not json").status_code == 400
    from survey.extensions import db

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeviceSubmission)) == 1


def test_the_team_leader_sees_and_decides_a_conflict(client, db, fielded, make_user) -> None:
    from survey.device import sync
    from survey.paper.fieldwork import assign

    survey_round, cases, (first, second) = fielded
    secret = client.application.config["SECRET_KEY"]
    token = sync.case_token(secret, cases[0].id, first.id)
    assign(db.session, survey_round, [cases[0].id], second, confirmed=1)
    db.session.commit()
    sign_in(client, first)
    item = {"key": str(uuid.uuid4()), "case_token": token, "kind": "outcome", "outcome": "refused"}
    assert client.post("/nhap-phieu/may/api/gui", json=item).get_json()["status"] == "conflict"
    client.post("/dang-xuat")
    leader = make_user("supervisor")
    sign_in(client, leader)
    page = client.get(f"/nhap-phieu/dot/{survey_round.id}/may-xung-dot").get_data(as_text=True)
    assert cases[0].form_serial in page and "giao cho điều tra viên khác" in page
    kept = db.session.scalars(sa.select(DeviceSubmission)).one()
    reply = client.post(f"/nhap-phieu/may/xung-dot/{kept.id}", data={"decision": "accepted"}, follow_redirects=True)
    assert "Đã ghi quyết định." in reply.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(DeviceSubmission, kept.id).status == "accepted"
