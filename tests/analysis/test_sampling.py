"""Tests for analysis.sampling: allocation, reproducible stratified selection, reserves."""

from __future__ import annotations

import dataclasses
import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.sampling import (
    FIELD_GROUPS,
    AllocationRule,
    SamplingError,
    allocate,
    draw,
    inclusion_probabilities,
    next_reserve,
    sample_size_for_margin,
)


def sizes(**n: int) -> pd.Series:
    return pd.Series(n, dtype=np.int64)


def n_h(result: pd.DataFrame) -> dict[str, int]:
    return {k: int(v) for k, v in result["n_h"].items()}


# --------------------------------------------------------------------------------------------
# allocate: proportional
# --------------------------------------------------------------------------------------------


def test_proportional_with_minimum_hand_checked() -> None:
    # N = [1000, 300, 50, 10], sum 1360, total 200, minimum 20.
    # Plain shares 200 * N / 1360 = 147.06, 44.12, 7.35, 1.47: c and d fall below their floors
    # min(20, N_h) = 20 and 10, so they are fixed there; 200 - 30 = 170 goes to a and b:
    # 170 * 1000/1300 = 130.769, 170 * 300/1300 = 39.231 -> floors 130 + 39 = 169, one unit left,
    # largest remainder .769 (a) -> a = 131.  Result [131, 39, 20, 10], sum 200.
    # Reserves at 40 %: ceil(52.4) = 53, ceil(15.6) = 16, ceil(8.0) = 8, d has nothing left -> 0.
    out = allocate(sizes(a=1000, b=300, c=50, d=10), AllocationRule("proportional", total_n=200, minimum=20))
    expected = pd.DataFrame(
        {"N_h": [1000, 300, 50, 10], "n_h": [131, 39, 20, 10], "reserve_h": [53, 16, 8, 0]},
        index=["a", "b", "c", "d"],
        dtype=np.int64,
    )
    pd.testing.assert_frame_equal(out, expected)


def test_proportional_exact_shares() -> None:
    # 100 * [500, 300, 200] / 1000 = [50, 30, 20] exactly
    out = allocate(sizes(a=500, b=300, c=200), AllocationRule("proportional", total_n=100))
    assert n_h(out) == {"a": 50, "b": 30, "c": 20}
    assert out["n_h"].sum() == 100


def test_proportional_without_minimum_small_strata_may_get_zero() -> None:
    # 10 * [1000, 5, 5] / 1010 = [9.90, 0.0495, 0.0495] -> floors [9, 0, 0], a has the largest remainder
    out = allocate(sizes(a=1000, b=5, c=5), AllocationRule("proportional", total_n=10))
    assert n_h(out) == {"a": 10, "b": 0, "c": 0}


def test_largest_remainder_ties_go_to_the_first_key_whatever_the_order() -> None:
    # 10 / 3 = 3.33 each -> floors 3, 3, 3, one unit left, three equal remainders -> key "a"
    rule = AllocationRule("proportional", total_n=10)
    out = allocate(sizes(c=10, b=10, a=10), rule)
    assert list(out.index) == ["c", "b", "a"]  # indexed like the input
    assert n_h(out) == {"a": 4, "b": 3, "c": 3}


def test_minimums_force_more_than_total() -> None:
    # three strata with minimum 5 but total 10: every stratum gets its minimum, achieved total 15
    out = allocate(sizes(a=100, b=100, c=3), AllocationRule("proportional", total_n=10, minimum=5))
    assert n_h(out) == {"a": 5, "b": 5, "c": 3}
    assert out["n_h"].sum() == 13


def test_minimum_and_cap() -> None:
    # total 60 over N = [1000, 8]; min 20: b is smaller than the minimum -> all 8; a gets 52
    out = allocate(sizes(a=1000, b=8), AllocationRule("proportional", total_n=60, minimum=20))
    assert n_h(out) == {"a": 52, "b": 8}


def test_total_equal_to_frame_takes_everything() -> None:
    out = allocate(sizes(a=7, b=3, c=0), AllocationRule("proportional", total_n=10, reserve_rate=0.5))
    assert n_h(out) == {"a": 7, "b": 3, "c": 0}
    assert out["reserve_h"].tolist() == [0, 0, 0]


