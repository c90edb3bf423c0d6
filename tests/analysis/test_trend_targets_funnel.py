"""Change between independent samples (against R), target verdicts, funnel-plot limits."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.design import make_design
from analysis.funnel import funnel_limits, funnel_points
from analysis.rates import estimate_rates
from analysis.targets import target_status
from analysis.trend import independent_change


def _period_table(responses: pd.DataFrame, items: list[str], period: str) -> pd.DataFrame:
    part = responses[responses["period"] == period].reset_index(drop=True)
    design = make_design(strata=part["stratum"], psu=part["psu"], fpc=part["fpc"], weights=part["w"])
    return estimate_rates(part[items], design, percent=False)


def test_change_between_two_independent_samples_matches_r(responses, items, data_dir) -> None:
    # R: tests/analysis/r/trend.R (the two periods stacked as one design, svycontrast of the domains)
    reference = pd.read_csv(data_dir / "reference_trend.csv")
    change = independent_change(_period_table(responses, items, "2025"), _period_table(responses, items, "2026"))
    got = change.set_index("indicator").loc[reference["indicator"]]
    for column in ("estimate_a", "estimate_b", "difference", "se", "p_value"):
        assert_allclose(got[column].to_numpy(), reference[column].to_numpy(), rtol=1e-6, err_msg=column)
    assert (got["df"].to_numpy() == reference["df"].to_numpy()).all()
    low, high = got["ci_low"].to_numpy(), got["ci_high"].to_numpy()
    assert_allclose((low + high) / 2, got["difference"].to_numpy(), rtol=1e-9)


def test_change_of_a_domain_missing_in_one_snapshot_is_empty() -> None:
    a = pd.DataFrame(
        {"domain_var": ["all"], "domain": ["all"], "indicator": ["S"], "estimate": [80.0], "se": [1.0], "df": [10]}
    )
    b = a.assign(estimate=[np.nan], se=[np.nan], df=[0])
    row = independent_change(a, b).iloc[0]
    assert math.isnan(row["difference"]) and math.isnan(row["se"]) and math.isnan(row["p_value"])


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (90.0, 95.0, "met"),
        (91.0, 93.0, "met"),
        (85.0, 89.9, "not_met"),
        (88.0, 92.0, "inconclusive"),
        (float("nan"), 1.0, "no_data"),
        (None, None, "no_data"),
    ],
)
def test_target_states(low, high, expected) -> None:
    assert target_status(low, high, 90.0) == expected


def test_funnel_limits_and_positions() -> None:
    low, high = funnel_limits(0.8, [100.0, 400.0], 0.95)
    assert_allclose(high - 0.8, 1.959963984540054 * np.sqrt(0.16 / np.array([100.0, 400.0])), rtol=1e-12)
    assert_allclose(0.8 - low, high - 0.8)
    points = funnel_points(["a", "b", "c", "d", "e"], [0.8, 0.60, 0.71, 0.95, np.nan], [100, 100, 100, 400, 50], 0.8)
    assert [(p.label, p.position) for p in points] == [
        ("a", "within"),
        ("b", "below"),
        ("c", "warning"),
        ("d", "above"),
    ]
    with pytest.raises(ValueError):
        funnel_limits(1.0, [10.0], 0.95)
