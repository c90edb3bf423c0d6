"""The wide table the analysis reads: design columns plus one column per scale question."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from survey.models import Counter, Questionnaire, Response
from survey.responses.coded import decode_coded, encode_coded
from survey.responses.wide import wide_table


def test_encode_and_decode_round_trip() -> None:
    layout = ["A1", "A2", "A3"]
    coded = encode_coded({"A1": 5, "A2": None, "A3": "9"}, layout)
    assert coded == "5.9"
    matrix = decode_coded([coded, "123"], 3)
    assert matrix[0, 0] == 5 and math.isnan(matrix[0, 1]) and matrix[0, 2] == 9
    np.testing.assert_array_equal(matrix[1], [1, 2, 3])


@pytest.mark.parametrize(("coded", "message"), [(["12", "123"], "expected 3"), (["1x3"], "neither a digit")])
def test_decode_rejects_malformed_strings(coded: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_coded(coded, 3)


def test_encode_rejects_codes_that_are_not_one_digit() -> None:
    with pytest.raises(ValueError, match="A1: code 12"):
        encode_coded({"A1": 12}, ["A1"])


def test_wide_table_from_stored_responses(db, demo) -> None:
    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).one()
    layout = questionnaire.coded_layout
    counter = db.session.scalars(sa.select(Counter).order_by(Counter.id)).first()
    stored = []
    for i, (status, code) in enumerate([("submitted", 5), ("verified", 4), ("draft", 1), ("submitted", None)]):
        answers = dict.fromkeys(layout[:16], code)
        response = Response(
            questionnaire=questionnaire,
            channel="qr",
            status=status,
            place_id=counter.place_id,
            counter_id=counter.id,
            field_group="dat_dai",
            receipt_code=f"R{i}",
            answers=answers,
            coded=encode_coded(answers, layout),
        )
        db.session.add(response)
        stored.append(response)
    db.session.commit()

    frame = wide_table(db.session, questionnaire)
    assert list(frame["id"]) == [stored[0].id, stored[1].id, stored[3].id]  # drafts are left out
    assert list(frame.columns[-len(layout) :]) == layout
    assert list(frame["A1"][:2]) == [5.0, 4.0]
    assert frame["A1"].isna().tolist() == [False, False, True]
    assert frame["M01"].isna().all()
    assert set(frame["place_id"]) == {counter.place_id}
    assert wide_table(db.session, questionnaire, channel="paper").empty
    assert len(wide_table(db.session, questionnaire, channel="qr")) == 3
    with pytest.raises(ValueError, match="unknown channel"):
        wide_table(db.session, questionnaire, channel="fax")


def test_wide_table_matches_the_stored_rows_column_by_column(db, demo, monkeypatch) -> None:
    """The read (grouped chunks: array_agg on PostgreSQL, group_concat on SQLite) gives
    every stored value with its type: ids, categories, missing counters and procedures, times
    to the microsecond in UTC, blanks and every digit of the coded string — checked against
    the ORM objects, with chunks of 7 rows (7 ids on SQLite) so that several chunks are read."""
    from datetime import UTC, datetime, timedelta

    import survey.responses.wide
    from survey.models import Procedure

    monkeypatch.setattr(survey.responses.wide, "SQLITE_CHUNK", 7)
    monkeypatch.setattr(survey.responses.wide, "POSTGRES_CHUNK", 7)
    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).one()
    layout = questionnaire.coded_layout
    counters = db.session.scalars(sa.select(Counter).order_by(Counter.id)).all()
    procedure = db.session.scalars(sa.select(Procedure).order_by(Procedure.id)).first()
    rng = np.random.default_rng(4)
    start = datetime(2026, 3, 1, 7, 30, 15, 123456, tzinfo=UTC)
    for i in range(30):
        codes = rng.choice([None, 0, 1, 2, 3, 4, 5, 9], size=len(layout))
        answers = {code: None if value is None else int(value) for code, value in zip(layout, codes, strict=True)}
        counter = counters[i % len(counters)]
        db.session.add(
            Response(
                questionnaire=questionnaire,
                channel="paper" if i % 3 == 0 else "qr",
                status=["submitted", "verified", "draft"][i % 3 if i % 5 else 0],
                place_id=counter.place_id,
                counter_id=None if i % 4 == 0 else counter.id,
                field_group=["dat_dai", "xay_dung", "dau_tu", "khac"][i % 4],
                procedure_id=procedure.id if i % 2 else None,
                receipt_code=f"W{i:04d}",
                answers=answers,
                coded=encode_coded(answers, layout),
                submitted_at=None if i % 6 == 5 else start + timedelta(days=i, microseconds=i),
            )
        )
    db.session.commit()
    stored = db.session.scalars(
        sa.select(Response).where(Response.status.in_(("submitted", "verified"))).order_by(Response.id)
    ).all()
    frame = wide_table(db.session, questionnaire)
    assert len(frame) == len(stored) > 14
    assert str(frame["id"].dtype) == "int64" and str(frame["counter_id"].dtype) == "Int64"
    assert str(frame["submitted_at"].dtype) == "datetime64[us, UTC]"
    assert isinstance(frame["field_group"].dtype, pd.CategoricalDtype)
    assert list(frame["field_group"].cat.categories) == sorted(frame["field_group"].cat.categories)
    for row, response in zip(frame.itertuples(index=False), stored, strict=True):
        assert row.id == response.id and row.channel == response.channel and row.status == response.status
        assert row.place_id == response.place_id and row.field_group == response.field_group
        assert (None if pd.isna(row.counter_id) else row.counter_id) == response.counter_id
        assert (None if pd.isna(row.procedure_id) else row.procedure_id) == response.procedure_id
        expected_time = response.submitted_at
        if expected_time is None:
            assert pd.isna(row.submitted_at)
        else:
            expected_time = expected_time.replace(tzinfo=UTC) if expected_time.tzinfo is None else expected_time
            assert row.submitted_at.to_pydatetime() == expected_time
        codes = [getattr(row, code) for code in layout]
        assert [None if math.isnan(c) else int(c) for c in codes] == [response.answers.get(code) for code in layout]
    only_paper = wide_table(db.session, questionnaire, channel="paper", statuses=("verified",))
    assert set(only_paper["channel"]) <= {"paper"} and set(only_paper["status"]) <= {"verified"}
    assert list(only_paper["id"]) == [r.id for r in stored if r.channel == "paper" and r.status == "verified"]


def test_fixed_width_read_equals_the_csv_text_read(db, demo, monkeypatch) -> None:
    """The grouped read (binary arrays on PostgreSQL, ``group_concat`` per group on
    SQLite) is taken for ordinary rows and gives exactly the frame of the CSV-text read."""
    from datetime import UTC, datetime, timedelta

    import survey.responses.wide as wide

    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).one()
    layout = questionnaire.coded_layout
    counters = db.session.scalars(sa.select(Counter).order_by(Counter.id)).all()
    rng = np.random.default_rng(9)
    for i in range(40):
        codes = rng.choice([None, 1, 2, 3, 4, 5, 9], size=len(layout))
        answers = {code: None if value is None else int(value) for code, value in zip(layout, codes, strict=True)}
        counter = counters[i % len(counters)]
        db.session.add(
            Response(
                questionnaire=questionnaire,
                channel="paper" if i % 3 == 0 else "qr",
                status="verified" if i % 2 else "submitted",
                place_id=counter.place_id,
                counter_id=None if i % 5 == 0 else counter.id,
                field_group=["dat_dai", "xay_dung", "dau_tu", "khac"][i % 4],
                receipt_code=f"F{i:04d}",
                answers=answers,
                coded=encode_coded(answers, layout),
                submitted_at=None
                if i % 7 == 3
                else datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - timedelta(days=400 * i, seconds=i),
            )
        )
    db.session.commit()
    fast_reader = "_postgresql_columns" if db.engine.dialect.name == "postgresql" else "_sqlite_columns"
    taken = []
    original = getattr(wide, fast_reader)
    monkeypatch.setattr(wide, fast_reader, lambda *a: taken.append(1) or original(*a))
    for channel in (None, "qr", "paper"):
        fast = wide_table(db.session, questionnaire, channel=channel)
        assert taken, "the fixed-width read was not used"
        taken.clear()
        with monkeypatch.context() as m:
            m.setattr(wide, fast_reader, lambda *a: None)
            text = wide_table(db.session, questionnaire, channel=channel)
        pd.testing.assert_frame_equal(fast, text)


def test_a_coded_string_of_another_width_is_named(db, demo) -> None:
    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).one()
    counter = db.session.scalars(sa.select(Counter).order_by(Counter.id)).first()
    layout = questionnaire.coded_layout
    for i, coded in enumerate(["5" * len(layout), "5" * (len(layout) - 1)]):
        db.session.add(
            Response(
                questionnaire=questionnaire,
                channel="qr",
                place_id=counter.place_id,
                counter_id=counter.id,
                field_group="khac",
                receipt_code=f"X{i}",
                answers={},
                coded=coded,
            )
        )
    db.session.commit()
    with pytest.raises(ValueError, match=f"response #1: coded answers have {len(layout) - 1} characters"):
        wide_table(db.session, questionnaire)


def _add_responses(db, questionnaire, n: int, prefix: str) -> None:
    counters = db.session.scalars(sa.select(Counter).order_by(Counter.id)).all()
    layout = questionnaire.coded_layout
    for i in range(n):
        answers = {code: (i + j) % 6 for j, code in enumerate(layout)}
        counter = counters[i % len(counters)]
        db.session.add(
            Response(
                questionnaire=questionnaire,
                channel="paper" if i % 4 == 0 else "qr",
                status="verified" if i % 3 == 0 else "submitted",
                place_id=counter.place_id,
                counter_id=counter.id,
                field_group=["dat_dai", "xay_dung", "dau_tu", "khac"][i % 4],
                receipt_code=f"{prefix}{i:04d}",
                answers=answers,
                coded=encode_coded(answers, layout),
            )
        )


def test_the_read_on_two_connections_equals_the_read_on_one_and_sees_uncommitted_rows(db, demo, monkeypatch) -> None:
    """With everything committed the read is split over a second connection (on SQLite by
    field group, on PostgreSQL by id) and gives the frame one connection gives; rows this
    session has written but not committed, which another connection cannot see, keep the
    read on the session's own connection, and are in the frame."""
    import survey.responses.wide as wide

    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).one()
    _add_responses(db, questionnaire, 25, "P")
    db.session.commit()
    second = wide._second_connection(db.session.connection())
    assert second is not None
    second.close()
    split = wide_table(db.session, questionnaire)
    with monkeypatch.context() as m:
        m.setattr(wide, "_second_connection", lambda connection: None)
        single = wide_table(db.session, questionnaire)
    pd.testing.assert_frame_equal(split, single)
    assert len(split) == 25 and set(split["field_group"]) == {"dat_dai", "xay_dung", "dau_tu", "khac"}

    _add_responses(db, questionnaire, 3, "U")
    db.session.flush()
    assert wide._second_connection(db.session.connection()) is None
    assert len(wide_table(db.session, questionnaire)) == 28
    db.session.rollback()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_reads_the_covering_index_in_group_order(db, demo) -> None:
    """On SQLite the grouped statement is a search of ``ix_response_wide`` that covers every
    column it reads (the rows with their JSON answers are not read) and needs no sort."""
    assert db.engine.dialect.name == "sqlite"
    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).one()
    _add_responses(db, questionnaire, 8, "C")
    db.session.commit()
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "group_concat" in statement:
            seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert len(wide_table(db.session, questionnaire, channel="qr")) == 6
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert seen
    for statement, parameters in seen:
        plan = " ".join(
            str(row[-1])
            for row in db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
        assert "COVERING INDEX ix_response_wide" in plan and "TEMP B-TREE" not in plan, plan
