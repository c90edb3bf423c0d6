"""Drivers regression against R svyglm(quasibinomial) (tests/analysis/r/drivers.R)."""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.drivers import element_scores, fit_drivers


@pytest.mark.parametrize("case", ["d1", "cal"])
def test_drivers_match_svyglm(case, responses, designs, spec, data_dir):
    ref = pd.read_csv(data_dir / "reference_drivers.csv")
    ref = ref[ref.case == case]
    scores = element_scores(responses, spec.elements).add_prefix("score_")
    preds = pd.concat([scores, responses[["channel", "age"]]], axis=1)
    tab = fit_drivers(responses["satisfied_overall"], preds, designs[case], categorical=["channel", "age"])
    names = {"channel[qr]": "channelqr", "age[35-49]": "age35-49", "age[50+]": "age50+"}
    tab["term"] = tab["term"].replace(names)
    m = ref.merge(tab, on="term", suffixes=("_r", ""))
    assert len(m) == len(ref) == 9
    assert_allclose(m["coef"], m["coef_r"], rtol=1e-6)
    assert_allclose(m["se"], m["se_r"], rtol=1e-6)
    assert (m["df"] == m["df_r"]).all()
    assert (tab["or_low"] < tab["odds_ratio"]).all() and (tab["odds_ratio"] < tab["or_high"]).all()
