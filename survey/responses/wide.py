"""Reading stored responses the way the analysis needs them.

`wide_table` turns responses into one row per response with the design columns and one
small-integer column per ``scale`` question. The item codes come from ``Response.coded``
(one digit per scale question, ``.`` for no answer), so a million responses are one column
scan and a vectorised byte decode — no JSON parsing, no pivot of an answers table.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Questionnaire, Response
from survey.models.response import CHANNELS, STATUSES
from survey.responses.coded import decode_coded

#: Design and domain columns read with every response.
DESIGN_COLUMNS = ("id", "channel", "status", "place_id", "counter_id", "field_group", "procedure_id", "submitted_at")


def wide_statement(questionnaire_id: int, statuses: tuple[str, ...], channel: str | None = None) -> sa.Select:
    columns = [getattr(Response, c) for c in DESIGN_COLUMNS]
    stmt = sa.select(*columns, Response.coded).where(
        Response.questionnaire_id == questionnaire_id, Response.status.in_(statuses)
    )
    return stmt if channel is None else stmt.where(Response.channel == channel)


def _fetch(connection: sa.Connection, sql: str) -> pd.DataFrame:
    """Run `sql` at the driver level: COPY … TO STDOUT on PostgreSQL (parsed by pandas'
    C reader), a plain DB-API cursor (tuples, no Row objects) on SQLite."""
    names = [*DESIGN_COLUMNS, "coded"]
    dbapi = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        with dbapi.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        if buffer.tell() == 0:
            return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
        buffer.seek(0)
        return pd.read_csv(
            buffer, header=None, names=names, dtype={"coded": str}, keep_default_na=False, na_values=[""]
        )
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame(rows, columns=names)


def wide_table(
    session: Session,
    questionnaire: Questionnaire,
    *,
    statuses: tuple[str, ...] = ("submitted", "verified"),
    channel: str | None = None,
) -> pd.DataFrame:
    """One row per response of `questionnaire`: design columns plus one column per scale
    question (float: the code, NaN for no answer).

    The query runs at the driver level (no per-row ORM or type processing: that is most of
    the cost at a million rows); timestamps are converted once, column-wise."""
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown status {sorted(unknown)!r}")
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    layout: list[str] = list(questionnaire.coded_layout)
    connection = session.connection()
    sql = str(
        wide_statement(questionnaire.id, statuses, channel).compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    frame = _fetch(connection, sql)
    for name in ("id", "place_id"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("counter_id", "procedure_id"):
        frame[name] = frame[name].astype("Int64")
    for name in ("channel", "status", "field_group"):
        frame[name] = frame[name].astype("category")
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True, format="ISO8601")
    items = decode_coded(frame.pop("coded").tolist(), len(layout))
    frame = pd.concat([frame, pd.DataFrame(items, columns=layout, index=frame.index)], axis=1)
    return frame.sort_values("id", kind="stable", ignore_index=True)
