"""Keying operators: forms, fields, hours and attributed errors per keyer, and the rule that
sends a form to a blind second keying."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis.keying_quality import exceeds_error_threshold, keyer_rates
from survey.models import Batch, Discrepancy, Keying, PaperForm, SurveyRound, User


@dataclass(frozen=True)
class OperatorStats:
    """One keyer's totals and the rates `analysis.keying_quality` computed from them."""

    user_id: int
    name: str
    forms: int
    fields: int
    hours: float
    errors: int
    forms_per_hour: float | None
    errors_per_1000: float | None


def _keying_seconds(dialect: str) -> sa.ColumnElement[float]:
    """Seconds between the start and the end of a keying (0 if either is missing)."""
    if dialect == "postgresql":
        seconds = sa.func.extract("epoch", Keying.finished_at - Keying.started_at)
    else:
        seconds = (sa.func.julianday(Keying.finished_at) - sa.func.julianday(Keying.started_at)) * 86400.0
    return sa.case((seconds > 0, seconds), else_=0.0)


def _scoped(stmt: sa.Select, round_id: int | None, batch_id: int | None, keyer_id: int | None) -> sa.Select:
    """Restrict a keying statement (joined to PaperForm and Batch) to a round, batch or keyer."""
    if round_id is not None:
        stmt = stmt.where(Batch.round_id == round_id)
    if batch_id is not None:
        stmt = stmt.where(PaperForm.batch_id == batch_id)
    if keyer_id is not None:
        stmt = stmt.where(Keying.keyer_id == keyer_id)
    return stmt


def _attributed_errors(
    session: Session, round_id: int | None = None, batch_id: int | None = None, keyer_id: int | None = None
) -> dict[int, int]:
    """Errors per keyer: a mismatch settled against a keying counts against its keyer."""
    errors: dict[int, int] = {}
    for pass_no, blamed in ((1, ("first", "both")), (2, ("second", "both"))):
        stmt = (
            sa.select(Keying.keyer_id, sa.func.count())
            .join(Discrepancy, Discrepancy.form_id == Keying.form_id)
            .join(PaperForm, PaperForm.id == Keying.form_id)
            .join(Batch, Batch.id == PaperForm.batch_id)
            .where(Keying.pass_no == pass_no, Discrepancy.attributed_to.in_(blamed))
            .group_by(Keying.keyer_id)
        )
        for keyer, n in session.execute(_scoped(stmt, round_id, batch_id, keyer_id)):
            errors[keyer] = errors.get(keyer, 0) + n
    return errors


def operator_stats(
    session: Session, *, round_id: int | None = None, batch_id: int | None = None, keyer_id: int | None = None
) -> list[OperatorStats]:
    """Per keyer (by name): finished keyings, fields, hours and attributed errors, summed by
    the database, with the rates from `analysis.keying_quality.keyer_rates`."""
    stmt = (
        sa.select(
            Keying.keyer_id,
            User.full_name,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Keying.fields_keyed), 0),
            sa.func.coalesce(sa.func.sum(_keying_seconds(session.get_bind().dialect.name)), 0.0),
        )
        .join(User, User.id == Keying.keyer_id)
        .join(PaperForm, PaperForm.id == Keying.form_id)
        .join(Batch, Batch.id == PaperForm.batch_id)
        .where(Keying.draft.is_(False))
        .group_by(Keying.keyer_id, User.full_name)
    )
    totals = pd.DataFrame(
        session.execute(_scoped(stmt, round_id, batch_id, keyer_id)).all(),
        columns=["keyer", "name", "forms", "fields", "seconds"],
    ).set_index("keyer")
    if totals.empty:
        return []
    errors = pd.Series(_attributed_errors(session, round_id, batch_id, keyer_id), dtype="int64")
    rates = keyer_rates(
        forms=totals["forms"].astype("int64"),
        fields=totals["fields"].astype("int64"),
        seconds=totals["seconds"].astype(float),
        errors=errors.reindex(totals.index, fill_value=0),
    )
    return [
        OperatorStats(
            user_id=int(keyer),
            name=str(totals.at[keyer, "name"]),
            forms=int(row.forms),
            fields=int(row.fields),
            hours=float(row.hours),
            errors=int(row.errors),
            forms_per_hour=None if math.isnan(row.forms_per_hour) else float(row.forms_per_hour),
            errors_per_1000=None if math.isnan(row.errors_per_1000) else float(row.errors_per_1000),
        )
        for keyer, row in sorted(rates.iterrows(), key=lambda kv: str(totals.at[kv[0], "name"]))
    ]


def needs_verification(session: Session, survey_round: SurveyRound, keyer_id: int) -> bool:
    """Every form when the round says so; otherwise one in N with a random start (from the
    round's seed), and every form of an operator whose error rate passed the threshold."""
    if survey_round.verify_every <= 1:
        return True
    [own] = operator_stats(session, round_id=survey_round.id, keyer_id=keyer_id) or [None]
    if own is not None and exceeds_error_threshold(own.errors, own.fields, survey_round.error_threshold):
        return True
    keyed = session.scalar(
        sa.select(sa.func.count())
        .select_from(Keying)
        .join(PaperForm, PaperForm.id == Keying.form_id)
        .join(Batch, Batch.id == PaperForm.batch_id)
        .where(Batch.round_id == survey_round.id, Keying.pass_no == 1, Keying.draft.is_(False))
    )
    start = (survey_round.seed or 0) % survey_round.verify_every
    return (int(keyed or 0) - 1) % survey_round.verify_every == start