def test_proportional_oversample() -> None:
    # weights 500 * 1.5 = 750 and 500 -> 100 * 750/1250 = 60, 40
    rule = AllocationRule("proportional", total_n=100, oversample={"dat_dai": 1.5})
    groups = pd.Series({"hn_dat": "dat_dai", "hn_khac": "khac"})
    out = allocate(sizes(hn_dat=500, hn_khac=500), rule, field_group_of=groups)
    assert n_h(out) == {"hn_dat": 60, "hn_khac": 40}


def test_reserve_rate_is_read_as_a_decimal() -> None:
    # 0.1 * 30 is 3.0000000000000004 in floating point; the reserve must still be 3
    out = allocate(sizes(a=100), AllocationRule("fixed", per_stratum=30, reserve_rate=0.1))
    assert out["reserve_h"].tolist() == [3]


# --------------------------------------------------------------------------------------------
# allocate: fixed and neyman
# --------------------------------------------------------------------------------------------


def test_fixed_with_cap_and_oversample() -> None:
    # 385 everywhere; b has only 300 -> all of it; c (dau_tu) oversampled 1.2 -> 462
    # reserves 40 %: ceil(154) = 154 (<= 615 left), 0 left in b, ceil(184.8) = 185
    rule = AllocationRule("fixed", per_stratum=385, oversample={"dau_tu": 1.2})
    groups = pd.Series({"a": "khac", "b": "xay_dung", "c": "dau_tu"})
    out = allocate(sizes(a=1000, b=300, c=5000), rule, field_group_of=groups)
    assert n_h(out) == {"a": 385, "b": 300, "c": 462}
    assert out["reserve_h"].tolist() == [154, 0, 185]


def test_fixed_rounds_half_up_and_respects_minimum() -> None:
    groups = pd.Series({"a": "dat_dai", "b": "khac"})
    out = allocate(
        sizes(a=100, b=100), AllocationRule("fixed", per_stratum=5, oversample={"dat_dai": 1.5}), field_group_of=groups
    )
    assert n_h(out) == {"a": 8, "b": 5}  # 7.5 -> 8
    out = allocate(sizes(a=100, b=100), AllocationRule("fixed", per_stratum=5, minimum=6))
    assert n_h(out) == {"a": 6, "b": 6}


def test_neyman_differs_from_proportional_when_sd_differ() -> None:
    # equal N, S = 0.1 and 0.4: Neyman shares 50 as 10 : 40, proportional as 25 : 25
    n = sizes(a=100, b=100)
    sd = pd.Series({"a": 0.1, "b": 0.4})
    assert n_h(allocate(n, AllocationRule("neyman", total_n=50), stratum_sd=sd)) == {"a": 10, "b": 40}
    assert n_h(allocate(n, AllocationRule("proportional", total_n=50))) == {"a": 25, "b": 25}


def test_neyman_missing_sd_defaults_to_half() -> None:
    # S = [0.25, 0.5 (absent), 0.5 (NaN)] -> weights 25, 50, 50 -> 50 * [0.2, 0.4, 0.4] = 10, 20, 20
    sd = pd.Series({"a": 0.25, "c": np.nan})
    out = allocate(sizes(a=100, b=100, c=100), AllocationRule("neyman", total_n=50), stratum_sd=sd)
    assert n_h(out) == {"a": 10, "b": 20, "c": 20}


def test_neyman_cap_reshares() -> None:
    # weights 10 * 5 = 50 and 1000 * 0.01 = 10 -> plain 83.3 / 16.7 but a has only 10 -> a = 10, b = 90
    sd = pd.Series({"a": 5.0, "b": 0.01})
    out = allocate(sizes(a=10, b=1000), AllocationRule("neyman", total_n=100), stratum_sd=sd)
    assert n_h(out) == {"a": 10, "b": 90}


def test_neyman_zero_sd_only_takes_what_is_left() -> None:
    sd = pd.Series({"a": 0.0, "b": 0.5})
    rule50 = AllocationRule("neyman", total_n=50, minimum=2)
    assert n_h(allocate(sizes(a=100, b=100), rule50, stratum_sd=sd)) == {"a": 2, "b": 48}
    # b is taken whole (100), the other 50 go to a
    out = allocate(sizes(a=100, b=100), AllocationRule("neyman", total_n=150), stratum_sd=sd)
    assert n_h(out) == {"a": 50, "b": 100}


