from __future__ import annotations

import pytest

from tests.survey.paper.conftest import survey_round  # noqa: F401 - the paper round fixture
from tests.survey.paper.test_review_and_backcheck import fielded_round


@pytest.fixture
def fielded(db, survey_round, make_user):  # noqa: F811
    """A round in the field: 20 main cases, two surveyors with 10 each."""
    cases, surveyors = fielded_round(db, survey_round, make_user)
    return survey_round, cases, surveyors


SCALES = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]


def interview_answers(seed: int = 0) -> dict:
    """Answers a device sends for one interview (every required question)."""
    answers: dict = {code: 1 + (seed + i) % 5 for i, code in enumerate(SCALES)}
    answers.update(loai_nguoi_tra_loi="ca_nhan", tuoi="25-34", y_kien="  Cán bộ  nhiệt tình  ")
    return answers
