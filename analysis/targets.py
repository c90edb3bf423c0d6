"""An estimate against a target: met, not met, or not conclusive from the data.

The decision reads the confidence interval, not the point estimate: a target of ``≥ T`` is
*met* when the whole interval lies at or above ``T``, *not met* when the whole interval lies
below ``T``, and *inconclusive* when the interval contains ``T`` (the sample cannot tell).
A cell without an interval (no data, ``df <= 0``) has no verdict.
"""

from __future__ import annotations

import math

__all__ = ["TARGET_STATES", "target_status"]

TARGET_STATES = ("met", "not_met", "inconclusive", "no_data")


def target_status(ci_low: float | None, ci_high: float | None, target: float) -> str:
    """``met`` if ``ci_low >= target``; ``not_met`` if ``ci_high < target``; else
    ``inconclusive``; ``no_data`` when an interval end is missing (None or NaN).

    Estimates and target on the same scale (percent or proportion)."""
    if ci_low is None or ci_high is None or math.isnan(ci_low) or math.isnan(ci_high):
        return "no_data"
    if ci_low >= target:
        return "met"
    if ci_high < target:
        return "not_met"
    return "inconclusive"
