"""A domain without respondents is a flagged empty row, never an error."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.design import make_design
from analysis.rates import Composite, estimate_rates, estimate_shares
from analysis.weighting import calibrate_design

ANSWERS = pd.DataFrame({"A1": [4, 5, 3, 2, 5, 4.0], "A2": [5, 2, 4, 9, 4, 5.0]})
COMPOSITES = [Composite("S", ("A1", "A2"))]


def test_domain_variable_with_no_respondent_gives_no_rows_or_expected_empty_rows() -> None:
    design = make_design(strata=list("aaabbb"), fpc=[10] * 3 + [8] * 3)
    nobody = np.array([None] * 6, dtype=object)
    table = estimate_rates(ANSWERS, design, composites=COMPOSITES, by={"ldx": nobody})
    assert set(table["domain_var"]) == {"all"}
    table = estimate_rates(
        ANSWERS,
        design,
        composites=COMPOSITES,
        by={"ldx": nobody, "group": np.array(list("xxyyxx"), dtype=object)},
        levels={"ldx": ["LDX"], "group": ["x", "y", "z"]},
    )
    empty = table[table["domain"].isin(["LDX", "z"])]
    assert len(empty) == 6
    assert empty["estimate"].isna().all() and (empty["n"] == 0).all()
    assert empty["flag"].str.contains("no_data").all()
    # the other domains are what they are without the empty ones
    without = estimate_rates(
        ANSWERS, design, composites=COMPOSITES, by={"group": np.array(list("xxyyxx"), dtype=object)}
    )
    kept = table[table["domain"].isin(["all", "x", "y"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, without.reset_index(drop=True))


def test_empty_domain_on_a_calibrated_design_and_in_shares() -> None:
    design = make_design(n=6)
    cells = np.array(list("ppqqpq"), dtype=object)
    design, _ = calibrate_design(design, {"cell": cells}, {"cell": {"p": 30.0, "q": 20.0}}, method="poststratify")
    nobody = np.array([None] * 6, dtype=object)
    table = estimate_rates(ANSWERS, design, composites=COMPOSITES, by={"ldx": nobody}, levels={"ldx": ["LDX"]})
    assert table[table["domain"] == "LDX"]["flag"].str.contains("no_data").all()
    shares = estimate_shares(
        ANSWERS,
        design,
        valid_codes=(1, 2, 3, 4, 5),
        report=[("top", (5,))],
        by={"ldx": nobody},
        levels={"ldx": ["LDX"]},
    )
    assert (shares[shares["domain"] == "LDX"]["n"] == 0).all()
