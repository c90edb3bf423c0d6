"""Tests for analysis.keying_quality: per-keyer speed, error rates and the verification threshold."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats import binomtest

from analysis.keying_quality import KEYER_RATE_COLUMNS, error_rate_interval, exceeds_error_threshold, keyer_rates


def totals(**columns: dict[int, float]) -> dict[str, pd.Series]:
    return {name: pd.Series(values) for name, values in columns.items()}


# three keyers (ids 11, 12, 13):
#   11: 40 forms, 2000 fields, 7200 s = 2 h, 6 errors
#   12: nothing finished yet (0 forms, 0 fields, 0 s, 0 errors)
#   13: 10 forms, 300 fields, 1800 s = 0.5 h, 4 errors
ROUND = totals(
    forms={11: 40, 12: 0, 13: 10},
    fields={11: 2000, 12: 0, 13: 300},
    seconds={11: 7200.0, 12: 0.0, 13: 1800.0},
    errors={11: 6, 12: 0, 13: 4},
)


def test_rates_hand_computed() -> None:
    # 11: 40 / 2 h = 20 forms/h;   1000 * 6 / 2000 = 3.0 per 1000
    # 12: no time, no field: both rates undefined (NaN), never "exceeds"
    # 13: 10 / 0.5 h = 20 forms/h; 1000 * 4 / 300 = 13.333333 per 1000 > 5
    out = keyer_rates(**ROUND, threshold_per_1000=5.0)
    assert list(out.columns) == [*KEYER_RATE_COLUMNS, "exceeds_threshold"]
    assert list(out.index) == [11, 12, 13]
    assert out["forms"].tolist() == [40, 0, 10]
    assert out["fields"].dtype == np.int64
    assert_allclose(out["hours"], [2.0, 0.0, 0.5], rtol=1e-12)
    assert_allclose(out["forms_per_hour"], [20.0, math.nan, 20.0], rtol=1e-12)
    assert_allclose(out["errors_per_1000"], [3.0, math.nan, 13.333333], rtol=1e-6)
    assert out["exceeds_threshold"].tolist() == [False, False, True]


def test_wilson_interval_hand_computed() -> None:
    # k = 6, n = 2000, z = 1.959964, z^2 = 3.841459
    # centre = (6 + 1.920730) / (2000 + 3.841459) = 7.920730 / 2003.841459 = 0.0039528
    # half   = 1.959964 / 2003.841459 * sqrt(6 * 1994 / 2000 + 3.841459 / 4)
    #        = 0.00097811 * sqrt(5.982 + 0.960365) = 0.00097811 * 2.634837 = 0.0025772
    # -> (1.3756, 6.5300) per 1000
    low, high = error_rate_interval(6, 2000) or (math.nan, math.nan)
    assert_allclose([low, high], [1.37563, 6.52992], rtol=1e-5)
    out = keyer_rates(**ROUND)
    assert_allclose([out.loc[11, "errors_per_1000_low"], out.loc[11, "errors_per_1000_high"]], [low, high], rtol=1e-12)
    assert math.isnan(out.loc[12, "errors_per_1000_low"])


@pytest.mark.parametrize(("k", "n"), [(0, 50), (4, 300), (6, 2000), (50, 50), (1, 1)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_scipy(k: int, n: int, confidence: float) -> None:
    # reference: scipy.stats.binomtest(k, n).proportion_ci(confidence_level, method="wilson")
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    got = error_rate_interval(k, n, confidence=confidence)
    assert got is not None
    assert_allclose(got, [1000 * ci.low, 1000 * ci.high], rtol=1e-9, atol=1e-12)


def test_interval_undefined_without_fields() -> None:
    assert error_rate_interval(0, 0) is None


def test_threshold_is_strict_and_exact() -> None:
    # 1 error in 200 fields is exactly 5.0 per 1000: not above 5.0
    assert exceeds_error_threshold(1, 200, 5.0) is False
    assert exceeds_error_threshold(2, 200, 5.0) is True  # 10.0
    # 3 in 1000 = 3.0 per 1000 vs 2.999...: above; vs 3: not above (no float rounding involved)
    assert exceeds_error_threshold(3, 1000, 2.999) is True
    assert exceeds_error_threshold(3, 1000, 3) is False
    # 51 in 10000 = 5.1 per 1000: the threshold 5.1 is read as 51/10, so equal and not above
    assert exceeds_error_threshold(51, 10000, 5.1) is False
    assert exceeds_error_threshold(0, 1000, 0) is False
    assert exceeds_error_threshold(1, 1000, 0) is True


def test_no_fields_never_exceeds() -> None:
    assert exceeds_error_threshold(0, 0, 5.0) is False
    assert exceeds_error_threshold(0, 0, 0.0) is False


def test_more_errors_than_fields_is_a_rate_but_not_an_interval() -> None:
    out = keyer_rates(**totals(forms={1: 1}, fields={1: 2}, seconds={1: 60.0}, errors={1: 3}), threshold_per_1000=5)
    assert out.loc[1, "errors_per_1000"] == 1500.0
    assert bool(out.loc[1, "exceeds_threshold"]) is True
    assert math.isnan(out.loc[1, "errors_per_1000_low"])
    assert exceeds_error_threshold(3, 2, 5.0) is True
    with pytest.raises(ValueError, match=r"errors \(3\) exceed fields \(2\)"):
        error_rate_interval(3, 2)


def test_time_without_forms_and_forms_without_time() -> None:
    # 1: 0 forms in 1 h -> 0 forms/h (defined); 2: 5 forms in 0 s (no timestamps) -> undefined
    out = keyer_rates(
        **totals(forms={1: 0, 2: 5}, fields={1: 0, 2: 100}, seconds={1: 3600.0, 2: 0.0}, errors={1: 0, 2: 0})
    )
    assert out.loc[1, "forms_per_hour"] == 0.0
    assert math.isnan(out.loc[2, "forms_per_hour"])
    assert out.loc[2, "errors_per_1000"] == 0.0


def test_series_are_aligned_by_keyer_id_and_not_mutated() -> None:
    shuffled = {name: s.iloc[::-1] for name, s in ROUND.items()}
    shuffled["forms"] = ROUND["forms"]
    before = {name: s.copy() for name, s in shuffled.items()}
    out = keyer_rates(**shuffled)
    pd.testing.assert_frame_equal(out, keyer_rates(**ROUND))
    for name, s in shuffled.items():
        pd.testing.assert_series_equal(s, before[name])


def test_no_threshold_no_column() -> None:
    assert list(keyer_rates(**ROUND).columns) == list(KEYER_RATE_COLUMNS)


@pytest.mark.parametrize("dtype", [np.int64, object])
def test_empty_input(dtype: type) -> None:
    empty = pd.Series([], dtype=dtype)
    out = keyer_rates(forms=empty, fields=empty, seconds=empty, errors=empty, threshold_per_1000=5.0)
    assert len(out) == 0
    assert list(out.columns) == [*KEYER_RATE_COLUMNS, "exceeds_threshold"]
    assert out["forms"].dtype == np.int64
    assert out["errors_per_1000"].dtype == np.float64
    assert out["exceeds_threshold"].dtype == bool


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("forms", {11: -1, 12: 0, 13: 10}, r"forms has negative values for keyer\(s\) \[11\]"),
        ("fields", {11: 2000, 12: math.nan, 13: 300}, r"fields has missing \(NaN\) values for keyer\(s\) \[12\]"),
        ("errors", {11: 6, 12: 0, 13: 1.5}, r"errors must be whole numbers; see keyer\(s\) \[13\]"),
        ("seconds", {11: 7200.0, 12: -1.0, 13: 1800.0}, r"seconds has negative values for keyer\(s\) \[12\]"),
        ("seconds", {11: math.inf, 12: 0.0, 13: 1800.0}, r"seconds has infinite values for keyer\(s\) \[11\]"),
        ("errors", {11: True, 12: False, 13: True}, "errors must be numeric, got dtype bool"),
        ("forms", {11: "40", 12: "0", 13: "10"}, "forms must be numeric, got dtype"),
        ("errors", {11: 6, 13: 4}, r"errors must have the same keyer ids as forms; extra: \[\], missing: \[12\]"),
        ("fields", {11: 1, 12: 0, 13: 3, 14: 9}, r"fields must have the same keyer ids as forms; extra: \[14\]"),
    ],
)
def test_invalid_totals(column: str, values: dict[int, object], message: str) -> None:
    bad = {**ROUND, column: pd.Series(values)}
    with pytest.raises(ValueError, match=message):
        keyer_rates(**bad)


def test_duplicate_keyer_ids() -> None:
    bad = {**ROUND, "forms": pd.Series([1, 2], index=[11, 11])}
    with pytest.raises(ValueError, match=r"forms has duplicate keyer ids: \[11\]"):
        keyer_rates(**bad)


def test_not_a_series() -> None:
    with pytest.raises(ValueError, match="errors must be a pandas Series indexed by keyer id"):
        keyer_rates(**{**ROUND, "errors": [6, 0, 4]})


@pytest.mark.parametrize("threshold", [-1.0, math.nan, math.inf, True])
def test_invalid_threshold(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold_per_1000 must be a finite number >= 0"):
        exceeds_error_threshold(1, 100, threshold)
    with pytest.raises(ValueError, match="threshold_per_1000 must be a finite number >= 0"):
        keyer_rates(**ROUND, threshold_per_1000=threshold)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, math.nan])
def test_invalid_confidence(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        error_rate_interval(1, 100, confidence=confidence)
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        keyer_rates(**ROUND, confidence=confidence)


@pytest.mark.parametrize(("errors", "fields"), [(-1, 10), (1, -10), (1.0, 10), (True, 10), (1, math.nan)])
def test_invalid_scalar_counts(errors: int, fields: int) -> None:
    with pytest.raises(ValueError, match="must be a non-negative integer"):
        exceeds_error_threshold(errors, fields, 5.0)
    with pytest.raises(ValueError, match="must be a non-negative integer"):
        error_rate_interval(errors, fields)


def test_numpy_integer_counts_are_accepted() -> None:
    assert exceeds_error_threshold(np.int64(2), np.int64(200), 5.0) is True
