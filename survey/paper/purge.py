"""Purging a round's personal data once its fieldwork is over: the names, phones and
addresses of its frame, and any uploaded frame file still waiting for confirmation."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import FrameRecord, SurveyRound
from survey.models.base import utcnow
from survey.paper.rounds import RoundError
from survey.paper.uploads import remove_uploads


def purge_pii(session: Session, survey_round: SurveyRound, *, instance_path: str) -> int:
    """Remove names, phones and addresses of the round's frame; responses, the design and
    the sample stay. Returns the number of frame rows cleared. Refused while the round is
    drawn but its fieldwork not closed: the interviewers still need the contacts."""
    if survey_round.status in ("sampled", "fieldwork"):
        raise RoundError("Chưa kết thúc thực địa: không xoá thông tin cá nhân (kết thúc đợt trước).")
    result = session.execute(
        sa.update(FrameRecord)
        .where(FrameRecord.round_id == survey_round.id)
        .values(applicant_name=None, phone=None, address=None)
    )
    survey_round.pii_purged_at = utcnow()
    session.flush()
    remove_uploads(instance_path, survey_round.id)
    return int(result.rowcount or 0)
