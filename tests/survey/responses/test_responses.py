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


@pytest.mark.parametrize(
    ("coded", "message"),
    [(["12", "123"], "expected 3"), (["1234", "12"], "#0: coded answers have 4"), (["1x3"], "neither a digit")],
)
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


@pytest.mark.parametrize("placed", ["by id", "in read order"])
def test_wide_table_matches_the_stored_rows_column_by_column(db, demo, monkeypatch, placed: str) -> None:
    """The read (grouped chunks: array_agg on PostgreSQL, group_concat on SQLite) gives
    every stored value with its type: ids, categories, missing counters and procedures, times
    to the microsecond in UTC, blanks and every digit of the coded string — checked against
    the ORM objects, with parts of at most 7 ids (ranges on SQLite, remainders on PostgreSQL) so
    that several parts are read.
    On SQLite the groups are decoded in batches of 3 responses or more (so several batches
    are decoded on the second thread while the read goes on), each response placed by its id
    (drafts leave gaps among the places) or kept in read order and sorted at the end."""
    from datetime import UTC, datetime, timedelta

    import survey.responses.wide
    from survey.models import Procedure

    monkeypatch.setattr(survey.responses.wide, "SQLITE_CHUNK", 7)
    monkeypatch.setattr(survey.responses.wide, "POSTGRES_CHUNK", 7)
    monkeypatch.setattr(survey.responses.wide, "SQLITE_BATCH", 3)
    if placed == "in read order":
        monkeypatch.setattr(survey.responses.wide, "SQLITE_SPREAD", 0.0)
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
    monkeypatch.setattr(wide, "SQLITE_BATCH", 5)
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


@pytest.mark.parametrize(("widths", "bad"), [((0, -1), 1), ((1, -1), 0)])
def test_a_coded_string_of_another_width_is_named(db, demo, widths: tuple[int, int], bad: int) -> None:
    """A ``coded`` string of another width goes to the CSV path, which names it — also when
    a longer and a shorter one in one group have the right length together (the commas
    between the values are then out of place)."""
    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).one()
    counter = db.session.scalars(sa.select(Counter).order_by(Counter.id)).first()
    layout = questionnaire.coded_layout
    for i, coded in enumerate("5" * (len(layout) + extra) for extra in widths):
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
    with pytest.raises(ValueError, match=f"response #{bad}: coded answers have {len(layout) + widths[bad]} characters"):
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
    """With everything committed a second connection takes part (on PostgreSQL half the
    ids are read on it; on SQLite it counts the responses while the read starts) and the
    frame is the one a single connection gives; rows this session has written but not
    committed, which another connection cannot see, keep the read on the session's own
    connection, and are in the frame."""
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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's query plan: no PostgreSQL case
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


def test_sqlite_batches_when_the_count_differs_from_the_responses_read() -> None:
    """The SQLite read counts the responses before reading them; a response committed in
    between makes them more. Placed by id, the extra one has its place and the float
    columns are made for what was read; kept in read order (ids spread out), there is no
    room for it and the read gives way to the CSV path."""
    from concurrent.futures import ThreadPoolExecutor

    import survey.responses.wide as wide

    blank = b" " * 26
    group = ("submitted", "qr", "khac", None, 4, 7, None)
    first = (*group, 2, b"1,3", blank + b",2026-03-01 07:30:15.000123", b"12.,459")
    second = (*group[:4], 5, None, 2, 1, b"2", blank, b"..9")
    placed = wide._Placed(1, 3, 3)
    placed.prepare(2)  # 3 ids for 2 responses: placed by id
    placed.add([first])
    placed.add([second])
    with ThreadPoolExecutor(max_workers=1) as pool:
        columns = placed.columns(pool)
    assert list(columns["id"]) == [1, 2, 3] and list(columns["place_id"]) == [4, 5, 4]
    assert list(columns["counter_id"][1]) == [False, True, False] and list(columns["procedure_id"][0]) == [0, 2, 0]
    assert list(columns["submitted_at"][:2]) == [wide.NAT, wide.NAT] and columns["submitted_at"][2] > 0
    items = np.array(columns["items"])
    np.testing.assert_array_equal(items, [[1, np.nan, 4], [2, np.nan, 5], [np.nan, 9, 9]])

    spread = wide._Placed(1, 100, 3)
    spread.prepare(2)  # 100 ids for 2 responses: kept in read order, room for 2
    spread.add([first])
    with pytest.raises(wide._Unfit):
        spread.add([second])