def test_allocate_does_not_mutate_inputs_and_keeps_the_index() -> None:
    n = pd.Series([30, 20], index=pd.Index(["x", "y"], name="stratum"))
    sd = pd.Series({"x": 0.3, "y": 0.5})
    oversample = {"dat_dai": 2.0}
    groups = pd.Series({"x": "dat_dai", "y": "khac"})
    copies = (n.copy(), sd.copy(), dict(oversample), groups.copy())
    rule = AllocationRule("neyman", total_n=10, oversample=oversample)
    oversample["dat_dai"] = 99.0  # the rule keeps its own copy
    assert rule.oversample["dat_dai"] == 2.0
    out = allocate(n, rule, stratum_sd=sd, field_group_of=groups)
    assert out.index.name == "stratum"
    pd.testing.assert_series_equal(n, copies[0])
    pd.testing.assert_series_equal(sd, copies[1])
    pd.testing.assert_series_equal(groups, copies[3])


def test_rule_is_frozen_and_hashable() -> None:
    rule = AllocationRule("proportional", total_n=10, oversample={"dat_dai": 1.5})
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.total_n = 20
    with pytest.raises(TypeError):
        rule.oversample["dat_dai"] = 3.0
    assert hash(rule) == hash(AllocationRule("proportional", total_n=10, oversample={"dat_dai": 1.5}))


# --------------------------------------------------------------------------------------------
# allocate: errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "proportional"}, r"the proportional method needs total_n"),
        ({"method": "neyman"}, r"the neyman method needs total_n"),
        ({"method": "fixed"}, r"the fixed method needs per_stratum"),
        ({"method": "fixed", "per_stratum": 5, "total_n": 10}, r"the fixed method does not use total_n"),
        ({"method": "proportional", "total_n": 10, "per_stratum": 5}, r"does not use per_stratum"),
        ({"method": "random", "total_n": 10}, r"unknown allocation method 'random'"),
        ({"method": "proportional", "total_n": -1}, r"total_n must be a non-negative integer"),
        ({"method": "fixed", "per_stratum": 2.5}, r"per_stratum must be a non-negative integer"),
        ({"method": "proportional", "total_n": 10, "minimum": -2}, r"minimum must be a non-negative integer"),
        ({"method": "proportional", "total_n": 10, "reserve_rate": -0.1}, r"reserve_rate must be in \[0, 1\]"),
        ({"method": "proportional", "total_n": 10, "reserve_rate": 1.5}, r"reserve_rate must be in \[0, 1\]"),
        ({"method": "proportional", "total_n": 10, "reserve_rate": math.nan}, r"reserve_rate must be in \[0, 1\]"),
        (
            {"method": "proportional", "total_n": 10, "oversample": {"giao_thong": 2.0}},
            r"oversample names unknown field group\(s\) 'giao_thong'",
        ),
        (
            {"method": "proportional", "total_n": 10, "oversample": {"dat_dai": 0.0}},
            r"oversample factor for 'dat_dai' must be a finite number > 0",
        ),
    ],
)
def test_rule_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(SamplingError, match=message):
        AllocationRule(**kwargs)


def test_sampling_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="needs total_n"):
        AllocationRule("proportional")


PROP10 = AllocationRule("proportional", total_n=10)


