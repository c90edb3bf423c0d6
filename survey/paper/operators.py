"""Keying operators: forms, fields, hours and attributed errors per keyer, and the rule that
sends a form to a blind second keying."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Batch, Discrepancy, Keying, PaperForm, SurveyRound, User


@dataclass(frozen=True)
class OperatorStats:
    user_id: int
    name: str
    forms: int
    fields: int
    hours: float
    errors: int

    @property
    def forms_per_hour(self) -> float | None:
        return self.forms / self.hours if self.hours > 0 else None

    @property
    def errors_per_1000(self) -> float | None:
        return 1000 * self.errors / self.fields if self.fields else None


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
    stmt = (
        sa.select(Keying.keyer_id, User.full_name, Keying.fields_keyed, Keying.started_at, Keying.finished_at)
        .join(User, User.id == Keying.keyer_id)
        .join(PaperForm, PaperForm.id == Keying.form_id)
        .join(Batch, Batch.id == PaperForm.batch_id)
        .where(Keying.draft.is_(False))
    )
    totals: dict[int, list[Any]] = {}
    for keyer, name, fields, started, finished in session.execute(_scoped(stmt, round_id, batch_id, keyer_id)):
        entry = totals.setdefault(keyer, [name, 0, 0, 0.0])
        entry[1] += 1
        entry[2] += fields
        if started and finished:
            entry[3] += max((finished - started).total_seconds(), 0) / 3600
    errors = _attributed_errors(session, round_id, batch_id, keyer_id)
    return [
        OperatorStats(user_id=k, name=v[0], forms=v[1], fields=v[2], hours=v[3], errors=errors.get(k, 0))
        for k, v in sorted(totals.items(), key=lambda kv: kv[1][0])
    ]


def needs_verification(session: Session, survey_round: SurveyRound, keyer_id: int) -> bool:
    """Every form when the round says so; otherwise one in N with a random start (from the
    round's seed), and every form of an operator whose error rate passed the threshold."""
    if survey_round.verify_every <= 1:
        return True
    [own] = operator_stats(session, round_id=survey_round.id, keyer_id=keyer_id) or [None]
    if own is not None and own.errors_per_1000 is not None and own.errors_per_1000 > survey_round.error_threshold:
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
