"""The Alembic chain builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from survey.models import Base


def test_upgraded_schema_matches_models(app, db) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(app, db) -> None:
    downgrade(revision="base")
    tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert set(Base.metadata.tables) <= set(sa.inspect(db.engine).get_table_names())


def test_constraints_are_enforced_by_the_database(app, db, demo) -> None:
    import pytest

    from survey.models import Place

    with pytest.raises(sa.exc.IntegrityError):
        db.session.add(Place(code="ZZ1", name="Sai cấp", kind="huyen"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.IntegrityError):  # foreign keys are on in SQLite too
        db.session.execute(
            sa.text(
                "INSERT INTO counter (place_id, code, name, active, poster_serial, created_at) "
                "VALUES (999999, 'Q9', 'x', true, 1, CURRENT_TIMESTAMP)"
            )
        )
    db.session.rollback()


TABLES_WITH_DATA = ("survey_round", "frame_record", "sampled_case", "response", "user_account", "place", "counter")


def _counts(db) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES_WITH_DATA}


def test_a_used_database_upgrades_and_downgrades_with_its_data(app, db) -> None:
    """SQLite alters a table by copying and dropping it: with rows referring to it (a round's
    frame, its sample, its responses), the drop must neither fail nor cascade."""
    from survey.demo import load

    load(db.session, app.extensions["sipas_questionnaires"], qr_responses=True, paper_round=True)
    db.session.commit()
    before = _counts(db)
    assert all(before.values()), before
    db.session.remove()
    downgrade(revision="e322f8a878a2")  # before this session's migrations (they alter survey_round)
    assert _counts(db) == before
    upgrade()
    assert _counts(db) == before
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
