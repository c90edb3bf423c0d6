"""Reading stored responses the way the analysis needs them.

`wide_table` turns responses into one row per response with the design columns and one
small-integer column per ``scale`` question. The item codes come from ``Response.coded``
(one digit per scale question, ``.`` for no answer), so a million responses are one column
scan and a vectorised byte decode — no JSON parsing, no pivot of an answers table.

The rows never become Python objects and are not printed as text to be parsed back: every
field is made fixed-width in SQL (labels as their position in the known list, missing values
as a sentinel) — a binary ``COPY`` that numpy views as one record array on PostgreSQL, one
``group_concat`` per column per chunk of ids on SQLite — and the ``coded`` bytes are decoded
with one table look-up straight into the frame's item block. What does not fit that shape
(a ``coded`` string of another width…) goes through the older CSV-text read, which names it.
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
from survey.models.base import FIELD_GROUPS
from survey.models.response import CHANNELS, MODES, STATUSES
from survey.responses.coded import decode_coded, decode_coded_columns

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
#: ``mode``: how a paper-channel interview was made (``paper`` keyed, ``face``/``phone`` from
#: the interviewer app); missing for QR responses — the one label that may be missing.
#: Ids per SQLite chunk (one text value of ~100 bytes per row: far below SQLite's 1 GB limit).
SQLITE_CHUNK = 500_000
#: numpy's "not a time" as int64 microseconds.
NAT = np.iinfo(np.int64).min
#: Ids per PostgreSQL chunk (~70 bytes a row: one ``bytea`` far below its 1 GB limit).
POSTGRES_CHUNK = 2_000_000
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


def _postgresql_binary(connection: sa.Connection, conditions: list[Any], width: int) -> dict[str, Any] | None:
    """Per range of :data:`POSTGRES_CHUNK` ids, one ``string_agg`` of a fixed-width binary record per row — integers
    through ``int8send``/``int2send`` (big-endian), labels as their position in the known
    list, missing counters, procedures and times as a sentinel, the time through
    ``timestamptz_send`` (int64 microseconds since 2000-01-01 UTC; ``-infinity`` is the int64
    minimum), then the ``coded`` bytes — so a chunk is one ``bytea`` value that numpy views as
    a record array: no text printed or parsed, and no Python work per row (a ``COPY`` hands
    the client one message per row, which psycopg turns into a Python call each). None if a
    ``coded`` string has another width (the CSV path then names it)."""
    sentinel = sa.literal_column(f"({NAT})::bigint")

    def send(kind: str, value: Any) -> Any:
        sql_type = sa.BigInteger if kind == ">i8" else sa.SmallInteger
        return getattr(sa.func, "int8send" if kind == ">i8" else "int2send")(sa.cast(value, sql_type))

    fields: list[tuple[str, str, Any]] = [
        ("id", ">i8", send(">i8", Response.id)),
        ("channel", ">i2", send(">i2", _position(Response.channel, CHANNELS))),
        ("status", ">i2", send(">i2", _position(Response.status, STATUSES))),
        ("place_id", ">i8", send(">i8", Response.place_id)),
        (
            "counter_id",
            ">i8",
            sa.func.int8send(sa.func.coalesce(sa.cast(Response.counter_id, sa.BigInteger), sentinel)),
        ),
        ("field_group", ">i2", send(">i2", _position(Response.field_group, FIELD_GROUPS))),
        (
            "procedure_id",
            ">i8",
            sa.func.int8send(sa.func.coalesce(sa.cast(Response.procedure_id, sa.BigInteger), sentinel)),
        ),
        ("mode", ">i2", send(">i2", _position(Response.mode, MODES))),  # -1: none
        (
            "submitted_at",
            ">i8",
            sa.func.timestamptz_send(
                sa.func.coalesce(Response.submitted_at, sa.literal_column("'-infinity'::timestamptz"))
            ),
        ),
        ("coded", f"V{width}", sa.func.convert_to(Response.coded, "UTF8")),
    ]
    record = np.dtype([(name, kind) for name, kind, _ in fields])
    blob = fields[0][2]
    for _, _, expression in fields[1:]:
        blob = blob.op("||")(expression)
    other_width = sa.case((sa.func.octet_length(Response.coded) != width, 1), else_=0)
    statement = sa.select(
        sa.func.count(),
        sa.func.string_agg(blob, sa.literal_column("''::bytea"), type_=sa.LargeBinary),
        sa.func.sum(other_width),
    )
    low, high = connection.execute(sa.select(sa.func.min(Response.id), sa.func.max(Response.id))).one()
    parts: list[np.ndarray] = []
    for first in range(low or 0, (high or -1) + 1, POSTGRES_CHUNK):  # id ranges: no sort
        where = [*conditions, Response.id >= first, Response.id < first + POSTGRES_CHUNK]
        count, data, others = connection.execute(statement.where(*where)).one()
        if not count:
            continue
        if others or len(data) != count * record.itemsize:
            return None
        parts.append(np.frombuffer(data, dtype=record))
    if not parts:
        return None
    rows = parts[0] if len(parts) == 1 else np.concatenate(parts)
    columns: dict[str, Any] = {"id": rows["id"].astype(np.int64), "place_id": rows["place_id"].astype(np.int64)}
    for name in ("channel", "status", "field_group"):
        columns[name] = rows[name].astype(np.int8)
        if (columns[name] < 0).any():
            return None
    columns["mode"] = rows["mode"].astype(np.int8)
    for name in ("counter_id", "procedure_id"):
        values = rows[name].astype(np.int64)
        missing = values == NAT
        values[missing] = 0
        columns[name] = (values, missing)
    stamps = rows["submitted_at"].astype(np.int64)
    columns["submitted_at"] = np.where(stamps == NAT, NAT, stamps + POSTGRES_EPOCH_US)
    columns["coded"] = np.ndarray(
        (rows.size, width), dtype=np.uint8, buffer=rows, offset=record.fields["coded"][1], strides=(record.itemsize, 1)
    )
    return columns


def _position(column: Any, known: tuple[str, ...]) -> Any:
    """The label's position in `known` (the check constraints allow no other value)."""
    return sa.cast(sa.case({label: i for i, label in enumerate(known)}, value=column, else_=-1), sa.SmallInteger)


