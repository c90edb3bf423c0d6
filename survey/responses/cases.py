"""Which response is the interview of which sampled case: a keyed paper form
(`PaperForm.response_id`) or an interview sent by the interviewer app
(`DeviceSubmission.response_id`). One link, used by everything that reads a round's
interviews (estimates, weighting, back-check, the previous round's rates), so keyed and
device interviews of the same sample are always read together."""

from __future__ import annotations

import sqlalchemy as sa

from survey.models import DeviceSubmission, PaperForm


def case_responses() -> sa.Subquery:
    """(case_id, response_id) of every interview stored for a sampled case."""
    keyed = sa.select(PaperForm.case_id.label("case_id"), PaperForm.response_id.label("response_id")).where(
        PaperForm.response_id.is_not(None)
    )
    device = sa.select(
        DeviceSubmission.case_id.label("case_id"), DeviceSubmission.response_id.label("response_id")
    ).where(DeviceSubmission.response_id.is_not(None))
    return sa.union_all(keyed, device).subquery("case_response")
