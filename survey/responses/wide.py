"""Reading stored responses the way the analysis needs them.

`wide_table` turns responses into one row per response with the design columns and one
small-integer column per ``scale`` question. The item codes come from ``Response.coded``
(one digit per scale question, ``.`` for no answer), so a million responses are one column
scan and a vectorised byte decode — no JSON parsing, no pivot of an answers table.

The read touches only narrow data: every column it needs is in the index ``ix_response_wide``
(questionnaire, status, channel, field group, mode, place, counter, procedure, id, time,
coded), so SQLite searches that index instead of reading the rows with their JSON answers,
and PostgreSQL does an index-only scan. It groups by the columns that repeat (status to
procedure, in the index's order: no sort), so those come once per group — a few hundred for
a million responses — and only the id, the time and ``coded`` once per row: comma-joined
``group_concat`` texts numpy parses or views as byte matrices on SQLite,
``array_send(array_agg(…))`` binary arrays numpy views as records on PostgreSQL. No row
becomes a Python object. Both cores work: on SQLite the groups are decoded in a second
thread while SQLite reads the next ones, each response put at its id's place (no reordering
at the end); on PostgreSQL, when a second connection sees the same rows (nothing
uncommitted in this transaction), half the parts (ids by remainder) are read on it in a
thread, with the plan pinned to that index's order. The ``coded``
bytes become one float array per question by one table look-up, half of the questions on
each thread. What does not fit that shape (a ``coded`` string of another width…) goes
through the older CSV-text read, which names it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Questionnaire, Response
from survey.models.base import FIELD_GROUPS
from survey.models.response import CHANNELS, MODES, STATUSES
from survey.responses.coded import coded_bytes_valid, decode_checked_bytes, decode_coded

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
#: Ids per SQLite chunk (one text value of at most ~100 bytes per row: far below SQLite's 1 GB
#: limit).
SQLITE_CHUNK = 2_000_000
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


def _postgresql_columns(connection: sa.Connection, conditions: list[Any], width: int) -> dict[str, Any] | None:
    """Through the covering index ``ix_response_wide`` (an index-only scan where the
    visibility map allows, as autovacuum keeps it), per range of :data:`POSTGRES_CHUNK` ids,
    one ``GROUP BY`` of the columns that repeat (in the index's order: no sort) with three
    ``array_send(array_agg(…))`` per group — the ids, the times (``-infinity``, the int64
    minimum, for none) and the ``coded`` strings — binary arrays numpy views as records of a
    4-byte length and a fixed-width value: no text printed or parsed, no per-row function
    beyond the aggregate. None if a ``coded`` string has another width (the CSV path then
    names it)."""
    keys = [getattr(Response, name) for name in GROUPED_COLUMNS]
    stamp = sa.func.coalesce(Response.submitted_at, sa.literal_column("'-infinity'::timestamptz"))

    def packed(value: Any) -> Any:
        return sa.func.array_send(sa.func.array_agg(value), type_=sa.LargeBinary)

    statement = sa.select(*keys, sa.func.count(), packed(Response.id), packed(stamp), packed(Response.coded))
    statement = statement.group_by(*keys)
    groups: list[tuple[Any, ...]] = []
    blobs: list[tuple[bytes, bytes, bytes]] = []
    for *key, count, ids, stamps, coded in _grouped_rows(connection, statement, conditions, POSTGRES_CHUNK):
        groups.append((*key, count))
        blobs.append((ids, stamps, coded))
    if not groups:
        return None
    counts = np.array([group[-1] for group in groups], dtype=np.int64)
    columns = _grouped_columns(groups, counts)
    if columns is None:
        return None
    eight = np.dtype([("length", ">i4"), ("value", ">i8")])
    text = np.dtype([("length", ">i4"), ("value", f"V{width}")])
    parts: dict[str, list[np.ndarray]] = {"id": [], "submitted_at": [], "coded": []}
    for (ids, stamps, coded), count in zip(blobs, counts, strict=True):
        for name, blob, record in (("id", ids, eight), ("submitted_at", stamps, eight), ("coded", coded, text)):
            # a one-dimensional array without NULLs: a 20-byte header, then the elements
            if len(blob) != ARRAY_HEADER + count * record.itemsize:
                return None
            parts[name].append(np.frombuffer(blob, dtype=record, offset=ARRAY_HEADER))
    rows = {name: np.concatenate(part) for name, part in parts.items()}
    if any((rows[name]["length"] != size).any() for name, size in (("id", 8), ("submitted_at", 8), ("coded", width))):
        return None  # the first element of another width is read at its true place: caught
    columns["id"] = rows["id"]["value"].astype(np.int64)
    stamps_us = rows["submitted_at"]["value"].astype(np.int64)
    columns["submitted_at"] = np.where(stamps_us == NAT, NAT, stamps_us + POSTGRES_EPOCH_US)
    coded_rows = rows["coded"]
    columns["coded"] = np.ndarray(
        (coded_rows.size, width),
        dtype=np.uint8,
        buffer=coded_rows,
        offset=text.fields["value"][1],
        strides=(text.itemsize, 1),
    )
    return columns


def _grouped_rows(connection: sa.Connection, statement: sa.Select, conditions: list[Any], chunk: int) -> list[Any]:
    """The rows of the grouped `statement` (PostgreSQL) over every id, in parts: the responses
    whose id leaves remainder r when divided by the number of parts, so that no part holds
    more than `chunk` ids (no aggregate grows past the database's 1 GB value limit) and the
    parts are the same size however the ids are spread.

    When a second connection sees the same rows (:func:`_second_connection`), the parts are
    shared between the two connections, read in a thread while this one reads its share: the
    database works without holding Python's lock, so the read uses two cores. The parts are
    disjoint and bounded by the largest id seen first, so each response is read once, and one
    committed meanwhile is left out. Each part walks the questionnaire's part of the index (no
    id bound narrows it): parts beyond two cost a walk each, from 2 × `chunk` responses in the
    table on. The plan is pinned (:func:`_pinned_plan`)."""
    low, high = _id_range(connection)
    if low is None or high is None:
        return []
    second = _second_connection(connection)
    count = max(1 if second is None else 2, -(-(high - low + 1) // chunk))
    parts: list[list[Any]] = [
        [Response.id <= high, *([sa.func.mod(Response.id, count) == remainder] if count > 1 else [])]
        for remainder in range(count)
    ]  # one part: no remainder to test on every row

    def read(on: sa.Connection, share: list[list[Any]]) -> list[Any]:
        with _pinned_plan(on):
            return [row for part in share for row in _execute(on, statement.where(*conditions, *part))]

    if second is None:
        return read(connection, parts)
    with second, ThreadPoolExecutor(max_workers=1) as pool:
        theirs = pool.submit(read, second, parts[1::2])
        mine = read(connection, parts[0::2])
        return mine + theirs.result()


#: PostgreSQL planner settings for the grouped read, local to its transaction, that leave one
#: plan: ``ix_response_wide`` scanned in the GROUP BY's order and aggregated as it goes, in
#: one process. The planner cannot tell how many rows a part holds — it multiplies the
#: selectivities of questionnaire, status and id as if they were independent — and, under-
#: estimating, took the primary key and a sort spilled to disk, or parallel workers and
#: sorts: twice the time on a table of 2.5 million responses (docs/benchmarks.md).
PINNED_PLAN = {
    "enable_sort": "off",
    "enable_incremental_sort": "off",
    "enable_hashagg": "off",
    "max_parallel_workers_per_gather": "0",
}


@contextmanager
def _pinned_plan(connection: sa.Connection) -> Iterator[None]:
    """:data:`PINNED_PLAN` for the statements run inside, then the settings as they were
    (local to the transaction: a rollback after an error restores them too)."""
    names = list(PINNED_PLAN)
    before = connection.execute(sa.select(*(sa.func.current_setting(name) for name in names))).one()
    connection.execute(sa.select(*(sa.func.set_config(name, PINNED_PLAN[name], True) for name in names)))
    yield
    connection.execute(
        sa.select(*(sa.func.set_config(name, value, True) for name, value in zip(names, before, strict=True)))
    )


def _id_bounds(
    connection: sa.Connection, conditions: list[Any], chunk: int
) -> tuple[int | None, int | None, int | None]:
    """The smallest and the largest id to read, and how many responses the read takes when
    that was counted on the way (else None).

    First the table's smallest and largest ids (one step each). When those span more than one
    range of `chunk` ids — a database that also holds other questionnaires' or versions'
    responses, or more than `chunk` of them — the read's own count, smallest and largest id
    instead, in one walk of its part of ``ix_response_wide``: each further range of ids would
    walk that whole part again (``id`` comes after the grouped columns), and with the count
    the ranges need only bound the largest group (:func:`_range_size`)."""
    low, high = _id_range(connection)
    if low is None or high is None or high - low < chunk:
        return low, high, None
    own = sa.select(sa.func.count(), sa.func.min(Response.id), sa.func.max(Response.id)).where(*conditions)
    counted, low, high = connection.execute(own).one()
    return low, high, counted


def _range_size(low: int, high: int, counted: int | None, chunk: int) -> int:
    """Ids per range of the grouped read: `chunk`, which keeps every aggregate far below the
    databases' 1 GB value limit; or all of them at once when at most `chunk` responses are
    read (no group can then be larger)."""
    return high - low + 1 if counted is not None and counted <= chunk else chunk


def _id_range(connection: sa.Connection) -> tuple[int | None, int | None]:
    """The smallest and the largest id of all responses, as two scalar subqueries: each is
    then one step down the primary key (SQLite scans the whole table for ``min`` and ``max``
    in one ``SELECT``)."""
    bound = [sa.select(aggregate(Response.id)).scalar_subquery() for aggregate in (sa.func.min, sa.func.max)]
    low, high = connection.execute(sa.select(*bound)).one()
    return low, high


def _second_connection(connection: sa.Connection) -> sa.Connection | None:
    """Another connection to the same database that sees what `connection` sees: None for an
    in-memory SQLite database, or when this transaction has written something not yet
    committed (another connection would not see it)."""
    dbapi = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        if connection.execute(sa.text("SELECT pg_current_xact_id_if_assigned()")).scalar() is not None:
            return None
    elif connection.engine.url.database in (None, "", ":memory:") or getattr(dbapi, "in_transaction", True):
        return None
    return connection.engine.connect()


def _execute(connection: sa.Connection, statement: sa.Select) -> list[Any]:
    """The rows of `statement`; on PostgreSQL in binary format (a ``bytea`` arrives as its
    bytes, not as hex text twice its size that the server writes and the client decodes)."""
    if connection.dialect.name != "postgresql":
        return list(connection.execute(statement))
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    with connection.connection.dbapi_connection.cursor(binary=True) as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


#: ``array_send`` of a one-dimensional array: dimensions, flags, element type, size, lower bound.
ARRAY_HEADER = 20


def _sqlite_columns(connection: sa.Connection, conditions: list[Any], width: int) -> dict[str, Any] | None:
    """Through the covering index ``ix_response_wide`` (the rows, which carry the JSON
    answers, are not read), per range of ids (:func:`_id_bounds`), one ``GROUP BY`` of the
    columns that repeat — status, channel, field group, mode, place, counter, procedure, in
    the index's order, so no sort — with three ``group_concat(…, ',')`` per group: the ids
    (parsed by numpy's C text reader), the times as stored (26 characters,
    ``YYYY-MM-DD HH:MM:SS.ffffff``, blanks for none) and ``coded``, which numpy views as
    ``(n, 27)`` and ``(n, width + 1)`` byte matrices whose last column must be the comma: a
    value of another width moves the commas (or puts one among the digits), so no per-row
    check is needed in SQL. The repeated values come once per group (a few hundred groups for
    a million responses).

    The groups are decoded in a second thread while SQLite reads the next ones (both work
    without holding Python's lock), in batches of about :data:`SQLITE_BATCH` responses,
    each response written straight to its place in the frame's columns (see
    :class:`_Placed`). The result is in id order, or None if a value does not fit that shape
    (the CSV path then reads or names it)."""
    low, high, counted = _id_bounds(connection, conditions, SQLITE_CHUNK)
    if low is None or high is None:
        return None
    step = _range_size(low, high, counted, SQLITE_CHUNK)
    keys = [getattr(Response, name) for name in GROUPED_COLUMNS]

    def joined(value: Any) -> Any:
        return sa.cast(sa.func.group_concat(value, ","), sa.LargeBinary)  # bytes: no UTF-8 decoding

    statement = sa.select(
        *keys,
        sa.func.count(),
        joined(Response.id),
        joined(sa.func.ifnull(Response.submitted_at, " " * 26)),
        joined(Response.coded),
    ).group_by(*keys)
    placed = _Placed(low, high, width)
    count = sa.select(sa.func.count()).where(*conditions)  # the index's first columns only: no id read
    second = None if counted is not None else _second_connection(connection)
    if counted is not None:
        placed.prepare(counted)
    elif second is None:
        placed.prepare(connection.execute(count).scalar_one())
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = []
        if second is not None:  # counted there while this connection starts the read

            def prepare(on: sa.Connection) -> None:
                with on:
                    placed.prepare(on.execute(count).scalar_one())

            pending.append(pool.submit(prepare, second))
        batch: list[Any] = []
        size = 0
        # the rows are bounded by the ids seen above: a response committed meanwhile has a
        # higher id and is left out, as if the read had been made at once
        for first in range(low, high + 1, step):
            part = [Response.id >= first, Response.id < min(first + step, high + 1)]
            for row in connection.execute(statement.where(*conditions, *part)):
                batch.append(tuple(row))
                size += row[len(keys)]
                if size >= SQLITE_BATCH:
                    pending.append(pool.submit(placed.add, batch))
                    batch, size = [], 0
        if batch:
            pending.append(pool.submit(placed.add, batch))
        try:
            for future in pending:
                future.result()
            return placed.columns(pool) if placed.read else None
        except _Unfit:
            return None


#: Responses per batch the SQLite read hands to its decoding thread (large enough that the
#: per-call costs do not count, small enough that the first batch is decoded early).
SQLITE_BATCH = 65_536
#: The SQLite read places each response at its id's offset from the table's smallest id when
#: the table's ids span at most this many times the responses counted (most responses are
#: then the ones read); else in the order read, put in id order at the end.
SQLITE_SPREAD = 1.5


class _Unfit(Exception):
    """A value the fixed-width read cannot take (the CSV path then reads or names it)."""


class _Placed:
    """The responses of the SQLite read, placed batch by batch in the decoding thread (one
    thread at a time: no lock), then turned into the frame's columns in id order.

    When the ids are dense (the table's ids span at most :data:`SQLITE_SPREAD` times the
    `expected` responses), each response goes to the offset of its id from the table's
    smallest id, so the places are in id order with nothing to sort — the responses read are
    then one slice of them when their ids are consecutive, else the places filled. Otherwise
    the responses are kept in the order read and put in id order at the end. What is placed
    is small: the index of the response's group (whose repeated values are looked up at the
    end), its time, and the bytes of ``coded`` (one row of `width` bytes per place, copied in
    one piece); they become floats only at the end — transposed, each question its own column
    for the frame, half of the questions on each thread."""

    def __init__(self, low: int, high: int, width: int) -> None:
        self.low, self.high, self.width, self.read = low, high, width, 0

    def prepare(self, expected: int) -> None:
        """Make room for the `expected` responses (counted before the read; a response
        committed meanwhile may make them more: `add` then finds no room on the places kept
        in read order, and the CSV path reads them). The float columns of the frame are
        allocated and their memory touched now, in the decoding thread while SQLite reads,
        not at the end."""
        self.expected = expected
        span = self.high - self.low + 1
        self.dense = span <= SQLITE_SPREAD * expected
        self.places = span if self.dense else expected
        self.group = np.full(self.places, -1, dtype=np.int32)  # -1: no response read here
        self.groups: list[tuple[Any, ...]] = []
        self.ids = np.empty(0 if self.dense else self.places, dtype=np.int64)
        self.stamps = np.empty(self.places, dtype=np.int64)
        self.coded = np.empty((self.places, self.width), dtype=np.uint8)
        self.items = [np.empty(expected) for _ in range(self.width)]
        for column in self.items:
            column[::512] = 0  # one write per page of memory (4 KiB)

    def add(self, groups: list[tuple[Any, ...]]) -> None:
        """Decode one batch of groups (the grouped values, the count, then the three texts)
        and place each response; `_Unfit` if a value does not fit."""
        k = len(GROUPED_COLUMNS)
        counts = np.array([group[k] for group in groups], dtype=np.int64)
        n = int(counts.sum())
        try:  # the ids are SQLite rowids, always integers: the size check is for safety
            ids = np.fromstring(b",".join(group[k + 1] for group in groups), dtype=np.int64, sep=",")
        except DeprecationWarning:  # what numpy warns of text that is no integer, where warnings are errors
            raise _Unfit from None
        if ids.size != n:
            raise _Unfit
        stamps = _parse_times(_fixed(b",".join(group[k + 2] for group in groups), n, 26))
        coded = _fixed(b",".join(group[k + 3] for group in groups), n, self.width)
        if stamps is None or not coded_bytes_valid(coded):
            raise _Unfit  # the CSV path names what is wrong
        where: np.ndarray | slice
        if self.dense:
            where = ids - self.low
            if n and (where.min() < 0 or where.max() >= self.places):
                raise _Unfit
        else:
            if self.read + n > self.places:  # more responses than counted (committed meanwhile)
                raise _Unfit
            where = slice(self.read, self.read + n)
            self.ids[where] = ids
        self.read += n
        first = len(self.groups)
        self.groups.extend(group[:k] for group in groups)
        self.group[where] = np.repeat(np.arange(first, first + len(groups), dtype=np.int32), counts)
        self.stamps[where] = stamps
        self.coded[where] = coded

    def columns(self, pool: ThreadPoolExecutor) -> dict[str, Any]:
        """The columns in id order, as :func:`_assemble` takes them (``items``: one float
        array per question); `pool`'s thread makes the design columns and half of the
        questions' while this one makes the other half. `_Unfit` if a grouped value is not
        what the constraints allow."""
        values = _group_values(self.groups)
        if values is None:
            raise _Unfit
        keep: np.ndarray | slice
        if self.dense:
            first = int(np.argmax(self.group >= 0))
            keep = slice(first, first + self.read)
            if (self.group[keep] < 0).any():  # gaps: other questionnaires' or statuses' ids
                keep = np.flatnonzero(self.group >= 0)
        else:
            order = _id_order(self.ids[: self.read])
            keep = slice(0, self.read) if order is None else order

        def design() -> dict[str, Any]:
            if self.dense:
                ids = np.arange(self.low, self.low + self.places, dtype=np.int64)[keep]
            else:
                ids = self.ids[keep]
            group = self.group[keep]
            columns: dict[str, Any] = {"id": ids, "submitted_at": self.stamps[keep]}
            for name, value in values.items():
                columns[name] = value[group] if isinstance(value, np.ndarray) else (value[0][group], value[1][group])
            return columns

        def decode(questions: range) -> list[np.ndarray]:
            into = self.items if self.read == self.expected else [None] * self.width
            return [decode_checked_bytes(self.coded[keep, j], into[j]) for j in questions]

        half = self.width // 2
        theirs = pool.submit(lambda: (design(), decode(range(half))))
        mine = decode(range(half, self.width))
        columns, first_half = theirs.result()
        columns["items"] = [*first_half, *mine]
        return columns


def _fixed(text: bytes, n: int, width: int) -> np.ndarray:
    """The ``(n, width)`` byte matrix of `n` values of `width` bytes joined by commas;
    `_Unfit` if `text` is not that (a value of another width moves a comma, or puts one
    where the values' bytes are checked)."""
    if len(text) != n * (width + 1) - 1:
        raise _Unfit
    raw = np.frombuffer(text, dtype=np.uint8)
    if (raw[width :: width + 1] != ord(",")).any():
        raise _Unfit
    return np.lib.stride_tricks.as_strided(raw, shape=(n, width), strides=(width + 1, 1), writeable=False)


#: The columns the SQLite read groups by (the index's order after the questionnaire).
GROUPED_COLUMNS = ("status", "channel", "field_group", "mode", "place_id", "counter_id", "procedure_id")


def _grouped_columns(groups: list[tuple[Any, ...]], counts: np.ndarray) -> dict[str, Any] | None:
    """The repeated columns from one tuple per group (its values, then its row count),
    spread over the group's rows (see :func:`_group_values`); None if a value is not what
    the constraints allow (the CSV path then reads or names it)."""
    values = _group_values(groups)
    if values is None:
        return None
    columns: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, np.ndarray):
            columns[name] = np.repeat(value, counts)
        else:
            columns[name] = (np.repeat(value[0], counts), np.repeat(value[1], counts))
    return columns