@pytest.mark.parametrize(
    ("n", "rule", "kwargs", "message"),
    [
        (sizes(a=5, b=4), PROP10, {}, r"total_n = 10 exceeds the frame size sum\(N_h\) = 9"),
        (sizes(a=50, b=-4), PROP10, {}, r"stratum_sizes has negative sizes for stratum/strata 'b'"),
        (pd.Series({"a": 50.0, "b": 4.5}), PROP10, {}, r"stratum_sizes must be whole numbers; see stratum/strata 'b'"),
        (pd.Series({"a": 50.0, "b": np.nan}), PROP10, {}, r"stratum_sizes has missing values"),
        (pd.Series({"a": "50"}), PROP10, {}, r"stratum_sizes must be numeric"),
        (pd.Series([], dtype=np.int64), PROP10, {}, r"stratum_sizes is empty"),
        (pd.Series([5, 6], index=["a", "a"]), PROP10, {}, r"stratum_sizes has duplicate stratum keys: 'a'"),
        (pd.Series([50, 60], index=[1, 2]), PROP10, {}, r"stratum keys must be strings, got 1, 2"),
        (sizes(a=50, b=50), AllocationRule("neyman", total_n=10), {}, r"the neyman method needs stratum_sd"),
        (
            sizes(a=50, b=50),
            AllocationRule("neyman", total_n=10),
            {"stratum_sd": pd.Series({"a": -0.1})},
            r"stratum_sd must be finite and >= 0; see stratum/strata 'a'",
        ),
        (
            sizes(a=50, b=50),
            AllocationRule("neyman", total_n=10),
            {"stratum_sd": pd.Series({"z": 0.3})},
            r"stratum_sd names stratum/strata not in stratum_sizes: 'z'",
        ),
        (
            sizes(a=50, b=50),
            AllocationRule("proportional", total_n=10, oversample={"dat_dai": 2.0}),
            {},
            r"rule.oversample is set but field_group_of .* is not given",
        ),
        (
            sizes(a=50, b=50),
            AllocationRule("proportional", total_n=10, oversample={"dat_dai": 2.0}),
            {"field_group_of": pd.Series({"a": "dat_dai"})},
            r"field_group_of has no field group for stratum/strata 'b'",
        ),
        (
            sizes(a=50, b=50),
            AllocationRule("proportional", total_n=10, oversample={"dat_dai": 2.0}),
            {"field_group_of": pd.Series({"a": "dat_dai", "b": "y_te"})},
            r"field_group_of has unknown field group\(s\) 'y_te'",
        ),
    ],
)
def test_allocate_errors(n: pd.Series, rule: AllocationRule, kwargs: dict, message: str) -> None:
    with pytest.raises(SamplingError, match=message):
        allocate(n, rule, **kwargs)


# --------------------------------------------------------------------------------------------
# allocate: property test
# --------------------------------------------------------------------------------------------


def _exact(x: float) -> Fraction:
    return Fraction(repr(float(x)))


@st.composite
def allocation_cases(draw_: st.DrawFn) -> tuple[pd.Series, AllocationRule, pd.Series, pd.Series]:
    k = draw_(st.integers(1, 10))
    big_n = draw_(st.lists(st.integers(0, 3000), min_size=k, max_size=k))
    keys = [f"s{i:02d}" for i in range(k)]
    method = draw_(st.sampled_from(["proportional", "neyman", "fixed"]))
    oversample = draw_(st.dictionaries(st.sampled_from(FIELD_GROUPS), st.floats(0.25, 4.0), max_size=4))
    common = {
        "minimum": draw_(st.integers(0, 60)),
        "oversample": oversample,
        "reserve_rate": draw_(st.floats(0.0, 1.0)),
    }
    if method == "fixed":
        rule = AllocationRule("fixed", per_stratum=draw_(st.integers(0, 500)), **common)
    else:
        rule = AllocationRule(method, total_n=draw_(st.integers(0, sum(big_n))), **common)
    sd = pd.Series(draw_(st.lists(st.floats(0.05, 5.0), min_size=k, max_size=k)), index=keys)
    groups = pd.Series(draw_(st.lists(st.sampled_from(FIELD_GROUPS), min_size=k, max_size=k)), index=keys)
    return pd.Series(big_n, index=keys, dtype=np.int64), rule, sd, groups


