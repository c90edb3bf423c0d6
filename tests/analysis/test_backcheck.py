"""The back-check sample: sizes, reproducibility from the codes alone, top-ups, and that it is
a simple random sample within each interviewer."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from analysis.backcheck import (
    BackCheckError,
    back_check_size,
    draw_back_check,
    permanent_random_number,
    summarise,
)


@pytest.mark.parametrize(
    ("n", "share", "expected"),
    [(0, 0.1, 0), (1, 0.1, 1), (9, 0.1, 1), (10, 0.1, 1), (11, 0.1, 2), (30, 0.1, 3), (31, 0.1, 4), (5, 1.0, 5)],
)
def test_size_is_the_share_rounded_up_at_least_one(n: int, share: float, expected: int) -> None:
    assert back_check_size(n, share) == expected


def test_bad_parameters_are_refused() -> None:
    for share in (0, -0.1, 1.5):
        with pytest.raises(BackCheckError, match="share"):
            back_check_size(10, share)
    with pytest.raises(BackCheckError, match="seed"):
        draw_back_check({"a": ["x"]}, share=0.1, seed=-1)


def test_same_codes_and_seed_give_the_same_sample_in_any_order() -> None:
    codes = {f"ban{k}": [f"HS-{k}-{i:04d}" for i in range(57)] for k in range(4)}
    first = draw_back_check(codes, share=0.1, seed=2026)
    shuffled = {k: random.Random(k).sample(v, len(v)) for k, v in reversed(list(codes.items()))}
    again = draw_back_check(shuffled, share=0.1, seed=2026)
    assert first == again
    assert all(len(v) == 6 for v in first.drawn.values())  # ceil(5.7)
    assert draw_back_check(codes, share=0.1, seed=2027).drawn != first.drawn


def test_a_later_draw_keeps_what_was_drawn_and_tops_up() -> None:
    early = {"a": [f"HS-{i:03d}" for i in range(20)]}
    first = draw_back_check(early, share=0.1, seed=7)
    assert len(first.drawn["a"]) == 2
    later = {"a": early["a"] + [f"HS-{i:03d}" for i in range(20, 40)]}
    second = draw_back_check(later, share=0.1, seed=7, already={"a": first.drawn["a"]})
    assert second.target["a"] == 4 and len(second.drawn["a"]) == 2
    assert not set(second.drawn["a"]) & set(first.drawn["a"])
    # The top-up takes the smallest random numbers among the interviews not drawn yet.
    ranks = sorted(later["a"], key=lambda c: permanent_random_number(7, c))
    assert second.drawn["a"] == [c for c in ranks if c not in first.drawn["a"]][:2]


def test_every_unit_is_equally_likely_to_be_drawn() -> None:
    """Simple random sampling within an interviewer: over many seeds each of 10 interviews is
    drawn in about 2/10 of the draws (binomial, 4,000 draws: sd ≈ 0.0063, allow 5 sd)."""
    codes = {"a": [f"HS-{i}" for i in range(10)]}
    hits: Counter[str] = Counter()
    runs = 4000
    for seed in range(runs):
        hits.update(draw_back_check(codes, share=0.2, seed=seed).drawn["a"])
    for code in codes["a"]:
        assert hits[code] / runs == pytest.approx(0.2, abs=5 * (0.2 * 0.8 / runs) ** 0.5)


def test_summary_counts_and_share() -> None:
    summary = summarise(5, ["confirmed", "confirmed", "discrepancy", "unreachable", None])
    assert (summary.drawn, summary.checked, summary.reached, summary.confirmed, summary.discrepancies) == (
        5,
        4,
        3,
        2,
        1,
    )
    assert summary.confirmed_share == pytest.approx(2 / 3)
    assert summarise(1, [None]).confirmed_share is None