def _sqlite_columns(connection: sa.Connection, conditions: list[Any], width: int) -> dict[str, Any] | None:
    """Per range of :data:`SQLITE_CHUNK` ids (a range scan; no ``ORDER BY … LIMIT``, which
    sorted every chunk in a temporary B-tree), one scan with one aggregate per column:
    ``group_concat`` of each integer column (parsed by numpy's C text reader) and one
    ``group_concat(…, '')`` of a fixed-width string per row — one character per label, the time
    as 26 characters (``YYYY-MM-DD HH:MM:SS.ffffff``, blanks for none), then ``coded`` — which
    numpy views as an ``(n, 29 + width)`` byte matrix. No ``printf`` (most of the cost of a CSV
    line) and no CSV parse. None if a value does not fit that shape (the CSV path then reads or
    names it)."""
    null = str(NAT)
    labels = (("channel", CHANNELS), ("status", STATUSES), ("field_group", FIELD_GROUPS))
    chars = [_label_char(getattr(Response, name), known) for name, known in labels]
    mode_char, mode_table = _label_char(Response.mode, MODES)
    stamp = sa.func.ifnull(sa.func.substr(Response.submitted_at.op("||")(".000000"), 1, 26), " " * 26)
    fixed = chars[0][0].op("||")(chars[1][0]).op("||")(chars[2][0])
    fixed = fixed.op("||")(sa.func.ifnull(mode_char, " ")).op("||")(stamp).op("||")(Response.coded)
    integers = {
        "id": Response.id,
        "place_id": Response.place_id,
        "counter_id": sa.func.ifnull(Response.counter_id, null),
        "procedure_id": sa.func.ifnull(Response.procedure_id, null),
    }
    aggregates = [sa.func.group_concat(expression, ",") for expression in integers.values()]
    other_width = sa.func.sum(sa.case((sa.func.length(Response.coded) != width, 1), else_=0))
    statement = sa.select(sa.func.count(), other_width, *aggregates, sa.func.group_concat(fixed, ""))
    low, high = connection.execute(sa.select(sa.func.min(Response.id), sa.func.max(Response.id))).one()
    parts: dict[str, list[np.ndarray]] = {name: [] for name in (*integers, "fixed")}
    stride = 4 + 26 + width
    for first in range(low or 0, (high or -1) + 1, SQLITE_CHUNK):
        where = [*conditions, Response.id >= first, Response.id < first + SQLITE_CHUNK]
        count, others, *texts, fixed_text = connection.execute(statement.where(*where)).one()
        if not count:
            continue
        if others:
            return None
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
    if not parts["id"]:
        return None
    fixed_rows = parts["fixed"][0] if len(parts["fixed"]) == 1 else np.concatenate(parts["fixed"])
    columns: dict[str, Any] = {name: np.concatenate(parts[name]) for name in ("id", "place_id")}
    for name in ("counter_id", "procedure_id"):
        values = np.concatenate(parts[name])
        missing = values == NAT
        values[missing] = 0
        columns[name] = (values, missing)
    for j, ((name, _known), (_expression, table)) in enumerate(zip(labels, chars, strict=True)):
        codes = table[fixed_rows[:, j]]
        if (codes < 0).any():
            return None
        columns[name] = codes
    columns["mode"] = mode_table[fixed_rows[:, 3]]  # a blank (no mode) is -1
    stamps = _parse_times(fixed_rows[:, 4:30])
    if stamps is None:
        return None
    columns["submitted_at"] = stamps
    columns["coded"] = fixed_rows[:, 30:]
    return columns


