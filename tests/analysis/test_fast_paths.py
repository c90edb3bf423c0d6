"""The fast paths of the engine give what the direct computations give.

* ``domain_variance_and_degf`` (sums over the (PSU, domain) pairs; after calibration the
  expanded sum of squares) against the dense PSU totals of ``domain_psu_totals`` +
  ``stratified_variance`` + ``domain_degf``, on designs with lonely PSUs, fpc, calibration,
  domains inside a single PSU and domains without rows;
* raking on joint-cell totals against the row-level iteration's fixed point (every margin met);
* categorical labels against the same labels as plain strings, through the whole estimate;
* one-byte item codes against float codes with NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from analysis.design import compact_codes, factorize_labels, make_design
from analysis.rates import Composite, estimate_rates
from analysis.variance import domain_degf, domain_psu_totals, domain_variance_and_degf, stratified_variance
from analysis.weighting import calibrate_design, rake


def _design(rng: np.random.Generator, n: int, lonely_psu: str, calibrated: bool):  # type: ignore[no-untyped-def]
    strata = rng.integers(0, 6, n)
    psu = rng.integers(0, 5, n)
    psu[strata == 5] = 0  # a stratum with a single PSU
    fpc = np.array([40, 30, 20, 50, 60, 10])[strata]
    weights = rng.uniform(1, 5, n)
    design = make_design(weights=weights, strata=strata, psu=psu, fpc=fpc, lonely_psu=lonely_psu)
    if calibrated:
        age = rng.integers(0, 3, n).astype(str)
        sex = rng.integers(0, 2, n).astype(str)
        margins = {
            "age": {str(a): float(weights[age == str(a)].sum() * 1.1) for a in range(3)},
            "sex": {str(s): float(weights[sex == str(s)].sum() * 1.1) for s in range(2)},
        }
        design, _ = calibrate_design(design, {"age": age, "sex": sex}, margins)
    return design


@pytest.mark.parametrize("calibrated", [False, True], ids=["design", "calibrated"])
@pytest.mark.parametrize("lonely_psu", ["adjust", "remove"])
def test_pairwise_variance_equals_dense(calibrated: bool, lonely_psu: str) -> None:
    rng = np.random.default_rng(11)
    n, k, n_domains = 600, 4, 7
    design = _design(rng, n, lonely_psu, calibrated)
    values = rng.normal(size=(n, k)) * (rng.uniform(size=(n, 1)) < 0.8)
    domain = rng.integers(-1, n_domains - 1, n)  # -1 = in no domain; the last domain has no rows
    first_psu = np.flatnonzero(design.psu == design.psu[0])
    domain[domain == 0] = 1
    domain[first_psu] = 0  # domain 0 lies inside a single PSU
    values[first_psu] -= values[first_psu].mean(axis=0)  # and its totals are zero up to rounding
    contributors = (rng.uniform(size=(n, k)) < 0.9).astype(float)
    calibration = design.calibration
    over_g = None if calibration is None else values * calibration.g_inverse[:, None]
    codes = None if calibration is None else calibration.codes
    dense = stratified_variance(design, domain_psu_totals(design, values, design.psu, domain, n_domains, over_g, codes))
    df_dense = domain_degf(design, contributors, design.psu, domain, n_domains)
    variance, df = domain_variance_and_degf(design, values, contributors, design.psu, domain, n_domains, over_g, codes)
    assert_array_equal(df, df_dense)
    assert_allclose(variance, dense, rtol=1e-9, atol=1e-12 * float(dense.max()))
    assert (variance[n_domains - 1] == 0).all()


def test_raking_on_joint_cells_meets_every_margin() -> None:
    rng = np.random.default_rng(5)
    n = 5000
    a = rng.integers(0, 7, n).astype(str)
    b = rng.integers(0, 3, n).astype(str)
    c = rng.integers(0, 2, n).astype(str)
    w0 = rng.uniform(0.5, 3, n)
    margins = {
        name: {str(x): float((labels == str(x)).sum() * 2.0) for x in np.unique(labels)}
        for name, labels in (("a", a), ("b", b), ("c", c))
    }
    result = rake(w0, {"a": a, "b": b, "c": c}, margins, tol=1e-12)
    assert result.converged and result.iterations > 1
    for name, labels in (("a", a), ("b", b), ("c", c)):
        for category, total in margins[name].items():
            assert np.isclose(result.weights[labels == category].sum(), total, rtol=1e-11)
    # the weights are d times one factor per category of each variable (the raking fixed point)
    ratio = result.weights / w0
    for cell in {(x, y, z) for x, y, z in zip(a, b, c, strict=True)}:
        rows = (a == cell[0]) & (b == cell[1]) & (c == cell[2])
        assert np.ptp(ratio[rows]) < 1e-12 * ratio[rows].max()


def test_categorical_labels_and_one_byte_codes_give_the_same_estimates() -> None:
    rng = np.random.default_rng(8)
    n = 3000
    codes = rng.choice([1, 2, 3, 4, 5, 9, -1], size=(n, 4), p=[0.05, 0.1, 0.2, 0.3, 0.25, 0.05, 0.05])
    as_float = pd.DataFrame(np.where(codes == -1, np.nan, codes).astype(float), columns=list("abcd"))
    as_byte = pd.DataFrame(codes.astype(np.int8), columns=list("abcd"))
    strata = rng.integers(0, 5, n).astype(str)
    psu = rng.integers(0, 8, n).astype(str)
    group = np.array(["x", " y", "z", None], dtype=object)[rng.integers(0, 4, n)]
    design_plain = make_design(weights=rng.uniform(1, 3, n), strata=strata, psu=psu)
    design_cat = make_design(
        weights=design_plain.weights, strata=pd.Categorical(strata), psu=pd.Series(psu, dtype="category")
    )
    assert_array_equal(design_plain.psu, design_cat.psu)
    composites = [Composite("AB", ("a", "b")), Composite("ALL", ("AB", "c", "d"))]
    plain = estimate_rates(as_float, design_plain, composites=composites, by={"g": group})
    fast = estimate_rates(
        as_byte,
        design_cat,
        composites=composites,
        by={"g": pd.Categorical(group, categories=["z", " y", "x", "unused"])},
    )
    pd.testing.assert_frame_equal(plain, fast, check_exact=False, rtol=1e-12)


def test_compact_codes_both_ways() -> None:
    key = np.array([7, 3, 7, 100, 3, 0])
    for size in (101, 10**9):  # presence table, then the sort of np.unique
        codes, some_row = compact_codes(key, size)
        assert_array_equal(codes, [2, 1, 2, 3, 1, 0])
        assert_array_equal(key[some_row], [0, 3, 7, 100])
    codes, labels = factorize_labels(pd.Categorical(["b", None, "a", "b"], categories=["c", "b", "a"]))
    assert_array_equal(codes, [1, -1, 0, 1]) and list(labels) == ["a", "b"]