@settings(max_examples=300, deadline=None)
@given(allocation_cases())
def test_allocation_respects_all_constraints(case: tuple[pd.Series, AllocationRule, pd.Series, pd.Series]) -> None:
    big_n, rule, sd, groups = case
    out = allocate(big_n, rule, stratum_sd=sd, field_group_of=groups)
    assert list(out.columns) == ["N_h", "n_h", "reserve_h"]
    assert out.index.equals(big_n.index)
    assert (out["N_h"] == big_n).all()
    lower = np.minimum(rule.minimum, big_n)
    assert (out["n_h"] <= out["N_h"]).all()
    assert (out["n_h"] >= lower).all()
    rate = _exact(rule.reserve_rate)
    for nh, rh, size in zip(out["n_h"], out["reserve_h"], out["N_h"], strict=True):
        assert rh == min(math.ceil(rate * int(nh)), int(size) - int(nh))
    factor = {k: _exact(rule.oversample.get(groups[k], 1.0)) for k in big_n.index}
    if rule.method == "fixed":
        for k in big_n.index:
            want = min(max(math.floor(rule.per_stratum * factor[k] + Fraction(1, 2)), rule.minimum), int(big_n[k]))
            assert out.loc[k, "n_h"] == want
        return
    if lower.sum() >= rule.total_n:
        assert (out["n_h"] == lower).all()
        return
    assert out["n_h"].sum() == rule.total_n
    # largest-remainder (Hamilton) rounding of the exact continuous allocation x_h = clip(λ w_h, L_h, N_h):
    # every n_h is floor(x_h) or ceil(x_h), and a stratum rounded up never has a smaller remainder
    # than one rounded down (equal remainders: the key that sorts first goes up)
    keys = list(big_n.index)
    weight = [int(big_n[k]) * factor[k] * (_exact(sd[k]) if rule.method == "neyman" else 1) for k in keys]
    x = _continuous_target(weight, [int(v) for v in lower], [int(v) for v in big_n], rule.total_n)
    assert sum(x) == rule.total_n
    n = [int(v) for v in out["n_h"]]
    assert all(math.floor(xi) <= ni <= math.ceil(xi) for xi, ni in zip(x, n, strict=True))
    up = [(xi - math.floor(xi), k) for xi, ni, k in zip(x, n, keys, strict=True) if ni > xi]
    down = [(xi - math.floor(xi), k) for xi, ni, k in zip(x, n, keys, strict=True) if ni < xi]
    if up and down:
        assert min(f for f, _ in up) >= max(f for f, _ in down)
        for fu, ku in up:
            assert all(ku < kd for fd, kd in down if fd == fu)


def _continuous_target(weight: list[Fraction], lower: list[int], upper: list[int], total: int) -> list[Fraction]:
    """Reference: x_h = clip(λ w_h, L_h, U_h) with sum x_h = total, λ found by scanning every breakpoint."""

    def x_at(lam: Fraction) -> list[Fraction]:
        return [min(max(lam * w, Fraction(lo)), Fraction(up)) for w, lo, up in zip(weight, lower, upper, strict=True)]

    points = sorted(
        {Fraction(0)} | {b / w for w, lo, up in zip(weight, lower, upper, strict=True) if w > 0 for b in (lo, up)}
    )
    for a, b in itertools.pairwise(points):
        ga, gb = sum(x_at(a)), sum(x_at(b))
        if ga <= total <= gb:
            return x_at(a if ga == gb else a + (total - ga) * (b - a) / (gb - ga))
    return x_at(points[-1])


# --------------------------------------------------------------------------------------------
# draw
# --------------------------------------------------------------------------------------------

STRATA = {"HN|dat_dai": 40, "HN|khac": 25, "HCM|xay_dung": 12, "HCM|dau_tu": 3}


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = [(f"{key.replace('|', '-')}-{i:03d}", key) for key, n in STRATA.items() for i in range(n)]
    out = pd.DataFrame(rows, columns=["dossier", "stratum"])
    out["received"] = pd.Timestamp("2024-05-01")
    return out


@pytest.fixture
def design() -> pd.DataFrame:
    # fixed 10 per stratum, 40 % reserve: n = [10, 10, 10, 3], reserve = [4, 4, 2, 0]
    return allocate(pd.Series(STRATA), AllocationRule("fixed", per_stratum=10))


def test_design_fixture(design: pd.DataFrame) -> None:
    assert design["n_h"].tolist() == [10, 10, 10, 3]
    assert design["reserve_h"].tolist() == [4, 4, 2, 0]