def _label_char(column: Any, known: tuple[str, ...]) -> tuple[Any, np.ndarray]:
    """One ASCII character per label and the table from that character (byte) back to the
    label's position in `known` (-1: none). The character is the label's ``i``-th for the
    first ``i`` at which the known labels all differ (a ``substr`` costs SQLite far less than
    a ``CASE`` of string comparisons); if there is none, a ``CASE`` gives the position as a
    digit. The check constraints allow no label outside `known`."""
    table = np.full(256, -1, dtype=np.int8)
    longest = max(len(label) for label in known)
    for i in range(longest):
        keys = [label[i] if i < len(label) else "" for label in known]
        if all(len(key) == 1 and key.isascii() for key in keys) and len(set(keys)) == len(keys):
            for position, key in enumerate(keys):
                table[ord(key)] = position
            return sa.func.substr(column, i + 1, 1), table
    for position in range(len(known)):
        table[ord("0") + position] = position
    return sa.case({label: str(i) for i, label in enumerate(known)}, value=column, else_="?"), table


def _parse_times(raw: np.ndarray) -> np.ndarray | None:
    """``(n, 26)`` bytes of ``YYYY-MM-DD HH:MM:SS.ffffff`` (blanks: no time) to int64
    microseconds since 1970 (:data:`NAT` for none); None if a row has another shape."""
    blank = (raw == ord(" ")).all(axis=1)
    text = raw[~blank]
    separators = {4: "-", 7: "-", 10: " ", 13: ":", 16: ":", 19: "."}
    for i, char in separators.items():
        if not (text[:, i] == ord(char)).all():
            return None
    digits = [i for i in range(26) if i not in separators]
    if ((text[:, digits] - ord("0")) > 9).any():  # uint8: a byte below "0" wraps round too
        return None

    def number(start: int, length: int) -> np.ndarray:
        out = text[:, start].astype(np.int64) - ord("0")
        for k in range(start + 1, start + length):
            out *= 10
            out += text[:, k]
            out -= ord("0")
        return out

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    # days since 1970-01-01 (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    seconds = days * 86400 + number(11, 2) * 3600 + number(14, 2) * 60 + number(17, 2)
    out = np.full(len(raw), NAT, dtype=np.int64)
    out[~blank] = seconds * 1_000_000 + number(20, 6)
    return out


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
    mode = pc.index_in(table.column("mode"), value_set=pa.array(MODES))
    columns["mode"] = pc.fill_null(mode, -1).to_numpy(zero_copy_only=False).astype(np.int8)
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
    """Positions in `known` as a Categorical whose categories are the labels present, sorted
    (a position of -1 is no value)."""
    present = np.bincount(codes[codes >= 0], minlength=len(known)) > 0
    labels = sorted(label for label, here in zip(known, present, strict=False) if here)
    recode = np.full(len(known) + 1, -1, dtype=np.int8)  # the last one: -1 stays -1
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
    data["mode"] = _categorical(ordered(columns["mode"]), MODES)
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
            "mode": pd.Series(dtype="category"),
            "submitted_at": pd.Series(dtype="datetime64[us, UTC]"),
        }
    )
    return pd.concat([frame, pd.DataFrame(np.empty((0, len(layout))), columns=layout)], axis=1)
