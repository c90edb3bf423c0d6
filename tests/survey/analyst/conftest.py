from __future__ import annotations

import pytest


@pytest.fixture
def paper_round(db, demo):
    """The demo's finished paper round: sampled, interviewed, keyed twice, verified."""
    from survey.demo import load_paper_round
    from survey.models import SurveyRound
    from tests.conftest import built_once

    def build() -> int:
        created = load_paper_round(db.session, sample_size=130)
        db.session.commit()
        return created.id

    return db.session.get(SurveyRound, built_once(db, "paper_round", build))