def test_draw_counts_roles_and_membership(frame: pd.DataFrame, design: pd.DataFrame) -> None:
    sel = draw(frame, design, stratum_col="stratum", id_col="dossier", seed=20240501)
    assert list(sel.columns) == ["dossier", "stratum", "role", "order"]
    assert sel.index.equals(pd.RangeIndex(len(sel)))
    assert not sel["dossier"].duplicated().any()
    counts = sel.groupby(["stratum", "role"]).size().to_dict()
    assert counts == {
        ("HN|dat_dai", "main"): 10,
        ("HN|dat_dai", "reserve"): 4,
        ("HN|khac", "main"): 10,
        ("HN|khac", "reserve"): 4,
        ("HCM|xay_dung", "main"): 10,
        ("HCM|xay_dung", "reserve"): 2,
        ("HCM|dau_tu", "main"): 3,
    }
    truth = frame.set_index("dossier")["stratum"]
    assert (truth.loc[sel["dossier"]].to_numpy() == sel["stratum"].to_numpy()).all()
    for key, group in sel.groupby("stratum"):
        n, r = int(design.loc[key, "n_h"]), int(design.loc[key, "reserve_h"])
        assert group["order"].tolist() == list(range(1, n + r + 1))
        assert group["role"].tolist() == ["main"] * n + ["reserve"] * r
    assert list(dict.fromkeys(sel["stratum"])) == sorted(STRATA)  # strata in key order
    assert sel["dossier"].dtype == frame["dossier"].dtype


def test_draw_is_reproducible_whatever_the_row_and_stratum_order(frame: pd.DataFrame, design: pd.DataFrame) -> None:
    first = draw(frame, design, stratum_col="stratum", id_col="dossier", seed=7)
    frame_copy, design_copy = frame.copy(), design.copy()
    shuffled = frame.sample(frac=1.0, random_state=np.random.RandomState(3)).set_index(
        pd.Index(np.arange(len(frame)) * 7 + 100)
    )
    shuffled = shuffled[["received", "stratum", "dossier"]]
    reordered = design.iloc[::-1]
    again = draw(shuffled, reordered, stratum_col="stratum", id_col="dossier", seed=7)
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, draw(frame, design, stratum_col="stratum", id_col="dossier", seed=7))
    # inputs untouched
    pd.testing.assert_frame_equal(frame, frame_copy)
    pd.testing.assert_frame_equal(design, design_copy)


def test_draw_depends_on_the_seed(frame: pd.DataFrame, design: pd.DataFrame) -> None:
    a = draw(frame, design, stratum_col="stratum", id_col="dossier", seed=1)
    b = draw(frame, design, stratum_col="stratum", id_col="dossier", seed=2)
    assert not a.equals(b)
    assert set(a.loc[a["stratum"] == "HN|dat_dai", "dossier"]) != set(b.loc[b["stratum"] == "HN|dat_dai", "dossier"])


# produced by the first implementation (SeedSequence([2024, crc32(key)]) -> PCG64 raw words -> Fisher–Yates)
PINNED_2024 = [104, 107, 106, 109, 116, 101, 126, 120, 124]


def test_draw_stream_is_pinned() -> None:
    """Guards bit-for-bit stability across numpy/pandas versions: a stored seed must give the same sample."""
    frame = pd.DataFrame({"id": np.arange(100, 130), "s": ["A"] * 20 + ["B"] * 10})
    design = pd.DataFrame({"N_h": [20, 10], "n_h": [4, 2], "reserve_h": [2, 1]}, index=["A", "B"])
    sel = draw(frame, design, stratum_col="s", id_col="id", seed=2024)
    assert sel["id"].dtype == np.int64
    assert sel["id"].tolist() == PINNED_2024


def test_draw_takes_whole_stratum_and_empty_design_strata() -> None:
    frame = pd.DataFrame({"id": ["x1", "x2", "y1"], "s": ["X", "X", "Y"]})
    design = pd.DataFrame({"N_h": [2, 1, 0], "n_h": [2, 0, 0], "reserve_h": [0, 1, 0]}, index=["X", "Y", "Z"])
    sel = draw(frame, design, stratum_col="s", id_col="id", seed=0)
    assert sorted(sel.loc[sel["s"] == "X", "id"]) == ["x1", "x2"]
    assert sel.loc[sel["s"] == "Y", ["id", "role", "order"]].values.tolist() == [["y1", "reserve", 1]]


