"""Tests for analysis.response_rates: AAPOR dispositions and outcome rates (Standard Definitions, 10th ed.)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis.response_rates import (
    DISPOSITIONS,
    AaporRates,
    DispositionCounts,
    aapor_rates,
    disposition_counts,
    proportional_eligibility,
)

# The web layer's outcome codes (survey/models/paper.py OUTCOMES), copied: analysis tests do not import survey.
OUTCOME_DISPOSITION = {
    "completed": "I",
    "partial": "P",
    "refused": "R",
    "break_off": "R",
    "not_reachable": "NC",
    "not_home": "NC",
    "language": "O",
    "moved": "UO",
    "wrong_contact": "UH",
    "ineligible": "NE",
    "deceased": "NE",
}


def defined(*rates: float | None) -> list[float]:
    """The rates as floats, failing the test if one is None."""
    assert all(r is not None for r in rates), rates
    return [float(r) for r in rates if r is not None]


# I = 120, P = 10, R = 25, NC = 30, O = 5, UH = 8, UO = 12, NE = 20
ROUND = DispositionCounts(
    complete=120,
    partial=10,
    refusal=25,
    non_contact=30,
    other=5,
    unknown_household=8,
    unknown_other=12,
    not_eligible=20,
)


def test_rates_hand_computed() -> None:
    # D = (I+P) + (R+NC+O) + (UH+UO) = 130 + 60 + 20 = 210
    # RR1 = 120/210 = 0.5714286          RR2 = 130/210 = 0.6190476
    # e = (I+P+R+NC+O) / (... + NE) = 190/210 = 19/21 = 0.9047619
    # RR3 denominator = 190 + (19/21)*20 = 190 + 380/21 = 4370/21 = 208.0952381
    # RR3 = 120 * 21/4370 = 252/437 = 0.5766590   RR4 = 130 * 21/4370 = 273/437 = 0.6247140
    # COOP1 = I / ((I+P)+R+O) = 120/160 = 0.75
    # REF1 = 25/210 = 0.1190476          CON1 = ((I+P)+R+O) / D = 160/210 = 0.7619048
    r = aapor_rates(ROUND)
    assert_allclose(
        defined(r.rr1, r.rr2, r.rr3, r.rr4, r.coop1, r.ref1, r.con1, r.e),
        [0.5714286, 0.6190476, 0.5766590, 0.6247140, 0.75, 0.1190476, 0.7619048, 0.9047619],
        rtol=1e-6,
    )
    assert r.rr3 == pytest.approx(252 / 437, rel=1e-12)
    assert r.pending == 0
    assert r.interim is False
    assert r.counts == ROUND


def test_given_e() -> None:
    # e = 0: RR3 = 120/190 = 0.6315789, RR4 = 130/190 = 0.6842105
    r0 = aapor_rates(ROUND, e=0)
    assert_allclose(defined(r0.rr3, r0.rr4), [0.6315789, 0.6842105], rtol=1e-6)
    assert r0.e == 0.0
    # e = 1: RR3 = RR1, RR4 = RR2
    r1 = aapor_rates(ROUND, e=1.0)
    assert (r1.rr3, r1.rr4) == (r1.rr1, r1.rr2)
    # e = 0.5: denominator 190 + 10 = 200 -> RR3 = 0.6, RR4 = 0.65; other rates do not depend on e
    r5 = aapor_rates(ROUND, e=0.5)
    assert_allclose(defined(r5.rr3, r5.rr4), [0.6, 0.65], rtol=1e-12)
    assert (r5.rr1, r5.coop1, r5.ref1, r5.con1) == (r0.rr1, r0.coop1, r0.ref1, r0.con1)


def test_interim_counts_pending_cases_as_unknown() -> None:
    # pending = 10 -> UH = 18, D = 220: RR1 = 120/220 = 0.5454545, CON1 = 160/220 = 0.7272727
    # e is unchanged (19/21); RR3 denominator = 190 + (19/21)*30 = 190 + 190/7 = 1520/7
    # RR3 = 120 * 7/1520 = 0.5526316
    r = aapor_rates(ROUND, pending=10)
    assert r.interim is True
    assert r.pending == 10
    assert r.counts.unknown_household == 18
    assert ROUND.unknown_household == 8  # input not modified
    assert_allclose(defined(r.rr1, r.con1, r.rr3, r.e), [0.5454545, 0.7272727, 0.5526316, 0.9047619], rtol=1e-6)
    # COOP1 does not involve unknowns
    assert r.coop1 == 0.75


def test_all_zero_gives_none_not_nan() -> None:
    r = aapor_rates(DispositionCounts())
    assert (r.rr1, r.rr2, r.rr3, r.rr4, r.coop1, r.ref1, r.con1, r.e) == (None,) * 8
    assert r.interim is False


def test_only_ineligible_cases() -> None:
    # every denominator is 0; e = 0/20 = 0 is defined but RR3's denominator 0 + 0*0 is 0
    r = aapor_rates(DispositionCounts(not_eligible=20))
    assert r.e == 0.0
    assert (r.rr1, r.rr2, r.rr3, r.rr4, r.coop1, r.ref1, r.con1) == (None,) * 7


def test_only_pending_cases_at_the_start_of_fieldwork() -> None:
    # UH = 5 (pending) -> D = 5: RR1 = 0, CON1 = 0; no known eligibility -> e and RR3/RR4 None; COOP1 None
    r = aapor_rates(DispositionCounts(), pending=5)
    assert (r.rr1, r.rr2, r.ref1, r.con1) == (0.0, 0.0, 0.0, 0.0)
    assert (r.e, r.rr3, r.rr4, r.coop1) == (None, None, None, None)
    assert r.interim is True
    # with an e given, RR3 is defined: 0 / (0 + 0.8*5) = 0
    assert aapor_rates(DispositionCounts(), pending=5, e=0.8).rr3 == 0.0


def test_all_completed() -> None:
    r = aapor_rates(DispositionCounts(complete=7))
    assert (r.rr1, r.rr2, r.rr3, r.rr4, r.coop1, r.ref1, r.con1, r.e) == (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0)


def test_proportional_eligibility() -> None:
    assert proportional_eligibility(ROUND) == pytest.approx(19 / 21)
    assert proportional_eligibility(DispositionCounts(unknown_other=3)) is None


def test_disposition_counts_from_outcome_codes() -> None:
    # I = 120; P = 10; R = 20 + 5; NC = 18 + 12; O = 5; UO = 12; UH = 8; NE = 15 + 5
    outcomes = {
        "completed": 120,
        "partial": 10,
        "refused": 20,
        "break_off": 5,
        "not_reachable": 18,
        "not_home": 12,
        "language": 5,
        "moved": 12,
        "wrong_contact": 8,
        "ineligible": 15,
        "deceased": 5,
    }
    before = dict(outcomes)
    assert disposition_counts(outcomes, OUTCOME_DISPOSITION) == ROUND
    assert outcomes == before
    assert disposition_counts({}, OUTCOME_DISPOSITION) == DispositionCounts()
    from_numpy = {"completed": np.int64(3)}  # counts as a DataFrame query returns them
    assert disposition_counts(from_numpy, OUTCOME_DISPOSITION).complete == 3


def test_as_dict_and_totals() -> None:
    assert ROUND.as_dict() == {"I": 120, "P": 10, "R": 25, "NC": 30, "O": 5, "UH": 8, "UO": 12, "NE": 20}
    assert tuple(ROUND.as_dict()) == DISPOSITIONS
    assert (ROUND.eligible, ROUND.unknown, ROUND.total) == (190, 20, 230)


def test_results_are_frozen() -> None:
    r = aapor_rates(ROUND)
    assert isinstance(r, AaporRates)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.rr1 = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        ROUND.complete = 0


def test_unknown_outcome_code_is_named() -> None:
    with pytest.raises(ValueError, match=r"outcome code\(s\) 'emigrated' have no AAPOR disposition"):
        disposition_counts({"completed": 3, "emigrated": 1}, OUTCOME_DISPOSITION)


def test_unknown_disposition_in_the_mapping() -> None:
    with pytest.raises(ValueError, match=r"unknown AAPOR disposition\(s\) 'odd' -> 'X'"):
        disposition_counts({"completed": 3}, {"completed": "I", "odd": "X"})


@pytest.mark.parametrize("n", [-1, 2.5, math.nan, True, "3"])
def test_bad_outcome_count(n: object) -> None:
    with pytest.raises(ValueError, match="count of outcome 'refused' must be a non-negative integer"):
        disposition_counts({"refused": n}, OUTCOME_DISPOSITION)


@pytest.mark.parametrize("n", [-1, 1.0, math.nan, None, True])
def test_bad_disposition_count(n: object) -> None:
    with pytest.raises(ValueError, match="refusal must be a non-negative integer count"):
        DispositionCounts(refusal=n)


@pytest.mark.parametrize("e", [-0.1, 1.5, math.nan, math.inf, True, "0.5"])
def test_bad_e(e: object) -> None:
    with pytest.raises(ValueError, match=r"e must be a finite number in \[0, 1\]"):
        aapor_rates(ROUND, e=e)


@pytest.mark.parametrize("pending", [-1, 1.5, None, True])
def test_bad_pending(pending: object) -> None:
    with pytest.raises(ValueError, match="pending must be a non-negative integer"):
        aapor_rates(ROUND, pending=pending)


def test_counts_must_be_disposition_counts() -> None:
    with pytest.raises(ValueError, match="counts must be a DispositionCounts, got dict"):
        aapor_rates({"I": 3})
