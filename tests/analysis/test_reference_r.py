"""Compare with reference values computed by R's survey package (tests/analysis/r/reference.R).

The numbers in tests/analysis/data/reference*.csv were produced by running that script on
tests/analysis/data/responses.csv; R is not needed to run these tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.design import make_design
from analysis.estimators import svy_mean, svy_ratio, svy_total
from analysis.rates import compare_domains, estimate_rates
from analysis.weighting import trim_weights

RTOL = 1e-6
CASES = ["d1", "d1_elements", "d2", "d3", "d1_remove", "cal", "ps", "trim"]


def _rates_case(case, responses, designs, reference, spec):
    items = list(spec.items)
    ref = reference[(reference.case == case) & reference.indicator.isin([*items, *"ABCDE", "SIPAS"])]
    by = {dv: responses[dv] for dv in ref.domain_var.unique() if dv != "all"}
    rule = "elements" if case == "d1_elements" else "items"
    tab = estimate_rates(responses[items], designs[case], composites=spec.composites(rule), by=by, percent=False)
    merged = ref.merge(tab, on=["domain_var", "domain", "indicator"], suffixes=("_r", ""))
    assert len(merged) == len(ref)
    return merged


@pytest.mark.parametrize("case", [c for c in CASES if c != "d1_remove"])
def test_rates_match_r(case, responses, designs, reference, spec):
    """Item rates (svymean / svyciprop logit on the valid domain subset) and indices
    (svyratio covmat + linear contrast) by domain, with df = degf() of the domain subset."""
    m = _rates_case(case, responses, designs, reference, spec)
    assert_allclose(m["estimate"], m["estimate_r"], rtol=RTOL)
    assert_allclose(m["se"], m["se_r"], rtol=RTOL, atol=1e-12)
    assert_allclose(m["df"], m["df_r"], rtol=0)
    assert_allclose(m["n"], m["n_r"], rtol=0)
    # R's svyciprop(method = "logit") returns [0, NA] when df = 1 (its t-to-normal level
    # conversion overflows); elsewhere the closed form must agree.
    ci = m["ci_low_r"].notna() & m["ci_high_r"].notna()
    assert ci.sum() >= 0.5 * len(m)
    assert_allclose(m.loc[ci, "ci_low"], m.loc[ci, "ci_low_r"], rtol=RTOL)
    assert_allclose(m.loc[ci, "ci_high"], m.loc[ci, "ci_high_r"], rtol=RTOL)
    items = m["indicator"].isin(spec.items) & m["deff_r"].gt(0)
    assert_allclose(m.loc[items, "deff"], m.loc[items, "deff_r"], rtol=RTOL, atol=1e-12)


def test_df_zero_gives_empty_interval_and_flag(responses, designs, reference, spec):
    m = _rates_case("d1", responses, designs, reference, spec)
    zero = m[m["df_r"] <= 0]
    assert len(zero) > 0  # the single-PSU domains of `level`
    assert zero["ci_low"].isna().all() and zero["ci_high"].isna().all()
    assert zero["flag"].str.contains("df<=0").all()


def test_lonely_psu_stratum_contributes(responses, designs, reference):
    """p5_khac has one PSU: "adjust" centres it at zero, "remove" drops it."""
    r = responses
    y = r["B2"].between(4, 5).astype(float).where(r["B2"].between(1, 5))
    adj = svy_mean(y, designs["d1"]).se
    rem = svy_mean(y, designs["d1_remove"]).se
    assert adj > rem


GENERIC = {
    "mean_score_A1": "mean",
    "total_s_B2": "total",
    "ratio_C1": "ratio",
}


@pytest.mark.parametrize("case", ["d1", "d2", "d3", "d1_remove", "cal", "ps"])
def test_svymean_svytotal_svyratio_match_r(case, responses, designs, reference):
    r = responses
    design = designs[case]
    valid_a1 = r["A1"].between(1, 5)
    score = r["A1"].where(valid_a1)
    s_b2 = r["B2"].between(4, 5).astype(float)
    s_c1 = r["C1"].between(4, 5).astype(float)
    v_c1 = r["C1"].between(1, 5).astype(float)
    ref = reference[(reference.case == case) & reference.indicator.isin(GENERIC)]
    assert len(ref) == 6
    for row in ref.itertuples():
        dom = None if row.domain == "all" else (r["channel"] == row.domain).to_numpy()
        if row.indicator == "mean_score_A1":
            est = svy_mean(score, design, dom)
        elif row.indicator == "total_s_B2":
            est = svy_total(s_b2, design, dom)
        else:
            est = svy_ratio(s_c1, v_c1, design, dom)
        got = [est.value, est.se, est.ci_low, est.ci_high, est.deff]
        want = [row.estimate, row.se, row.ci_low, row.ci_high, row.deff]
        assert_allclose(got, want, rtol=RTOL, err_msg=f"{case} {row.indicator} {row.domain}")
        assert est.df == row.df and est.n == row.n


def test_calibrated_weights_match_r(designs, reference_weights):
    """calibrate(calfun = "raking"), postStratify() and trimWeights() weights."""
    assert_allclose(designs["cal"].weights, reference_weights["w_cal"], rtol=1e-8)
    assert_allclose(designs["ps"].weights, reference_weights["w_ps"], rtol=1e-10)
    upper = float(reference_weights["trim_upper"].iloc[0])
    assert_allclose(trim_weights(reference_weights["w_cal"], upper=upper), reference_weights["w_trim"], rtol=1e-10)
    assert_allclose(designs["trim"].weights, reference_weights["w_trim"], rtol=1e-8)


@pytest.fixture(scope="session")
def reference_diff(data_dir):
    return pd.read_csv(data_dir / "reference_diff.csv", dtype={"a": str, "b": str})


@pytest.mark.parametrize("case", ["d1", "cal"])
def test_domain_differences_match_r(case, responses, designs, reference_diff, spec):
    ref = reference_diff[reference_diff.case == case]
    for row in ref.itertuples():
        var = "channel" if row.indicator != "SIPAS" else "period"
        diffs = compare_domains(
            responses[list(spec.items)],
            designs[case],
            responses[var],
            row.a,
            row.b,
            composites=spec.composites(),
            percent=False,
        )
        d = next(x for x in diffs if x.indicator == row.indicator)
        assert_allclose(
            [d.estimate_a, d.estimate_b, d.difference, d.se, d.p_value],
            [row.est_a, row.est_b, row.difference, row.se, row.p_value],
            rtol=RTOL,
        )
        assert d.df == row.df


def test_weights_from_fpc_are_population_over_sample(responses):
    d = make_design(strata=responses["stratum"], fpc=responses["fpc"] * 40)
    n_h = responses.groupby("stratum")["stratum"].transform("size")
    assert_allclose(d.weights, responses["fpc"] * 40 / n_h)
    assert np.isfinite(d.fpc).all()
