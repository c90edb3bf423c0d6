"""The open comments (ý kiến khác) of both channels: filter by period, place, field group,
channel and the respondent's satisfaction, search the text without regard to accents, export."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis.questionnaire import index_spec
from analysis.respondents import respondent_rate
from survey.i18n import local_day_start, local_zone
from survey.models import Place, Questionnaire, Response
from survey.models.base import FIELD_GROUP_LABELS
from survey.responses.coded import decode_coded

#: A respondent counts as satisfied when at least half of their rated items are 4–5.
SATISFIED_SHARE = 0.5


def fold(text: str) -> str:
    """Lower case without Vietnamese accents (``Đất đai`` → ``dat dai``) for searching."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@dataclass(frozen=True)
class CommentFilter:
    start: date | None = None
    end: date | None = None
    place_id: int | None = None
    field_group: str | None = None
    channel: str | None = None
    satisfied: str | None = None  # "yes", "no" or None
    text: str = ""


def _comment_codes(session: Session) -> dict[int, str]:
    """The open-text question of every questionnaire version (type ``text``)."""
    out = {}
    for q in session.scalars(sa.select(Questionnaire)):
        for section in q.definition.get("sections", []):
            for question in section.get("questions", []):
                if question.get("type") == "text":
                    out[q.id] = str(question["code"])
    return out


def comments(session: Session, where: CommentFilter) -> pd.DataFrame:
    """Every non-empty comment matching the filter, newest first: id, receipt code, date,
    channel, place, field group, the respondent's share of satisfied items, text."""
    codes = _comment_codes(session)
    frames = []
    for questionnaire_id, code in codes.items():
        questionnaire = session.get(Questionnaire, questionnaire_id)
        assert questionnaire is not None
        text = Response.answers[code].as_string()
        stmt = (
            sa.select(
                Response.id,
                Response.receipt_code,
                Response.submitted_at,
                Response.channel,
                Place.name.label("place"),
                Response.field_group,
                Response.coded,
                text.label("text"),
            )
            .join(Place, Place.id == Response.place_id)
            .where(Response.questionnaire_id == questionnaire_id, Response.status.in_(("submitted", "verified")))
            .where(text.is_not(None), text != "")
        )
        if where.start is not None:  # the days are Vietnam's (SIPAS_TIMEZONE), as the page shows them
            stmt = stmt.where(Response.submitted_at >= local_day_start(where.start))
        if where.end is not None:
            stmt = stmt.where(Response.submitted_at < local_day_start(where.end + timedelta(days=1)))
        if where.place_id is not None:
            stmt = stmt.where(Response.place_id == where.place_id)
        if where.field_group:
            stmt = stmt.where(Response.field_group == where.field_group)
        if where.channel:
            stmt = stmt.where(Response.channel == where.channel)
        rows = session.execute(stmt).all()
        if not rows:
            continue
        frame = pd.DataFrame(
            rows, columns=["id", "receipt_code", "submitted_at", "channel", "place", "field_group", "coded", "text"]
        )
        spec = index_spec(questionnaire.definition)
        layout = list(questionnaire.coded_layout)
        matrix = decode_coded(frame.pop("coded").tolist(), len(layout))
        items = [layout.index(i) for i in spec.items]
        frame["rate"] = respondent_rate(matrix[:, items], spec.valid_codes, spec.satisfied_codes)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(
            columns=["id", "receipt_code", "submitted_at", "channel", "place", "field_group", "text", "rate"]
        )
    table = pd.concat(frames, ignore_index=True)
    if where.satisfied == "yes":
        table = table[table["rate"] >= SATISFIED_SHARE]
    elif where.satisfied == "no":
        table = table[table["rate"] < SATISFIED_SHARE]
    needle = fold(where.text.strip())
    if needle:
        table = table[table["text"].map(fold).str.contains(needle, regex=False)]
    return table.sort_values("id", ascending=False, ignore_index=True)


def comments_csv(table: pd.DataFrame) -> bytes:
    out = pd.DataFrame(
        {
            "ma_phieu": table["receipt_code"],
            "ngay_gui": pd.to_datetime(table["submitted_at"], utc=True)
            .dt.tz_convert(local_zone().key)
            .dt.strftime("%Y-%m-%d"),
            "kenh": table["channel"],
            "noi_tiep_nhan": table["place"],
            "nhom_linh_vuc": table["field_group"].map(FIELD_GROUP_LABELS),
            "ty_le_hai_long_ca_nhan": np.round(table["rate"].astype(float) * 100, 1),
            "y_kien": table["text"],
        }
    )
    return ("\ufeff" + out.to_csv(index=False, lineterminator="\n")).encode("utf-8")


def places(session: Session) -> list[tuple[int, str]]:
    return [
        (int(i), str(n)) for i, n in session.execute(sa.select(Place.id, Place.name).order_by(Place.kind, Place.name))
    ]


def as_filter(args: Any) -> CommentFilter:
    """A filter from validated form data (a mapping)."""
    return CommentFilter(
        start=args.get("start"),
        end=args.get("end"),
        place_id=args.get("place_id") or None,
        field_group=args.get("field_group") or None,
        channel=args.get("channel") or None,
        satisfied=args.get("satisfied") or None,
        text=args.get("text") or "",
    )
