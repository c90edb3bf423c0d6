"""Batches of paper forms as received from the post offices, and their control counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey.models import Batch, PaperForm


class BatchError(ValueError):
    """A rule about batches was broken; the message is shown to the team leader."""


def create_batch(session: Session, round_id: int, *, code: str, post_office: str, received: int) -> Batch:
    """Register a batch of paper forms as counted by hand at reception. Flushes; a code taken
    by a concurrent request (the unique constraint) rolls the session back and raises
    `BatchError`."""
    code = code.strip().upper()
    if batch_code_taken(session, round_id, code):
        raise BatchError(f"Mã lô {code} đã có.")
    batch = Batch(round_id=round_id, code=code, post_office=post_office.strip(), received=received)
    session.add(batch)
    try:
        session.flush()
    except IntegrityError:  # another team leader registered the same code at the same moment
        session.rollback()
        raise BatchError(f"Mã lô {code} đã có.") from None
    return batch


def batch_code_taken(session: Session, round_id: int, code: str) -> bool:
    return session.scalar(sa.select(Batch.id).where(Batch.round_id == round_id, Batch.code == code)) is not None


@dataclass(frozen=True)
class BatchControl:
    received: int
    keyed: int
    awaiting_second: int
    mismatched: int
    verified: int
    accepted: int

    @property
    def missing(self) -> int:
        """Forms counted as received but not yet found by keying."""
        return max(self.received - self.keyed, 0)

    @property
    def surplus(self) -> int:
        """Forms keyed beyond the received count: a counting or serial error to check."""
        return max(self.keyed - self.received, 0)


def _control(received: int, counts: dict[str, int]) -> BatchControl:
    return BatchControl(
        received=received,
        keyed=sum(counts.values()),
        awaiting_second=counts.get("awaiting_second", 0),
        mismatched=counts.get("mismatch", 0),
        verified=counts.get("verified", 0),
        accepted=counts.get("accepted", 0),
    )


def batch_control(session: Session, batch: Batch) -> BatchControl:
    counts = dict(
        session.execute(
            sa.select(PaperForm.status, sa.func.count())
            .where(PaperForm.batch_id == batch.id)
            .group_by(PaperForm.status)
        ).all()
    )
    return _control(batch.received, counts)


def batch_controls(session: Session, batches: Sequence[Batch]) -> dict[int, BatchControl]:
    """The control counts of several batches with one GROUP BY (not one query per batch)."""
    counts: dict[int, dict[str, int]] = {b.id: {} for b in batches}
    if batches:
        rows = session.execute(
            sa.select(PaperForm.batch_id, PaperForm.status, sa.func.count())
            .where(PaperForm.batch_id.in_(list(counts)))
            .group_by(PaperForm.batch_id, PaperForm.status)
        ).all()
        for batch_id, status, n in rows:
            counts[batch_id][status] = n
    return {b.id: _control(b.received, counts[b.id]) for b in batches}
