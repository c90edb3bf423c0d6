"""``flask db backup`` and ``flask db restore`` on SQLite and PostgreSQL: a restore brings
back exactly what was backed up; bad input gets one precise line and changes nothing."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from survey.models import Base, Place


def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    db.session.remove()
    out = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = [c for c in table.primary_key.columns] or list(table.columns)
            out[table.name] = [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]
    return out


def test_backup_then_restore_brings_back_the_same_rows(app, db, demo, runner, tmp_path: Path) -> None:
    from survey.models import Counter, Questionnaire
    from survey.responses.recording import record_response

    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).first()
    for i, counter in enumerate(db.session.scalars(sa.select(Counter).order_by(Counter.id).limit(20))):
        answers = {"A1": 1 + i % 5, "y_kien": f"Ý kiến {i} — “ngoặc kép”"}
        record_response(
            db.session,
            questionnaire,
            answers,
            channel="qr",
            place_id=counter.place_id,
            counter_id=counter.id,
            field_group="dat_dai",
            idempotency_key=f"key-{i}",
        )
    db.session.commit()
    before = snapshot(db)
    assert sum(len(rows) for rows in before.values()) > 100
    target = tmp_path / "sipas.backup"
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "Đã sao lưu vào" in result.output and target.stat().st_size > 0

    # the day after: a place renamed, another added, responses deleted
    db.session.execute(sa.update(Place).values(name="Đổi tên"))
    db.session.add(Place(code="MOI01", name="Xã Mới", kind="xa"))
    db.session.execute(sa.text("DELETE FROM response"))
    db.session.commit()
    assert snapshot(db) != before

    result = runner.invoke(args=["db", "restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert snapshot(db) == before


def test_restore_needs_confirmation_and_a_real_backup(app, db, demo, runner, tmp_path: Path) -> None:
    before = snapshot(db)
    target = tmp_path / "sipas.backup"
    assert runner.invoke(args=["db", "backup", str(target)]).exit_code == 0
    result = runner.invoke(args=["db", "restore", str(target)])
    assert result.exit_code == 1 and "--yes" in result.output
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"not a backup at all")
    result = runner.invoke(args=["db", "restore", str(bogus), "--yes"])
    assert result.exit_code == 1 and "không phải bản sao lưu" in result.output
    result = runner.invoke(args=["db", "restore", str(tmp_path / "missing"), "--yes"])
    assert result.exit_code == 1 and "không có tệp" in result.output
    result = runner.invoke(args=["db", "backup", str(tmp_path / "no-such-dir" / "x.backup")])
    assert result.exit_code == 1 and "không tồn tại" in result.output
    assert snapshot(db) == before


def test_a_corrupt_backup_is_refused_and_nothing_changes(app, db, demo, runner, tmp_path: Path) -> None:
    target = tmp_path / "sipas.backup"
    assert runner.invoke(args=["db", "backup", str(target)]).exit_code == 0
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])  # a copy cut short (disk full, interrupted transfer)
    before = snapshot(db)
    result = runner.invoke(args=["db", "restore", str(target), "--yes"])
    assert result.exit_code == 1 and "Lỗi:" in result.output
    assert snapshot(db) == before