def test_draw_selection_is_uniform() -> None:
    # 200 strata of 20 units, 5 main + 3 reserves, over 10 seeds = 2000 stratum draws. Unit u (rank
    # within its stratum) is main with probability 5/20 = 0.25 and reserve with 3/20 = 0.15;
    # binomial sd over 2000 draws is <= 0.0097, the tolerance 0.05 is > 5 sd.
    n_strata, size = 200, 20
    keys = [f"p{s:03d}|khac" for s in range(n_strata)]
    frame = pd.DataFrame(
        {"id": [f"{k}#{u:02d}" for k in keys for u in range(size)], "s": [k for k in keys for _ in range(size)]}
    )
    design = pd.DataFrame({"N_h": size, "n_h": 5, "reserve_h": 3}, index=keys)
    main = np.zeros(size)
    reserve = np.zeros(size)
    for seed in range(10):
        sel = draw(frame, design, stratum_col="s", id_col="id", seed=seed)
        rank = sel["id"].str[-2:].astype(int).to_numpy()
        is_main = (sel["role"] == "main").to_numpy()
        main += np.bincount(rank[is_main], minlength=size)
        reserve += np.bincount(rank[~is_main], minlength=size)
    draws = 10 * n_strata
    assert np.abs(main / draws - 0.25).max() < 0.05
    assert np.abs(reserve / draws - 0.15).max() < 0.05


def test_draw_errors(frame: pd.DataFrame, design: pd.DataFrame) -> None:
    kw = {"stratum_col": "stratum", "id_col": "dossier", "seed": 1}
    dup = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    with pytest.raises(SamplingError, match=r"duplicate ids: 'HN-dat_dai-000'"):
        draw(dup, design, **kw)
    extra = pd.concat([frame, pd.DataFrame({"dossier": ["new"], "stratum": ["DN|khac"]})], ignore_index=True)
    with pytest.raises(SamplingError, match=r"frame strata missing from the design: 'DN\|khac'"):
        draw(extra, design, **kw)
    with pytest.raises(SamplingError, match=r"design strata missing from the frame: 'HCM\|dau_tu'"):
        draw(frame[frame["stratum"] != "HCM|dau_tu"], design, **kw)
    with pytest.raises(
        SamplingError, match=r"design N_h differs from the frame count .*'HN\|khac' \(design N_h = 25, frame has 24\)"
    ):
        draw(frame.drop(index=frame.index[frame["stratum"] == "HN|khac"][:1]), design, **kw)
    too_many = design.assign(reserve_h=design["reserve_h"].where(design.index != "HCM|dau_tu", 1))
    with pytest.raises(
        SamplingError, match=r"design stratum 'HCM\|dau_tu': n_h \+ reserve_h = 3 \+ 1 = 4 exceeds N_h = 3"
    ):
        draw(frame, too_many, **kw)
    with pytest.raises(SamplingError, match=r"design lacks column\(s\) \['reserve_h'\]"):
        draw(frame, design.drop(columns="reserve_h"), **kw)
    with pytest.raises(SamplingError, match=r"frame has no column 'id' \(id_col\)"):
        draw(frame, design, stratum_col="stratum", id_col="id", seed=1)
    with pytest.raises(SamplingError, match=r"seed must be a non-negative integer, got -1"):
        draw(frame, design, stratum_col="stratum", id_col="dossier", seed=-1)
    with pytest.raises(SamplingError, match=r"seed must be a non-negative integer, got 1.5"):
        draw(frame, design, stratum_col="stratum", id_col="dossier", seed=1.5)
    missing_id = frame.assign(dossier=frame["dossier"].where(frame.index != 3, None))
    with pytest.raises(SamplingError, match=r"'dossier' has 1 missing id\(s\)"):
        draw(missing_id, design, **kw)


# --------------------------------------------------------------------------------------------
# next_reserve
# --------------------------------------------------------------------------------------------


