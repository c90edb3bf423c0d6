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
import warnings
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Questionnaire, Response
from survey.models.response import CHANNELS, STATUSES
from survey.models.base import FIELD_GROUPS
from survey.responses.coded import decode_coded, decode_coded_columns

#: Design and domain columns read with every response.
DESIGN_COLUMNS = ("id", "channel", "status", "place_id", "counter_id", "field_group", "procedure_id", "submitted_at")
#: Rows per SQLite chunk (one text value of ~100 bytes per row: far below SQLite's 1 GB limit).
SQLITE_CHUNK = 500_000
#: numpy's "not a time" as int64 microseconds.
NAT = np.iinfo(np.int64).min
#: PostgreSQL's binary times count from 2000-01-01 UTC.
POSTGRES_EPOCH_US = 946_684_800_000_000


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


def _postgresql_binary(connection: sa.Connection, conditions: list[Any], width: int) -> dict[str, Any] | None:
    """``COPY (SELECT …) TO STDOUT (FORMAT binary)`` with every field of fixed width — labels
    as their position in the known list (``smallint``), missing counters, procedures and times
    as a sentinel — so the rows are one numpy record array: no text is printed or parsed.
    None if a ``coded`` string has another width (the CSV path then names it)."""
    sentinel = sa.literal_column(f"({NAT})::bigint")
    fields: list[tuple[str, str, Any]] = [
        ("id", ">i8", sa.cast(Response.id, sa.BigInteger)),
        ("channel", ">i2", _position(Response.channel, CHANNELS)),
        ("status", ">i2", _position(Response.status, STATUSES)),
        ("place_id", ">i8", sa.cast(Response.place_id, sa.BigInteger)),
        ("counter_id", ">i8", sa.func.coalesce(sa.cast(Response.counter_id, sa.BigInteger), sentinel)),
        ("field_group", ">i2", _position(Response.field_group, FIELD_GROUPS)),
        ("procedure_id", ">i8", sa.func.coalesce(sa.cast(Response.procedure_id, sa.BigInteger), sentinel)),
        # timestamptz on the wire: int64 microseconds since 2000-01-01 UTC; -infinity = int64 min
        ("submitted_at", ">i8", sa.func.coalesce(Response.submitted_at, sa.literal_column("'-infinity'::timestamptz"))),
        ("coded", f"V{width}" if width else "V1", Response.coded),
    ]
    stmt = sa.select(*(expression for _, _, expression in fields)).where(*conditions)
    sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    dbapi = connection.connection.dbapi_connection
    with dbapi.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    record = np.dtype(
        [("fields", ">i2")] + [item for name, kind, _ in fields for item in ((f"{name}_length", ">i4"), (name, kind))]
    )
    header, trailer = 19, 2  # signature, flags, extension length; the -1 field count at the end
    body = len(data) - header - trailer
    if width == 0 or body < 0 or body % record.itemsize:
        return None
    rows = np.frombuffer(data, dtype=record, offset=header, count=body // record.itemsize)
    for name, kind, _ in fields:
        expected = np.dtype(kind).itemsize
        if not (rows[f"{name}_length"] == expected).all():
            return None
    if not (rows["fields"] == len(fields)).all() or not rows.size:
        return None
    columns: dict[str, Any] = {"id": rows["id"].astype(np.int64), "place_id": rows["place_id"].astype(np.int64)}
    for name in ("channel", "status", "field_group"):
        columns[name] = rows[name].astype(np.int8)
        if (columns[name] < 0).any():
            return None
    for name in ("counter_id", "procedure_id"):
        values = rows[name].astype(np.int64)
        missing = values == NAT
        values[missing] = 0
        columns[name] = (values, missing)
    stamps = rows["submitted_at"].astype(np.int64)
    columns["submitted_at"] = np.where(stamps == NAT, NAT, stamps + POSTGRES_EPOCH_US)
    columns["coded"] = np.ndarray(
        (rows.size, width),
        dtype=np.uint8,
        buffer=data,
        offset=header + record.fields["coded"][1],
        strides=(record.itemsize, 1),
    )
    return columns


def _position(column: Any, known: tuple[str, ...]) -> Any:
    """The label's position in `known` (the check constraints allow no other value)."""
    return sa.cast(sa.case({label: i for i, label in enumerate(known)}, value=column, else_=-1), sa.SmallInteger)


def _sqlite_columns(connection: sa.Connection, conditions: list[Any], width: int) -> dict[str, Any] | None:
    """Per chunk of ids, one scan with one aggregate per column: ``group_concat`` of each
    integer column (parsed by numpy's C text reader) and one ``group_concat(…, '')`` of a
    fixed-width string per row — a character per label, the time as 26 characters
    (``YYYY-MM-DD HH:MM:SS.ffffff``, blanks for none), then ``coded`` — which numpy views as an
    ``(n, 29 + width)`` byte matrix. No ``printf`` (most of the cost of a CSV line) and no CSV
    parse. None if a value does not fit that shape (the CSV path then reads or names it)."""
    null = str(NAT)
    label_chars = [_label_char(Response.channel, CHANNELS), _label_char(Response.status, STATUSES)]
    label_chars.append(_label_char(Response.field_group, FIELD_GROUPS))
    stamp = sa.func.ifnull(sa.func.substr(Response.submitted_at.op("||")(".000000"), 1, 26), " " * 26)
    fixed = label_chars[0].op("||")(label_chars[1]).op("||")(label_chars[2]).op("||")(stamp).op("||")(Response.coded)
    inner = [
        Response.id.label("id"),
        Response.place_id.label("place_id"),
        sa.func.ifnull(Response.counter_id, null).label("counter_id"),
        sa.func.ifnull(Response.procedure_id, null).label("procedure_id"),
        fixed.label("fixed"),
    ]
    integers = ("id", "place_id", "counter_id", "procedure_id")
    parts: dict[str, list[np.ndarray]] = {name: [] for name in (*integers, "fixed")}
    last = 0
    stride = 3 + 26 + width
    while True:
        chunk = (
            sa.select(*inner).where(*conditions, Response.id > last).order_by(Response.id).limit(SQLITE_CHUNK).subquery()
        )
        aggregates = [sa.func.group_concat(chunk.c[name], ",") for name in integers]
        count, top, *texts, fixed_text = connection.execute(
            sa.select(sa.func.count(), sa.func.max(chunk.c.id), *aggregates, sa.func.group_concat(chunk.c.fixed, ""))
        ).one()
        if not count:
            break
        for name, text in zip(integers, texts, strict=True):
            with warnings.catch_warnings():  # a value that is no integer: numpy warns and stops early
                warnings.simplefilter("ignore", DeprecationWarning)
                values = np.fromstring(text, dtype=np.int64, sep=",")
            if values.size != count:
                return None
            parts[name].append(values)
        raw = np.frombuffer(fixed_text.encode("utf-8"), dtype=np.uint8)
        if raw.size != count * stride:
            return None
        parts["fixed"].append(raw.reshape(count, stride))
        if count < SQLITE_CHUNK:
            break
        last = top
    if not parts["id"]:
        return None
    fixed_rows = np.concatenate(parts["fixed"])
    columns: dict[str, Any] = {name: np.concatenate(parts[name]) for name in ("id", "place_id")}
    for name in ("counter_id", "procedure_id"):
        values = np.concatenate(parts[name])
        missing = values == NAT
        values[missing] = 0
        columns[name] = (values, missing)
    for j, (name, known) in enumerate((("channel", CHANNELS), ("status", STATUSES), ("field_group", FIELD_GROUPS))):
        codes = fixed_rows[:, j].astype(np.int8) - ord("0")
        if ((codes < 0) | (codes >= len(known))).any():
            return None
        columns[name] = codes
    stamps = _parse_times(fixed_rows[:, 3:29])
    if stamps is None:
        return None
    columns["submitted_at"] = stamps
    columns["coded"] = fixed_rows[:, 29:]
    return columns


def _label_char(column: Any, known: tuple[str, ...]) -> Any:
    """One character per label: its position in `known` as a digit (``?`` for anything else)."""
    return sa.case({label: str(i) for i, label in enumerate(known)}, value=column, else_="?")


def _parse_times(raw: np.ndarray) -> np.ndarray | None:
    """``(n, 26)`` bytes of ``YYYY-MM-DD HH:MM:SS.ffffff`` (blanks: no time) to int64
    microseconds since 1970 (:data:`NAT` for none); None if a row has another shape."""
    blank = (raw == ord(" ")).all(axis=1)
    text = raw[~blank]
    separators = {4: "-", 7: "-", 10: " ", 13: ":", 16: ":", 19: "."}
    digits = [i for i in range(26) if i not in separators]
    for i, char in separators.items():
        if not (text[:, i] == ord(char)).all():
            return None
    d = text[:, digits].astype(np.int64) - ord("0")
    if ((d < 0) | (d > 9)).any():
        return None

    def number(start: int, length: int) -> np.ndarray:
        out = np.zeros(len(d), dtype=np.int64)
        for k in range(start, start + length):
            out = out * 10 + d[:, k]
        return out

    year, month, day = number(0, 4), number(4, 2), number(6, 2)
    # days since 1970-01-01 (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    seconds = days * 86400 + number(8, 2) * 3600 + number(10, 2) * 60 + number(12, 2)
    out = np.full(len(raw), NAT, dtype=np.int64)
    out[~blank] = seconds * 1_000_000 + number(14, 6)
    return out


def _sqlite_texts(connection: sa.Connection, conditions: list[Any]) -> list[bytes]:
    """One CSV text per chunk of ids: ``group_concat`` of one ``printf`` line per response
    (NULL prints as an empty field), keyed on the id so each chunk is an index range scan."""
    texts = []
    last = 0
    while True:
        line = sa.func.printf(
            "%s,%s,%s,%s,%s,%s,%s,%s,%s", *(getattr(Response, c) for c in DESIGN_COLUMNS), Response.coded
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
    """The wide frame from the parsed Arrow table of the CSV-text path (no Python object per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    columns: dict[str, Any] = {}
    for name in ("id", "place_id"):
        columns[name] = table.column(name).to_numpy().astype(np.int64, copy=False)
    for name in ("counter_id", "procedure_id"):
        column = table.column(name)
        values = pc.fill_null(column, 0).to_numpy().astype(np.int64, copy=False)
        columns[name] = (values, column.is_null().to_numpy(zero_copy_only=False))
    for name, known in (("channel", CHANNELS), ("status", STATUSES), ("field_group", FIELD_GROUPS)):
        codes = pc.index_in(table.column(name), value_set=pa.array(known)).to_numpy(zero_copy_only=False)
        columns[name] = codes.astype(np.int8)
    stamps = table.column("submitted_at")
    if timestamps == "epoch_us":
        stamps = stamps.cast(pa.timestamp("us"))
    columns["submitted_at"] = pc.fill_null(stamps.cast(pa.int64()), NAT).to_numpy()
    coded = table.column("coded").combine_chunks()
    width = len(layout)
    offsets = np.frombuffer(coded.buffers()[1], dtype=np.int32)[coded.offset : coded.offset + n + 1]
    if n and np.all(np.diff(offsets) == width):
        columns["coded"] = np.frombuffer(coded.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(n, width)
    else:  # a string of the wrong length: the text decoder names it
        columns["coded"] = decode_coded(coded.to_pylist(), width)
    return _assemble(columns, layout)


def _categorical(codes: np.ndarray, known: tuple[str, ...]) -> pd.Categorical:
    """Positions in `known` as a Categorical whose categories are the labels present, sorted."""
    present = np.bincount(codes, minlength=len(known)) > 0
    labels = sorted(label for label, here in zip(known, present, strict=False) if here)
    recode = np.full(len(known), -1, dtype=np.int8)
    for i, label in enumerate(labels):
        recode[known.index(label)] = i
    return pd.Categorical.from_codes(recode[codes], categories=pd.Index(labels, dtype=object), validate=False)


def _assemble(columns: dict[str, Any], layout: list[str]) -> pd.DataFrame:
    """The wide frame from plain arrays: ids and places as int64, counters and procedures as
    ``(values, missing)``, labels as int8 positions in their known lists, times as int64
    microseconds since 1970 UTC (:data:`NAT` = none), ``coded`` as an ``(n, width)`` byte
    matrix (or, from the text decoder, already a float matrix). The items are decoded straight
    into the ``(width, n)`` block pandas keeps, so nothing is copied into the frame."""
    order = None if _monotonic(columns["id"]) else np.argsort(columns["id"], kind="stable")

    def ordered(values: np.ndarray) -> np.ndarray:
        return values if order is None else values[order]

    data: dict[str, Any] = {name: ordered(columns[name]) for name in ("id",)}
    data["channel"] = _categorical(ordered(columns["channel"]), CHANNELS)
    data["status"] = _categorical(ordered(columns["status"]), STATUSES)
    data["place_id"] = ordered(columns["place_id"])
    for name in ("counter_id", "procedure_id"):
        values, missing = columns[name]
        data[name] = pd.arrays.IntegerArray(ordered(values), ordered(missing))
    data["field_group"] = _categorical(ordered(columns["field_group"]), FIELD_GROUPS)
    stamps = ordered(columns["submitted_at"]).view("datetime64[us]")
    data["submitted_at"] = pd.DatetimeIndex(stamps).tz_localize("UTC").array
    coded = columns["coded"]
    if coded.dtype == np.uint8:
        items = decode_coded_columns(ordered(coded))
    else:
        items = np.ascontiguousarray(ordered(coded).T)
    for j, code in enumerate(layout):
        data[code] = items[j]
    return pd.DataFrame(data, columns=[*DESIGN_COLUMNS, *layout], copy=False)


def _monotonic(values: np.ndarray) -> bool:
    return bool(values.size < 2 or (values[1:] >= values[:-1]).all())


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
    postgresql = connection.dialect.name == "postgresql"
    if layout:
        read = _postgresql_binary if postgresql else _sqlite_columns
        columns = read(connection, conditions, len(layout))
        if columns is not None:
            return _assemble(columns, layout)
    # the CSV-text path: an empty result, or a value the fixed-width reads cannot take
    if postgresql:
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
            "submitted_at": pd.Series(dtype="datetime64[us, UTC]"),
        }
    )
    return pd.concat([frame, pd.DataFrame(np.empty((0, len(layout))), columns=layout)], axis=1)