def test_other_questionnaires_responses_do_not_multiply_the_statements(db, demo, monkeypatch) -> None:
    """Other questionnaires' responses among and after this one's (a new version each year,
    the short form beside the long one) make the table's ids span many ranges.

    SQLite reads by ranges of ids, and each walks the questionnaire's whole part of
    ``ix_response_wide`` (``id`` comes after the grouped columns): it counts its own responses
    and takes their smallest and largest id first, and reads them with one statement when they
    are at most a range's worth. PostgreSQL reads parts of equal size (ids by remainder), each
    through ``ix_response_wide`` in group order whatever the planner estimates — no sort, no
    hash, no parallel workers — and its settings are as they were afterwards. Both give the
    frame of the CSV-text read."""
    import survey.responses.wide as wide

    monkeypatch.setattr(wide, "SQLITE_CHUNK", 12)
    monkeypatch.setattr(wide, "POSTGRES_CHUNK", 12)
    slugs = ("sipas-dich-vu", "sipas-ngan")
    ours, other = (db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == s)).one() for s in slugs)
    for block in range(5):
        _add_responses(db, other, 6, f"O{block}")
        _add_responses(db, ours, 2, f"S{block}")
    _add_responses(db, other, 10, "Z")
    db.session.commit()
    expected = db.session.scalars(
        sa.select(Response.id).where(Response.questionnaire_id == ours.id).order_by(Response.id)
    ).all()
    span = db.session.execute(sa.select(sa.func.max(Response.id) - sa.func.min(Response.id) + 1)).scalar_one()
    assert len(expected) == 10 and span > 4 * 12  # the table's ids: more than four ranges

    statements: list[str] = []
    plans: list[str] = []
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        original = wide._execute

        def execute(on: sa.Connection, statement: sa.Select) -> list:
            sql = str(statement.compile(dialect=on.dialect, compile_kwargs={"literal_binds": True}))
            plans.append("\n".join(row[0] for row in on.exec_driver_sql(f"EXPLAIN {sql}")))
            statements.append(sql)
            return original(on, statement)

        monkeypatch.setattr(wide, "_execute", execute)
        # index scans made to look dear, on both connections: left to itself the planner
        # would now scan the table and sort or hash
        dear = sa.text("SELECT set_config('random_page_cost', '1000', true)")
        db.session.execute(dear)
        second_connection = wide._second_connection

        def second(connection: sa.Connection) -> sa.Connection | None:
            other = second_connection(connection)
            if other is not None:
                other.execute(dear)
            return other

        monkeypatch.setattr(wide, "_second_connection", second)
    else:

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            if "group_concat" in statement:
                statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        frame = wide_table(db.session, ours)
    finally:
        if not postgresql:
            sa.event.remove(db.engine, "before_cursor_execute", record)
    assert list(frame["id"]) == expected
    if postgresql:
        assert len(statements) == -(-span // 12), statements
        for plan in plans:
            assert "ix_response_wide" in plan and "GroupAggregate" in plan, plan
            assert not any(word in plan for word in ("Sort", "Seq Scan", "HashAggregate", "Gather")), plan
        settings = db.session.execute(
            sa.text("SELECT current_setting('enable_sort'), current_setting('enable_hashagg')")
        )
        assert tuple(settings.one()) == ("on", "on")
    else:
        assert len(statements) == 1, statements

    reader = "_postgresql_columns" if postgresql else "_sqlite_columns"
    monkeypatch.setattr(wide, reader, lambda *a: None)
    pd.testing.assert_frame_equal(frame, wide_table(db.session, ours))
