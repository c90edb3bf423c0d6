from __future__ import annotations

import pytest


@pytest.fixture
def paper_round(db, demo):
    """The demo's finished paper round: sampled, interviewed, keyed twice, verified."""
    from survey.demo import load_paper_round

    created = load_paper_round(db.session, sample_size=130)
    db.session.commit()
    return created
