"""Tests for analysis.sampling.stratum_sd_from_counts (Neyman S_h from an earlier round's counts)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.sampling import AllocationRule, SamplingError, allocate, stratum_sd_from_counts


def counts(**n: int) -> pd.Series:
    return pd.Series(n, dtype=np.int64)


def test_hand_computed_jeffreys_shrinkage() -> None:
    # a: x = 10 of m = 10 -> p = 10.5 / 11 = 0.954545..., p(1 - p) = 0.954545 * 0.045455 = 5.25 / 121 = 0.0433884,
    #    S = sqrt(5.25) / 11 = 2.2912878 / 11 = 0.2082989 (raw share 1.0 would give S = 0)
    # b: x = 3 of m = 9   -> p = 3.5 / 10 = 0.35, p(1 - p) = 0.2275, S = 0.4769696
    # c: x = 0 of m = 0   -> p = 0.5 / 1 = 0.5, S = 0.5
    # d: x = 0 of m = 4   -> p = 0.5 / 5 = 0.1, p(1 - p) = 0.09, S = 0.3
    out = stratum_sd_from_counts(counts(a=10, b=3, c=0, d=0), counts(a=10, b=9, c=0, d=4))
    assert out.name == "S_h"
    assert out.dtype == np.float64
    assert list(out.index) == ["a", "b", "c", "d"]
    assert_allclose(out.to_numpy(), [0.2082989, 0.4769696, 0.5, 0.3], rtol=1e-6)
    assert_allclose(out["a"], math.sqrt(10.5 / 11 * 0.5 / 11), rtol=1e-12)


def test_matches_the_web_layer_formula() -> None:
    # The formula survey/rounds.py::stratum_sd_from_round used: (x + 0.5) / (m + 1).
    x, m = counts(s1=37, s2=120, s3=5), counts(s1=40, s2=200, s3=5)
    expected = [math.sqrt(p * (1 - p)) for p in ((37.5 / 41), (120.5 / 201), (5.5 / 6))]
    assert_allclose(stratum_sd_from_counts(x, m).to_numpy(), expected, rtol=1e-12)


def test_prior_one_is_laplace() -> None:
    # a = 1: p = (4 + 1) / (4 + 2) = 5/6, p(1 - p) = 5/36, S = sqrt(5)/6 = 0.372678
    out = stratum_sd_from_counts(counts(a=4), counts(a=4), prior=1.0)
    assert_allclose(out["a"], math.sqrt(5) / 6, rtol=1e-12)


def test_everyone_satisfied_still_gets_a_sample_under_neyman() -> None:
    sd = stratum_sd_from_counts(counts(a=50, b=20), counts(a=50, b=40))
    assert (sd > 0).all()
    design = allocate(counts(a=500, b=500), AllocationRule("neyman", total_n=100), stratum_sd=sd)
    assert design.loc["a", "n_h"] > 0


def test_result_follows_satisfied_order_and_rated_may_be_reordered() -> None:
    out = stratum_sd_from_counts(counts(b=3, a=10), counts(a=10, b=9))
    assert list(out.index) == ["b", "a"]
    assert_allclose(out.to_numpy(), [0.4769696, 0.2082989], rtol=1e-6)


def test_inputs_not_mutated() -> None:
    x, m = counts(a=1, b=2), counts(b=5, a=3)
    x0, m0 = x.copy(), m.copy()
    stratum_sd_from_counts(x, m)
    pd.testing.assert_series_equal(x, x0)
    pd.testing.assert_series_equal(m, m0)


@pytest.mark.parametrize("empty", [pd.Series([], dtype=np.int64), pd.Series([], dtype=object)])
def test_empty_input_gives_empty_float_series(empty: pd.Series) -> None:
    out = stratum_sd_from_counts(empty, empty)
    assert len(out) == 0
    assert out.dtype == np.float64
    assert out.name == "S_h"


def test_float_counts_that_are_whole_numbers_are_accepted() -> None:
    out = stratum_sd_from_counts(pd.Series({"a": 3.0}), pd.Series({"a": 9.0}))
    assert_allclose(out["a"], 0.4769696, rtol=1e-6)


@pytest.mark.parametrize(
    ("satisfied", "rated", "message"),
    [
        (counts(a=-1), counts(a=3), "satisfied has negative sizes for stratum/strata 'a'"),
        (counts(a=1), counts(a=-3), "rated has negative sizes for stratum/strata 'a'"),
        (pd.Series({"a": math.nan}), counts(a=3), "satisfied has missing values for stratum/strata 'a'"),
        (counts(a=1), pd.Series({"a": 2.5}), "rated must be whole numbers; see stratum/strata 'a'"),
        (pd.Series({"a": math.inf}), counts(a=3), "satisfied must be whole numbers"),
        (counts(a=4, b=1), counts(a=3, b=1), "satisfied exceeds rated in stratum/strata 'a'"),
        (counts(a=1), counts(b=3), "only in satisfied: 'a'; only in rated: 'b'"),
        (counts(a=1, b=1), counts(a=3), "only in satisfied: 'b'; only in rated: -"),
        (pd.Series({"a": "1"}), counts(a=3), "satisfied must be numeric, got dtype"),
        (pd.Series({"a": True}), counts(a=3), "satisfied must be numeric, got dtype bool"),
        (pd.Series([1, 2], index=["a", "a"]), counts(a=3), "satisfied has duplicate stratum keys: 'a'"),
        (pd.Series([1], index=[7]), pd.Series([3], index=[7]), "satisfied: stratum keys must be strings, got 7"),
    ],
)
def test_invalid_counts_are_refused(satisfied: pd.Series, rated: pd.Series, message: str) -> None:
    with pytest.raises(SamplingError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        stratum_sd_from_counts(satisfied, rated)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("prior", [0, -0.5, math.nan, math.inf, True])
def test_invalid_prior_is_refused(prior: float) -> None:
    with pytest.raises(SamplingError, match="prior must be a finite number > 0"):
        stratum_sd_from_counts(counts(a=1), counts(a=2), prior=prior)


def test_not_a_series_is_refused() -> None:
    with pytest.raises(SamplingError, match="must be pandas Series"):
        stratum_sd_from_counts({"a": 1}, counts(a=2))
