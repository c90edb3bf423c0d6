"""The `flask` commands, run through Click's runner."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from survey.models import Counter, Place, Procedure, Questionnaire, User


def test_users_create_and_list(runner, db) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "lan.nt",
            "--role",
            "supervisor",
            "--full-name",
            "Nguyễn Thị Lan",
            "--password",
            "mot-hai-ba-bon",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Đã tạo tài khoản lan.nt" in result.output
    user = db.session.scalars(sa.select(User)).one()
    assert (user.username, user.role, user.full_name) == ("lan.nt", "supervisor", "Nguyễn Thị Lan")
    assert user.check_password("mot-hai-ba-bon")
    listing = runner.invoke(args=["users", "list"])
    assert "lan.nt\tsupervisor\tNguyễn Thị Lan" in listing.output


def test_users_create_prompts_for_password(runner, db, monkeypatch) -> None:
    answers = iter(["mot-hai-ba-bon", "mot-hai-ba-bon"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = runner.invoke(args=["users", "create", "an", "--role", "analyst", "--full-name", "An"])
    assert result.exit_code == 0, result.output


def test_users_create_errors_are_one_precise_line(runner, db, make_user) -> None:
    make_user("admin", username="trung")
    cases = {
        ("trung", "admin", "mot-hai-ba-bon"): "đã tồn tại",
        ("moi", "admin", "ngan"): "ít nhất 10 ký tự",
        ("Tên Có Dấu", "admin", "mot-hai-ba-bon"): "chữ thường không dấu",
    }
    for (username, role, password), fragment in cases.items():
        result = runner.invoke(
            args=["users", "create", username, "--role", role, "--full-name", "X", "--password", password]
        )
        assert result.exit_code == 1
        assert fragment in result.output
        assert result.output.count("\n") == 1
    bad_role = runner.invoke(
        args=["users", "create", "x1", "--role", "boss", "--full-name", "X", "--password", "p" * 12]
    )
    assert bad_role.exit_code == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1  # nothing half-written


def test_questionnaires_check_ok(runner) -> None:
    result = runner.invoke(args=["questionnaires", "check"])
    assert result.exit_code == 0
    assert "OK sipas-dich-vu v1: 40 câu hỏi, 16 câu tính chỉ số" in result.output


def test_questionnaires_check_reports_problems(runner, tmp_path: Path) -> None:
    bad = tmp_path / "x" / "v1.yaml"
    bad.parent.mkdir()
    bad.write_text("slug: x\nversion: 1\n", "utf-8")
    result = runner.invoke(args=["questionnaires", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: (gốc): thiếu trường bắt buộc 'title'" in result.output
    assert "lỗi." in result.output


def test_questionnaires_publish(runner, db) -> None:
    assert "Đã công bố sipas-dich-vu v1." in runner.invoke(args=["questionnaires", "publish"]).output
    assert "Không có phiên bản mới" in runner.invoke(args=["questionnaires", "publish"]).output
    shipped = len(runner.app.extensions["sipas_questionnaires"])  # every file in questionnaires/
    assert shipped == 5 and db.session.scalar(sa.select(sa.func.count()).select_from(Questionnaire)) == shipped


def test_demo_load_is_idempotent(runner, db) -> None:
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Đã nạp dữ liệu mẫu: 100 nơi tiếp nhận, 104 quầy" in first.output
    assert "admin" in first.output and "sipas-demo-2026" in first.output

    def counts() -> tuple[int, ...]:
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Place, Counter, Procedure, User)
        )

    before = counts()
    second = runner.invoke(args=["demo", "load"])
    assert "không nạp lại" in second.output
    assert counts() == before == (100, 104, 22, 5)
    groups = set(db.session.scalars(sa.select(Procedure.field_group)))
    assert groups == {"dat_dai", "xay_dung", "dau_tu", "khac"}

    # QR responses for every demo counter, each stored with a field group its counter serves
    from survey.models import Response

    served = {(c.id, g) for c in db.session.scalars(sa.select(Counter)) for g in c.field_groups}
    rows = db.session.execute(
        sa.select(Response.counter_id, Response.field_group, Response.channel, Response.coded).where(
            Response.channel == "qr"
        )
    ).all()
    assert len(rows) > 104 * 10
    # and a finished paper round: every interview keyed twice and verified
    paper = db.session.scalars(sa.select(Response.status).where(Response.channel == "paper")).all()
    assert len(paper) > 200 and set(paper) == {"verified"}
    assert {r.counter_id for r in rows} == {c for c, _ in served}
    assert all((r.counter_id, r.field_group) in served and r.channel == "qr" for r in rows)
    satisfied = sum(ch in "45" for r in rows for ch in r.coded[:16]) / sum(
        ch in "12345" for r in rows for ch in r.coded[:16]
    )
    assert 0.9 < satisfied < 0.995  # counter ratings run high, as in the method document


def test_demo_frame_file_imports_cleanly(runner, db, demo, tmp_path) -> None:
    path = tmp_path / "khung.csv"
    assert runner.invoke(args=["demo", "frame-file", str(path), "--rows", "300", "--year", "2026"]).exit_code == 0
    created = runner.invoke(args=["round", "create", "--name", "Thử", "--from", "2026-01-01", "--to", "2026-03-31"])
    round_id = created.output.split("số ")[1].split(":")[0]
    result = runner.invoke(args=["frame", "import", str(path), "--round", round_id])
    assert result.exit_code == 0, result.output
    assert "Đã nhập 300 hồ sơ" in result.output