def test_next_reserve_order_and_exhaustion(frame: pd.DataFrame, design: pd.DataFrame) -> None:
    sel = draw(frame, design, stratum_col="stratum", id_col="dossier", seed=11)
    key = "HN|khac"
    reserves = sel[(sel["stratum"] == key) & (sel["role"] == "reserve")].sort_values("order")["dossier"].tolist()
    assert len(reserves) == 4
    used: list[str] = []
    for expected in reserves:
        got = next_reserve(sel, used, key)
        assert got == expected
        used.append(got)
    assert next_reserve(sel, used, key) is None
    # the first unused by order, even if a later one was used out of turn
    assert next_reserve(sel, [reserves[1]], key) == reserves[0]
    assert next_reserve(sel, iter([reserves[0], "unrelated"]), key) == reserves[1]
    # a stratum without reserves
    assert next_reserve(sel, [], "HCM|dau_tu") is None
    with pytest.raises(SamplingError, match=r"stratum 'DN\|khac' has no row in the selection"):
        next_reserve(sel, [], "DN|khac")


def test_next_reserve_with_integer_ids() -> None:
    frame = pd.DataFrame({"id": np.arange(10), "s": ["A"] * 10})
    design = pd.DataFrame({"N_h": [10], "n_h": [2], "reserve_h": [2]}, index=["A"])
    sel = draw(frame, design, stratum_col="s", id_col="id", seed=5)
    first = next_reserve(sel, [], "A")
    assert isinstance(first, int)
    assert next_reserve(sel, [np.int64(first)], "A") == sel.loc[sel["order"] == 4, "id"].item()


# --------------------------------------------------------------------------------------------
# sample sizes and inclusion probabilities
# --------------------------------------------------------------------------------------------


def test_sample_size_for_margin() -> None:
    # n0 = 1.959964^2 * 0.25 / 0.05^2 = 384.15 -> 385
    assert sample_size_for_margin(0.05) == 385
    assert sample_size_for_margin() == 385
    # fpc, N = 1000: 384.15 / (1 + 383.15 / 1000) = 277.74 -> 278
    assert sample_size_for_margin(0.05, population=1000) == 278
    # N = 100: 384.15 / (1 + 383.15 / 100) = 79.51 -> 80
    assert sample_size_for_margin(0.05, population=100) == 80
    # never more than the population
    assert sample_size_for_margin(0.05, population=1) == 1
    # ±3 pp: 1067.07 -> 1068; deff 2: 768.29 -> 769; p = 0.2: 245.85 -> 246; 99 %: 663.49 -> 664
    assert sample_size_for_margin(0.03) == 1068
    assert sample_size_for_margin(0.05, deff=2.0) == 769
    assert sample_size_for_margin(0.05, p=0.2) == 246
    assert sample_size_for_margin(0.05, confidence=0.99) == 664


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 0.0}, r"margin must be strictly between 0 and 1"),
        ({"p": 1.0}, r"p must be strictly between 0 and 1"),
        ({"confidence": 1.2}, r"confidence must be strictly between 0 and 1"),
        ({"deff": 0.0}, r"deff must be a finite number > 0"),
        ({"population": 0}, r"population must be a positive integer"),
    ],
)
def test_sample_size_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(SamplingError, match=message):
        sample_size_for_margin(**kwargs)


def test_inclusion_probabilities() -> None:
    design = pd.DataFrame({"N_h": [1000, 300, 0], "n_h": [131, 300, 0], "reserve_h": [53, 0, 0]}, index=["a", "b", "c"])
    pi = inclusion_probabilities(design)
    assert pi.name == "pi_h"
    assert pi.index.equals(design.index)
    np.testing.assert_array_equal(pi.to_numpy(), [0.131, 1.0, np.nan])


def test_expected_interviews_at_an_assumed_response_rate() -> None:
    from analysis.sampling import SamplingError, expected_interviews

    design = pd.DataFrame({"N_h": [40, 30, 0], "n_h": [4, 3, 0], "reserve_h": [2, 1, 0]}, index=["a", "b", "c"])
    got = expected_interviews(design, 0.5)
    assert got.name == "expected" and list(got.index) == ["a", "b", "c"]
    assert got.tolist() == [2.0, 1.5, 0.0]
    for bad in (0, 1.2, float("nan"), -0.1):
        with pytest.raises(SamplingError, match="response_rate"):
            expected_interviews(design, bad)
