"""A respondent's own share of satisfied items (used to filter comments)."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from analysis.respondents import respondent_rate


def test_respondent_rate_ignores_not_applicable_and_blank() -> None:
    codes = np.array([[4, 5, 2, 9], [1, 2, np.nan, 9], [9, 9, np.nan, np.nan], [5, 4, 4, 4]], dtype=float)
    rate = respondent_rate(codes)
    assert_allclose(rate[[0, 1, 3]], [2 / 3, 0.0, 1.0])
    assert np.isnan(rate[2])
