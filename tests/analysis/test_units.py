"""Unit tests: weighting helpers, diagnostics, intervals, questionnaire spec, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from statsmodels.stats.proportion import proportion_confint

from analysis.design import DesignError, make_design
from analysis.intervals import ci_logit, ci_wilson
from analysis.rates import Composite, estimate_rates
from analysis.weighting import (
    WeightingError,
    design_weights,
    nonresponse_adjust,
    post_stratify,
    rake,
    trim_weights,
    weight_diagnostics,
)


def test_spec_from_questionnaire(spec):
    assert spec.code == "SIPAS"
    assert spec.items == tuple(
        f"{e}{i}" for e, k in zip("ABCDE", (3, 4, 3, 3, 3), strict=True) for i in range(1, k + 1)
    )
    assert [e for e, _ in spec.elements] == list("ABCDE")
    assert spec.valid_codes == (1, 2, 3, 4, 5) and spec.missing_codes == (9,)
    assert spec.satisfied_codes == (4, 5) and spec.aggregation == "items"
    mong_doi = next(s for s in spec.shares if s.id == "mong_doi")
    assert len(mong_doi.items) == 10 and mong_doi.report == (("rat_mong_muon", (4,)), ("mong_muon_tro_len", (3, 4)))
    nhan_thuc = next(s for s in spec.shares if s.id == "nhan_thuc")
    assert nhan_thuc.items == ("P1", "P2") and [c for c, _ in nhan_thuc.report] == ["1", "2", "3"]
    assert spec.composites("elements")[-1].parts == tuple("ABCDE")


def test_design_weights_and_nonresponse():
    strata = np.array(["a", "a", "a", "b", "b"])
    d = design_weights(strata, {"a": 30, "b": 10})
    assert_allclose(d, [10, 10, 10, 5, 5])
    adj = nonresponse_adjust(d, strata, [True, True, False, True, False])
    assert_allclose(adj, [15, 15, 0, 10, 0])
    assert_allclose(adj.sum(), d.sum())
    with pytest.raises(WeightingError, match="cell 'b' has no respondents"):
        nonresponse_adjust(d, strata, [True, True, True, False, False])
    with pytest.raises(WeightingError, match="frame count 2 < sample size 3"):
        design_weights(strata, {"a": 2, "b": 10})


def test_post_stratify_and_rake_agree_for_one_margin():
    rng = np.random.default_rng(1)
    w = rng.uniform(1, 3, 50)
    cells = rng.choice(["x", "y", "z"], 50)
    tot = {"x": 100.0, "y": 200.0, "z": 50.0}
    assert_allclose(post_stratify(w, cells, tot).weights, rake(w, {"c": cells}, {"c": tot}).weights)


def test_rake_errors():
    w = np.ones(6)
    f = {"a": np.array(list("xxyyzz")), "b": np.array(list("ststst"))}
    ok = {"a": {"x": 2, "y": 2, "z": 2}, "b": {"s": 3, "t": 3}}
    rake(w, f, ok)
    with pytest.raises(WeightingError, match="margin totals disagree: a sums to 6, b to 7"):
        rake(w, f, {**ok, "b": {"s": 3, "t": 4}})
    with pytest.raises(WeightingError, match="category 'z' of a is in the data"):
        rake(w, f, {**ok, "a": {"x": 3, "y": 3}})
    with pytest.raises(WeightingError, match="not a column"):
        rake(w, f, {"c": {"x": 1}})
    with pytest.raises(WeightingError, match="did not converge in 1 iterations"):
        rake(np.arange(1.0, 7.0), f, {"a": {"x": 1, "y": 2, "z": 3}, "b": {"s": 5, "t": 1}}, max_iter=1)


def test_trim_weights_r_semantics():
    w = np.array([1.0, 2.0, 3.0, 10.0])
    t = trim_weights(w, upper=5)
    assert_allclose(t, [1 + 5 / 3, 2 + 5 / 3, 3 + 5 / 3, 5])
    assert_allclose(t.sum(), w.sum())
    s = trim_weights(np.array([1.0, 1.0, 4.0, 10.0]), upper=4.5, strict=True)
    assert s.max() <= 4.5 + 1e-12 and np.isclose(s.sum(), 16)


def test_weight_diagnostics():
    w = np.array([1.0, 1.0, 2.0, 4.0])
    s = weight_diagnostics(w, population_total=10)
    assert s.min == 1 and s.median == 1.5 and s.max == 4 and s.total == 8
    assert_allclose(s.kish_n_eff, 64 / 22)
    assert_allclose(s.deff_w, 1 + (w.std() / w.mean()) ** 2)
    assert s.difference == -2


def test_wilson_matches_textbook_with_effective_n():
    p, n_star = 0.3, 250.0
    se = np.sqrt(p * (1 - p) / n_star)
    lo, hi = ci_wilson(p, se, 10**9)
    want = proportion_confint(p * n_star, n_star, alpha=0.05, method="wilson")
    assert_allclose([lo, hi], want, rtol=1e-7)


def test_logit_interval_closed_form():
    lo, hi = ci_logit(0.8, 0.05, 20)
    from scipy import stats

    half = stats.t.ppf(0.975, 20) * 0.05 / 0.16
    lg = np.log(4)
    assert_allclose([lo, hi], 1 / (1 + np.exp(-np.array([lg - half, lg + half]))))
    assert np.isnan(ci_logit(0.5, 0.1, 0)[0])


def test_flags_and_partial_index_and_no_mutation():
    rng = np.random.default_rng(3)
    n = 60
    ans = pd.DataFrame({"Q1": rng.choice([1, 4, 5], n).astype(float), "Q2": np.full(n, 9.0)})
    ans.loc[:20, "Q2"] = 4.0
    dom = np.where(np.arange(n) < 30, "a", "b")
    before = ans.copy()
    design = make_design(weights=np.ones(n) * 2)
    tab = estimate_rates(ans, design, composites=[Composite("I", ("Q1", "Q2"))], by={"d": dom})
    pd.testing.assert_frame_equal(ans, before)
    b = tab[(tab.domain == "b")].set_index("indicator")
    assert b.loc["Q2", "n"] == 0 and "no_data" in b.loc["Q2", "flag"] and np.isnan(b.loc["Q2", "estimate"])
    assert "partial" in b.loc["I", "flag"]
    assert_allclose(b.loc["I", "estimate"], b.loc["Q1", "estimate"])
    a = tab[(tab.domain == "a")].set_index("indicator")
    assert "n<30" in a.loc["Q2", "flag"]


def test_design_errors():
    with pytest.raises(DesignError, match="not constant within stratum"):
        make_design(strata=[1, 1, 2], fpc=[10, 11, 5])
    with pytest.raises(DesignError, match="smaller than its 2 sampled"):
        make_design(strata=[1, 1, 2], fpc=[1, 1, 5])
    with pytest.raises(DesignError, match="missing"):
        make_design(strata=[1, None, 2])
    with pytest.raises(DesignError, match="only one PSU"):
        make_design(strata=[1, 1, 2], psu=[1, 2, 3], lonely_psu="fail")


def test_shares_distribution_sums_to_100(spec):
    from analysis.rates import estimate_shares

    rng = np.random.default_rng(5)
    n = 200
    sh = next(s for s in spec.shares if s.id == "nhan_thuc")
    ans = pd.DataFrame({q: rng.choice([1.0, 2.0, 3.0, np.nan], n) for q in sh.items})
    design = make_design(weights=rng.uniform(1, 3, n), strata=rng.integers(0, 4, n))
    tab = estimate_shares(ans, design, valid_codes=sh.valid_codes, report=sh.report)
    for q in sh.items:
        rows = tab[tab.indicator.str.startswith(f"{q}:")]
        assert len(rows) == 3 and np.isclose(rows.estimate.sum(), 100)
    md = next(s for s in spec.shares if s.id == "mong_doi")
    ans2 = pd.DataFrame({q: rng.choice([1.0, 2.0, 3.0, 4.0], n) for q in md.items})
    t2 = estimate_shares(ans2, design, valid_codes=md.valid_codes, report=md.report).set_index("indicator")
    assert t2.loc["M01:rat_mong_muon", "estimate"] <= t2.loc["M01:mong_muon_tro_len", "estimate"]


def test_t_quantile_of_whole_df_is_scipys() -> None:
    """The command line's t quantiles (whole df, solved without scipy) equal scipy's; other df
    go to scipy itself; df <= 0 is NaN."""
    from scipy import special

    from analysis.intervals import EXACT_DF_LIMIT, t_quantile

    df = np.array([*range(1, 301), 499, 1000, 4000, 4001, 12345, EXACT_DF_LIMIT], dtype=float)
    for level in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999):
        np.testing.assert_allclose(t_quantile(df, level), special.stdtrit(df, 0.5 + level / 2), rtol=1e-10)
    odd = np.array([0.0, -2.0, 2.5, EXACT_DF_LIMIT + 1.0, np.nan])
    got = t_quantile(odd, 0.95)
    assert np.isnan(got[[0, 1, 4]]).all()
    np.testing.assert_allclose(got[2:4], special.stdtrit(odd[2:4], 0.975), rtol=1e-14)
