"""Design weights N_h / n_h and the nonresponse adjustment N_h / r_h, against a hand count."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis.design_weights import stratum_weights


def test_weights_of_a_small_stratified_sample_by_hand() -> None:
    # stratum a: N = 120 dossiers, n = 6 drawn, r = 4 answered -> d = 20, adjusted = 30
    # stratum b: N = 50 dossiers, n = 5 drawn, r = 2 answered -> d = 10, adjusted = 25
    strata = ["a", "b", "a", "a", "b", "a"]
    population = [120, 50, 120, 120, 50, 120]
    sample_size = [6, 5, 6, 6, 5, 6]
    got = stratum_weights(strata, population, sample_size)
    assert_allclose(got.design, [20, 10, 20, 20, 10, 20])
    assert_allclose(got.adjusted, [30, 25, 30, 30, 25, 30])
    assert got.respondents == {"a": 4, "b": 2}
    # the adjusted weights of a stratum add up to its dossiers
    labels = np.asarray(strata)
    assert got.adjusted[labels == "a"].sum() == pytest.approx(120)
    assert got.adjusted[labels == "b"].sum() == pytest.approx(50)


def test_inputs_are_not_changed_and_full_response_leaves_design_weights() -> None:
    population = np.array([40.0, 40.0, 9.0])
    got = stratum_weights(np.array(["x", "x", "y"]), population, np.array([2.0, 2.0, 1.0]))
    assert_allclose(got.adjusted, got.design)
    assert_allclose(population, [40, 40, 9])


@pytest.mark.parametrize(
    ("strata", "population", "sample_size"),
    [
        (["a"], [10], [0]),  # n_h not positive
        (["a", "a"], [10, 12], [2, 2]),  # N_h differs within a stratum
        (["a", "a"], [10, 10], [2, 3]),  # n_h differs within a stratum
        (["a"], [3], [5]),  # more drawn than dossiers
        (["a", "b"], [10], [2]),  # lengths differ
    ],
)
def test_impossible_inputs_are_refused(strata: list[str], population: list[int], sample_size: list[int]) -> None:
    with pytest.raises(ValueError):
        stratum_weights(strata, population, sample_size)


def test_an_empty_sample_has_no_weights() -> None:
    got = stratum_weights([], [], [])
    assert got.design.size == 0 and got.respondents == {}
