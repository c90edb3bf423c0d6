"""Teams (a surveyor's team leader), progress per team, interviewer and place against a hand
count, and its CSV/XLSX export. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from survey.models import AuditLog, SampledCase, User
from survey.paper import progress, review
from survey.paper.fieldwork import record_outcome
from survey.users import UserError, set_team_leader
from tests.survey.paper.test_review_and_backcheck import PASSWORD, fielded_round


@pytest.fixture
def teams(db, survey_round, make_user):
    cases, surveyors = fielded_round(db, survey_round, make_user)
    leader = make_user("supervisor", username="to-truong-a")
    set_team_leader(db.session, surveyors[0], leader)
    outcomes = ["completed"] * 4 + ["refused", "not_home", "moved", "ineligible"]
    for case, outcome in zip(cases[:8], outcomes, strict=True):
        record_outcome(db.session, case, outcome)
    for case in cases[10:13]:
        record_outcome(db.session, case, "completed")
    review.review(db.session, cases[0], leader, "returned", "Làm lại")
    db.session.commit()
    return survey_round, cases, surveyors, leader


def test_team_leader_rules(db, make_user) -> None:
    surveyor, leader, analyst = make_user("surveyor"), make_user("supervisor"), make_user("analyst")
    with pytest.raises(UserError, match="không phải tổ trưởng"):
        set_team_leader(db.session, surveyor, analyst)
    with pytest.raises(UserError, match="không phải điều tra viên"):
        set_team_leader(db.session, leader, leader)
    set_team_leader(db.session, surveyor, leader)
    assert surveyor.team_leader_id == leader.id
    set_team_leader(db.session, surveyor, None)
    assert surveyor.team_leader_id is None


def test_cli_sets_and_clears_the_team(runner, db, make_user) -> None:
    surveyor, leader = make_user("surveyor", username="dtv-an"), make_user("supervisor", username="tt-binh")
    result = runner.invoke(args=["users", "team", "dtv-an", "tt-binh"])
    assert result.exit_code == 0, result.output
    assert db.session.get(User, surveyor.id).team_leader_id == leader.id
    assert "tổ: tt-binh" in runner.invoke(args=["users", "list"]).output
    bad = runner.invoke(args=["users", "team", "dtv-an", "khong-co"])
    assert bad.exit_code != 0 and "không có tài khoản 'khong-co'" in bad.output
    both = runner.invoke(args=["users", "team", "dtv-an", "tt-binh", "--none"])
    assert both.exit_code != 0 and "không cả hai" in both.output
    cleared = runner.invoke(args=["users", "team", "dtv-an", "--none"])
    assert cleared.exit_code == 0
    db.session.expire_all()
    assert db.session.get(User, surveyor.id).team_leader_id is None


def test_progress_matches_a_hand_count(app, db, teams) -> None:
    survey_round, _cases, surveyors, leader = teams
    with app.test_request_context():  # labels in the page's language
        result = progress.progress(db.session, survey_round.id)
    by_team = result.by_team.set_index("team")
    # Team of leader A: surveyor 1 (10 cases): 3 interviews left after 1 returned, R 1, NC 1,
    # UO 1, NE 1, pending 2 never attempted + 1 returned = 3. No team: surveyor 2, 3 interviews.
    team_a = by_team.loc[leader.full_name]
    assert (team_a.assigned, team_a.attempted, team_a.completed, team_a.I) == (10, 7, 3, 3)
    assert (team_a.R, team_a.NC, team_a.UO, team_a.NE, team_a.pending, team_a.returned) == (1, 1, 1, 1, 3, 1)
    no_team = by_team.loc["(chưa có tổ)"]
    assert (no_team.assigned, no_team.completed, no_team.pending) == (10, 3, 7)
    total = by_team.loc["Tổng"]
    assert (total.assigned, total.completed, total.pending, total.returned) == (20, 6, 10, 1)
    by_interviewer = result.by_interviewer.set_index("interviewer")
    assert by_interviewer.loc[surveyors[0].full_name, "team"] == leader.full_name
    # By place: the two strata are two places; the detail rows add up to the totals.
    detail = result.detail.iloc[:-1]
    assert len(detail) == 2 and list(detail["assigned"]) == [10, 10] and detail["place"].nunique() == 2
    assert int(db.session.scalar(sa.select(sa.func.count()).select_from(SampledCase).where(SampledCase.active))) == 20


def test_progress_export_csv_and_xlsx(client, db, teams) -> None:
    survey_round, _cases, _surveyors, leader = teams
    client.post("/dang-nhap", data={"username": leader.username, "password": PASSWORD})
    page = client.get(f"/nhap-phieu/dot/{survey_round.id}/tien-do").get_data(as_text=True)
    assert "Theo tổ" in page and leader.full_name in page and "tạm tính" in page
    reply = client.get(f"/nhap-phieu/dot/{survey_round.id}/tien-do.csv")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "text/csv; charset=utf-8"  # once
    assert reply.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(reply.data.decode("utf-8-sig"))))
    assert rows[-1]["Tổ (tổ trưởng)"] == "Tổng" and rows[-1]["Đã giao"] == "20"
    assert {"Điều tra viên", "Nơi tiếp nhận", "I – hoàn thành", "Bị trả lại, chờ làm lại"} <= set(rows[0])
    xlsx = client.get(f"/nhap-phieu/dot/{survey_round.id}/tien-do.xlsx")
    book = load_workbook(io.BytesIO(xlsx.data))
    sheet = book["Theo tổ"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Tổ (tổ trưởng)", "Đã giao", "Đã liên hệ"]
    values = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values[-1][0] == "Tổng" and values[-1][1] == 20 and isinstance(values[-1][1], int)
    assert book["Đợt"]["B3"].value == "tạm tính (đang ở thực địa)"


def test_analyst_gets_the_export_too(client, db, teams, login_as) -> None:
    survey_round = teams[0]
    login_as("analyst")
    reply = client.get(f"/phan-tich/dot/{survey_round.id}/tien-do.csv")
    assert reply.status_code == 200 and "Tổng" in reply.data.decode("utf-8-sig")
    assert "tien-do-dot" in reply.headers["Content-Disposition"]


def test_admin_sets_a_surveyors_team_on_the_accounts_page(client, db, make_user, login_as) -> None:
    surveyor, leader, analyst = make_user("surveyor"), make_user("supervisor"), make_user("analyst")
    admin = login_as("admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert f'action="/admin/tai-khoan/{surveyor.id}/to"' in page and leader.full_name in page
    reply = client.post(f"/admin/tai-khoan/{surveyor.id}/to", data={"leader": str(leader.id)}, follow_redirects=True)
    assert f"Đã cập nhật tổ của {surveyor.username}." in reply.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, surveyor.id).team_leader_id == leader.id
    audited = db.session.scalars(
        sa.select(AuditLog.changes).where(AuditLog.entity == "user_account", AuditLog.user_id == admin.id)
    ).all()
    assert {"team_leader_id": [None, leader.id]} in audited
    for bad in (str(analyst.id), "999999", "abc"):
        reply = client.post(f"/admin/tai-khoan/{surveyor.id}/to", data={"leader": bad}, follow_redirects=True)
        assert reply.status_code == 200
        assert "không phải tổ trưởng" in reply.get_data(as_text=True) or "không tồn tại" in reply.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, surveyor.id).team_leader_id == leader.id
    client.post(f"/admin/tai-khoan/{surveyor.id}/to", data={"leader": ""})
    db.session.expire_all()
    assert db.session.get(User, surveyor.id).team_leader_id is None


def test_demo_surveyors_form_the_demo_team_leaders_team(db, demo) -> None:
    leader = db.session.scalar(sa.select(User).where(User.username == "totruong"))
    members = db.session.scalars(sa.select(User.username).where(User.team_leader_id == leader.id)).all()
    assert sorted(members) == ["dieutravien", "dieutravien2"]
