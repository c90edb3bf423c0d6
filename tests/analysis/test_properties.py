"""Property tests: raking reproduces margins, equal weights give plain proportions, domain
estimates equal subset estimates while their SEs use the full design."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from analysis.design import make_design
from analysis.estimators import svy_ratio
from analysis.rates import Composite, estimate_rates
from analysis.weighting import rake, trim_and_rake

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def raking_problem(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(30, 300))
    n_factors = draw(st.integers(1, 3))
    factors, margins = {}, {}
    # The margins are those of a positive weighting of these very rows, so a solution exists
    # (independently drawn margins can be infeasible when joint cells are empty: then no
    # algorithm converges, and the test would fail for the problem, not for the code).
    target = rng.uniform(0.2, 10.0, n) * draw(st.integers(10, 1000))
    for f in range(n_factors):
        k = draw(st.integers(2, 4))
        labels = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
        rng.shuffle(labels)
        factors[f"f{f}"] = labels.astype(str)
        tot = np.bincount(labels, weights=target, minlength=k)
        margins[f"f{f}"] = {str(i): float(t) for i, t in enumerate(tot)}
    w = rng.uniform(0.5, 5.0, n)
    return w, factors, margins


@SETTINGS
@given(raking_problem())
def test_raked_weights_reproduce_every_margin(problem):
    w, factors, margins = problem
    w_in = w.copy()
    res = rake(w, factors, margins, max_iter=2000)
    assert res.converged
    for var, tab in margins.items():
        got = pd.Series(res.weights).groupby(factors[var]).sum()
        for cat, tot in tab.items():
            assert abs(got[cat] - tot) <= 1e-8 * tot
    assert_allclose(w, w_in)  # input not mutated


@SETTINGS
@given(raking_problem(), st.floats(2.0, 6.0))
def test_trimmed_and_reraked_weights_keep_margins_and_cap(problem, k):
    w, factors, margins = problem
    try:
        res = trim_and_rake(w, factors, margins, k, max_iter=2000)
    except ValueError as exc:  # the cap can be infeasible for tiny categories
        assert "cannot cap" in str(exc) or "converge" in str(exc)
        return
    for var, tab in margins.items():
        got = pd.Series(res.weights).groupby(factors[var]).sum()
        for cat, tot in tab.items():
            assert abs(got[cat] - tot) <= 1e-8 * tot


def _answers(rng: np.random.Generator, n: int, j: int) -> pd.DataFrame:
    x = rng.choice([1, 2, 3, 4, 5, 9, np.nan], size=(n, j), p=[0.1, 0.1, 0.2, 0.3, 0.2, 0.05, 0.05])
    x[0, :] = 4  # every item has a valid answer
    return pd.DataFrame(x, columns=[f"Q{i}" for i in range(j)])


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.floats(0.1, 1000.0))
def test_equal_weights_reduce_to_plain_proportions(seed, c):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    ans = _answers(rng, n, 4)
    strata = rng.integers(0, 3, n)
    design = make_design(weights=np.full(n, c), strata=strata)
    tab = estimate_rates(ans, design, composites=[Composite("ALL", tuple(ans.columns))])
    x = ans.to_numpy()
    valid = np.isin(x, [1, 2, 3, 4, 5])
    plain = (np.isin(x, [4, 5]).sum(0) / valid.sum(0)) * 100
    got = tab.set_index("indicator")["estimate"]
    assert_allclose(got[list(ans.columns)], plain, rtol=1e-12)
    assert_allclose(got["ALL"], plain.mean(), rtol=1e-12)


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_domain_estimate_is_subset_estimate_with_full_design_se(seed):
    rng = np.random.default_rng(seed)
    n_psu = int(rng.integers(6, 20))
    sizes = rng.integers(3, 12, n_psu)
    psu = np.repeat(np.arange(n_psu), sizes)
    n = psu.size
    strata = psu % 3
    w = rng.uniform(1, 10, n)
    dom = rng.choice(["a", "b"], size=n)
    dom[0], dom[1] = "a", "b"
    ans = _answers(rng, n, 3)
    ans.iloc[1, :] = 5
    design = make_design(weights=w, strata=strata, psu=psu)
    full = estimate_rates(ans, design, by={"d": dom}, include_overall=False)
    mask = dom == "a"
    sub_design = make_design(weights=w[mask], strata=strata[mask], psu=psu[mask])
    sub = estimate_rates(ans[mask].reset_index(drop=True), sub_design)
    fa = full[full.domain == "a"].set_index("indicator")
    sa = sub.set_index("indicator")
    assert_allclose(fa["estimate"], sa["estimate"], rtol=1e-12)
    # SE: the full-design ratio with the numerator and denominator zeroed outside the domain
    for q in ans.columns:
        x = ans[q].to_numpy()
        num = (np.isin(x, [4, 5]) & mask).astype(float)
        den = (np.isin(x, [1, 2, 3, 4, 5]) & mask).astype(float)
        r = svy_ratio(num, den, design)
        assert_allclose(fa.loc[q, "se"], 100 * r.se, rtol=1e-9)