def _group_values(groups: list[tuple[Any, ...]]) -> dict[str, Any] | None:
    """The values of the :data:`GROUPED_COLUMNS` from one tuple per group (starting with
    them), one element per group: labels as their position in the known list (-1: no mode),
    ids as int64, a missing counter or procedure as 0 with a mask. None if a value is not
    what the constraints allow (the CSV path then reads or names it)."""
    columns: dict[str, Any] = {}
    known = {"status": STATUSES, "channel": CHANNELS, "field_group": FIELD_GROUPS, "mode": MODES}
    for j, name in enumerate(GROUPED_COLUMNS):
        values = [group[j] for group in groups]
        if name in known:
            positions = [known[name].index(v) if v in known[name] else -1 for v in values]
            if any(p < 0 for p, v in zip(positions, values, strict=True) if name != "mode" or v is not None):
                return None
            columns[name] = np.array(positions, dtype=np.int8)
            continue
        nullable = name != "place_id"
        if not all(type(v) is int or (nullable and v is None) for v in values):
            return None
        numbers = np.array([0 if v is None else v for v in values], dtype=np.int64)
        if nullable:
            columns[name] = (numbers, np.array([v is None for v in values], dtype=bool))
        else:
            columns[name] = numbers
    return columns


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
    microseconds since 1970 UTC (:data:`NAT` = none), and the items as ``coded``, an
    ``(n, width)`` byte matrix (or, from the text decoder, already a float matrix), or as
    ``items``, one float array per question (the SQLite read). Each question's bytes are
    taken in id order and decoded into its own float array, which the frame keeps as it is;
    half of the questions on a second thread while this one does the rest."""
    order = _id_order(columns["id"])

    def ordered(values: np.ndarray) -> np.ndarray:
        return values if order is None else values[order]

    coded = columns.get("coded")
    width = len(layout)

    def decode(questions: range) -> list[np.ndarray]:
        items = []
        for j in questions:
            raw = coded[:, j] if order is None else coded[order, j]
            if not coded_bytes_valid(raw):
                raise ValueError("coded answers contain a character that is neither a digit nor '.'")
            items.append(decode_checked_bytes(raw))
        return items

    with ThreadPoolExecutor(max_workers=1) as pool:
        theirs = pool.submit(decode, range(width // 2)) if coded is not None and coded.dtype == np.uint8 else None
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
        if theirs is not None:
            items = [*theirs.result(), *decode(range(width // 2, width))]
        elif coded is None:  # decoded already (the SQLite read: in id order)
            items = [ordered(values) for values in columns["items"]]
        else:
            items = list(np.ascontiguousarray(ordered(coded).T))
    for j, code in enumerate(layout):
        data[code] = items[j]
    return pd.DataFrame(data, columns=[*DESIGN_COLUMNS, *layout], copy=False)


def _id_order(ids: np.ndarray) -> np.ndarray | None:
    """The permutation that sorts `ids` (None if they are sorted already). Ids are unique;
    when they span less than four times their number (the usual case: ids of one
    questionnaire are mostly consecutive), by placing each at its offset from the smallest
    — linear, several times faster than a sort."""
    if ids.size < 2 or (ids[1:] >= ids[:-1]).all():
        return None
    low = int(ids.min())
    span = int(ids.max()) - low + 1
    if span > 4 * ids.size:
        return np.argsort(ids, kind="stable")
    slots = np.full(span, -1, dtype=np.int64)
    slots[ids - low] = np.arange(ids.size)
    return slots[slots >= 0]


def wide_table(
    session: Session,
    questionnaire: Questionnaire,
    *,
    statuses: tuple[str, ...] = ("submitted", "verified"),
    channel: str | None = None,
) -> pd.DataFrame:
    """One row per response of `questionnaire`, in id order: design columns plus one column
    per scale question (float: the code, NaN for no answer).

    Grouped reads through a covering index (see the module docstring): no per-row ORM,
    driver or Python object work, which is most of the cost at a million rows."""
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
        read = _postgresql_columns if postgresql else _sqlite_columns
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
