"""Reading stored responses the way the analysis needs them.

`wide_table` turns responses into one row per response with the design columns and one
small-integer column per ``scale`` question. The item codes come from ``Response.coded``
(one digit per scale question, ``.`` for no answer), so a million responses are one column
scan and a vectorised byte decode — no JSON parsing, no pivot of an answers table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Questionnaire, Response
from survey.models.response import STATUSES

#: Design and domain columns read with every response.
DESIGN_COLUMNS = ("id", "channel", "status", "place_id", "counter_id", "field_group", "procedure_id", "submitted_at")


def decode_coded(coded: list[str] | np.ndarray, width: int) -> np.ndarray:
    """Decode ``coded`` strings of `width` characters into a float matrix (NaN = no answer).

    Raises `ValueError` if a string has the wrong length or a character that is neither a
    digit nor ``.``."""
    n = len(coded)
    if n == 0:
        return np.empty((0, width))
    joined = "".join(coded)
    if len(joined) != n * width:
        bad = next(i for i, c in enumerate(coded) if len(c) != width)
        raise ValueError(f"response #{bad}: coded answers have {len(coded[bad])} characters, expected {width}")
    raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(n, width)
    values = raw.astype(np.float64) - ord("0")
    blank = raw == ord(".")
    if np.any(~blank & ((values < 0) | (values > 9))):
        raise ValueError("coded answers contain a character that is neither a digit nor '.'")
    values[blank] = np.nan
    return values


def encode_coded(answers: dict[str, object], layout: list[str]) -> str:
    """The ``coded`` string for `answers` (codes of the scale questions in `layout` order)."""
    out = []
    for code in layout:
        value = answers.get(code)
        if value is None or value == "":
            out.append(".")
        else:
            digit = int(value)  # type: ignore[call-overload]
            if not 0 <= digit <= 9:
                raise ValueError(f"{code}: code {digit} is not a single digit")
            out.append(str(digit))
    return "".join(out)


def wide_statement(questionnaire_id: int, statuses: tuple[str, ...]) -> sa.Select:
    columns = [getattr(Response, c) for c in DESIGN_COLUMNS]
    return (
        sa.select(*columns, Response.coded)
        .where(Response.questionnaire_id == questionnaire_id, Response.status.in_(statuses))
    )


def wide_table(
    session: Session, questionnaire: Questionnaire, *, statuses: tuple[str, ...] = ("submitted", "verified")
) -> pd.DataFrame:
    """One row per response of `questionnaire`: design columns plus one column per scale
    question (float: the code, NaN for no answer).

    The query runs at the driver level (no per-row ORM or type processing: that is most of
    the cost at a million rows); timestamps are converted once, column-wise."""
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown status {sorted(unknown)!r}")
    layout: list[str] = list(questionnaire.coded_layout)
    connection = session.connection()
    sql = str(
        wide_statement(questionnaire.id, statuses).compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    cursor = connection.connection.dbapi_connection.cursor()  # plain tuples, no Row objects
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    columns = list(zip(*rows, strict=True)) if rows else [()] * (len(DESIGN_COLUMNS) + 1)
    del rows
    data = dict(zip(DESIGN_COLUMNS, columns, strict=False))
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in data.items()})
    for name in ("id", "place_id"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("counter_id", "procedure_id"):
        frame[name] = frame[name].astype("Int64")
    for name in ("channel", "status", "field_group"):
        frame[name] = frame[name].astype("category")
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True, format="ISO8601")
    items = decode_coded(list(columns[-1]), len(layout))
    frame = pd.concat([frame, pd.DataFrame(items, columns=layout, index=frame.index)], axis=1)
    return frame.sort_values("id", kind="stable", ignore_index=True)
