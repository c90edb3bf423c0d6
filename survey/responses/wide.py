"""Reading stored responses the way the analysis needs them.

`wide_table` turns responses into one row per response with the design columns and one
small-integer column per ``scale`` question. The item codes come from ``Response.coded``
(one digit per scale question, ``.`` for no answer), so a million responses are one column
scan and a vectorised byte decode — no JSON parsing, no pivot of an answers table.

The rows never become Python objects: the database writes them as CSV text — ``COPY …
TO STDOUT`` on PostgreSQL, one ``group_concat`` of ``printf`` lines per chunk of ids on
SQLite — and Arrow's CSV reader parses that text into typed columns (integers, dictionary
strings, timestamps); the ``coded`` strings, all of one width, are Arrow's character buffer
viewed as an ``(n, width)`` byte matrix.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Questionnaire, Response
from survey.models.response import CHANNELS, STATUSES
from survey.responses.coded import decode_coded, decode_coded_bytes

#: Design and domain columns read with every response.
DESIGN_COLUMNS = (
    "id",
    "channel",
    "status",
    "place_id",
    "counter_id",
    "field_group",
    "procedure_id",
    "mode",
    "submitted_at",
)
#: Label columns, read as categories (``mode``: how a paper-channel interview was made —
#: ``paper`` keyed, ``face``/``phone`` from the interviewer app; missing for QR responses).
LABEL_COLUMNS = ("channel", "status", "field_group", "mode")
#: Rows per SQLite chunk (one text value of ~100 bytes per row: far below SQLite's 1 GB limit).
SQLITE_CHUNK = 500_000


def _conditions(questionnaire_id: int, statuses: tuple[str, ...], channel: str | None) -> list[Any]:
    conditions = [Response.questionnaire_id == questionnaire_id, Response.status.in_(statuses)]
    return conditions if channel is None else [*conditions, Response.channel == channel]


def wide_statement(questionnaire_id: int, statuses: tuple[str, ...], channel: str | None = None) -> sa.Select:
    columns = [getattr(Response, c) for c in DESIGN_COLUMNS]
    return sa.select(*columns, Response.coded).where(*_conditions(questionnaire_id, statuses, channel))


def _read_text(text: bytes, timestamps: str) -> Any:
    """Parse the CSV text of the design columns and ``coded`` into an Arrow table."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    labels = pa.dictionary(pa.int32(), pa.string())
    types = {
        "id": pa.int64(),
        "channel": labels,
        "status": labels,
        "place_id": pa.int64(),
        "counter_id": pa.int64(),
        "field_group": labels,
        "procedure_id": pa.int64(),
        "mode": labels,
        "submitted_at": pa.int64() if timestamps == "epoch_us" else pa.timestamp("us"),
        "coded": pa.string(),
    }
    return pacsv.read_csv(
        pa.BufferReader(text),
        read_options=pacsv.ReadOptions(column_names=list(types), block_size=16 << 20),
        parse_options=pacsv.ParseOptions(newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types=types, null_values=[""], strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )


def _postgresql_text(connection: sa.Connection, conditions: list[Any]) -> bytes:
    """``COPY (SELECT …) TO STDOUT`` as CSV; the time as integer microseconds since 1970 UTC
    (exact: ``extract`` returns numeric), so no time zone or format to parse."""
    micros = sa.cast(sa.extract("epoch", Response.submitted_at) * 1_000_000, sa.BigInteger)
    columns = [getattr(Response, c) for c in DESIGN_COLUMNS[:-1]]
    stmt = sa.select(*columns, micros, Response.coded).where(*conditions)
    sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    buffer = io.BytesIO()
    dbapi = connection.connection.dbapi_connection
    with dbapi.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
        for chunk in copy:
            buffer.write(chunk)
    return buffer.getvalue()


def _sqlite_texts(connection: sa.Connection, conditions: list[Any]) -> list[bytes]:
    """One CSV text per chunk of ids: ``group_concat`` of one ``printf`` line per response
    (NULL prints as an empty field), keyed on the id so each chunk is an index range scan."""
    texts = []
    last = 0
    while True:
        line = sa.func.printf(
            "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s", *(getattr(Response, c) for c in DESIGN_COLUMNS), Response.coded
        )
        chunk = (
            sa.select(Response.id.label("id"), line.label("line"))
            .where(*conditions, Response.id > last)
            .order_by(Response.id)
            .limit(SQLITE_CHUNK)
            .subquery()
        )
        count, top, text = connection.execute(
            sa.select(sa.func.count(), sa.func.max(chunk.c.id), sa.func.group_concat(chunk.c.line, "\n"))
        ).one()
        if not count:
            return texts
        texts.append(text.encode("utf-8") + b"\n")
        if count < SQLITE_CHUNK:
            return texts
        last = top


def _frame(table: Any, layout: list[str], timestamps: str) -> pd.DataFrame:
    """The wide frame from the parsed Arrow table (no Python object per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    columns: dict[str, Any] = {}
    for name in ("id", "place_id"):
        columns[name] = table.column(name).to_numpy().astype(np.int64, copy=False)
    for name in ("counter_id", "procedure_id"):
        column = table.column(name)
        values = pc.fill_null(column, 0).to_numpy().astype(np.int64, copy=False)
        columns[name] = pd.arrays.IntegerArray(values, column.is_null().to_numpy(zero_copy_only=False))
    for name in LABEL_COLUMNS:
        categorical = table.column(name).to_pandas()
        # an empty field is no value (the CSV reader keeps it as the empty string)
        columns[name] = categorical.cat.set_categories(sorted(c for c in categorical.cat.categories if c != ""))
    stamps = table.column("submitted_at")
    if timestamps == "epoch_us":
        stamps = stamps.cast(pa.timestamp("us"))
    columns["submitted_at"] = pd.Series(stamps.to_pandas()).dt.tz_localize("UTC")
    coded = table.column("coded").combine_chunks()
    width = len(layout)
    offsets = np.frombuffer(coded.buffers()[1], dtype=np.int32)[coded.offset : coded.offset + n + 1]
    if n and np.all(np.diff(offsets) == width):
        raw = np.frombuffer(coded.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(n, width)
        items = decode_coded_bytes(raw)
    else:  # a string of the wrong length: the text decoder names it
        items = decode_coded(coded.to_pylist(), width)
    frame = pd.DataFrame({name: columns[name] for name in DESIGN_COLUMNS})
    frame = pd.concat([frame, pd.DataFrame(items, columns=layout, index=frame.index)], axis=1)
    if not frame["id"].is_monotonic_increasing:
        frame = frame.sort_values("id", kind="stable", ignore_index=True)
    return frame


def wide_table(
    session: Session,
    questionnaire: Questionnaire,
    *,
    statuses: tuple[str, ...] = ("submitted", "verified"),
    channel: str | None = None,
) -> pd.DataFrame:
    """One row per response of `questionnaire`, in id order: design columns plus one column
    per scale question (float: the code, NaN for no answer).

    The database writes the rows as CSV text and Arrow parses it (see the module docstring):
    no per-row ORM, driver or Python object work, which is most of the cost at a million rows."""
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown status {sorted(unknown)!r}")
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    import pyarrow as pa

    layout: list[str] = list(questionnaire.coded_layout)
    connection = session.connection()
    conditions = _conditions(questionnaire.id, statuses, channel)
    if connection.dialect.name == "postgresql":
        texts, timestamps = [_postgresql_text(connection, conditions)], "epoch_us"
    else:
        texts, timestamps = _sqlite_texts(connection, conditions), "text"
    texts = [text for text in texts if text]
    if not texts:
        return _empty(layout)
    table = pa.concat_tables([_read_text(text, timestamps) for text in texts], promote_options="permissive")
    return _frame(table, layout, timestamps)


def _empty(layout: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "id": pd.Series(dtype=np.int64),
            "channel": pd.Series(dtype="category"),
            "status": pd.Series(dtype="category"),
            "place_id": pd.Series(dtype=np.int64),
            "counter_id": pd.Series(dtype="Int64"),
            "field_group": pd.Series(dtype="category"),
            "procedure_id": pd.Series(dtype="Int64"),
            "mode": pd.Series(dtype="category"),
            "submitted_at": pd.Series(dtype="datetime64[us, UTC]"),
        }
    )
    return pd.concat([frame, pd.DataFrame(np.empty((0, len(layout))), columns=layout)], axis=1)
