"""Quality of the keying of paper forms: per-keyer productivity and error rates.

Method document section 3: paper forms are double-keyed; when the two keyings of a form
disagree on a field, a supervisor settles it from the paper and attributes the error to the
first keying, the second or both. The database totals, per keyer, the forms finished, the
fields keyed, the time spent and the attributed errors (``GROUP BY keyer``); this module turns
those totals into rates:

* forms per hour ``= forms / (seconds / 3600)``, undefined when no time was recorded;
* errors per 1,000 fields ``= 1000 × errors / fields``, undefined when no field was keyed;
* a Wilson score interval for the error rate (optional reading aid);
* :func:`exceeds_error_threshold`, the rule that sends every form of a keyer to verification
  once their errors per 1,000 fields pass the round's threshold.

The error rate treats each keyed field as an independent Bernoulli trial. Errors cluster (by
form, by questionnaire item, by a keyer's bad day), so the interval is too narrow when they do;
it is meant to tell "3 errors in 200 fields" from "30 in 2,000", not as an exact test.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
*JASA* 22, 209-212.
Brown, L. D., Cai, T. T., DasGupta, A. (2001). Interval estimation for a binomial proportion.
*Statistical Science* 16, 101-133 (the Wilson interval, sec. 4.1.1).
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "KEYER_RATE_COLUMNS",
    "error_rate_interval",
    "exceeds_error_threshold",
    "keyer_rates",
]

KEYER_RATE_COLUMNS: tuple[str, ...] = (
    "forms",
    "fields",
    "hours",
    "errors",
    "forms_per_hour",
    "errors_per_1000",
    "errors_per_1000_low",
    "errors_per_1000_high",
)
"""Columns of :func:`keyer_rates` (plus ``exceeds_threshold`` when a threshold is given)."""


def _is_count(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool | np.bool_) and int(x) >= 0


def _finite_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_) and math.isfinite(float(x))


def _check_threshold(threshold_per_1000: float) -> Fraction:
    if not _finite_number(threshold_per_1000) or float(threshold_per_1000) < 0:
        raise ValueError(f"threshold_per_1000 must be a finite number >= 0, got {threshold_per_1000!r}")
    # the threshold as the decimal it was written as (5.1 means 51/10), compared exactly
    return Fraction(repr(float(threshold_per_1000)))


def _check_confidence(confidence: float) -> float:
    if not _finite_number(confidence) or not 0 < float(confidence) < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def _exceeds(errors: int, fields: int, threshold: Fraction) -> bool:
    return fields > 0 and 1000 * errors > threshold * fields


def exceeds_error_threshold(errors: int, fields: int, threshold_per_1000: float) -> bool:
    """Whether a keyer's errors per 1,000 keyed fields are above the threshold.

    ``1000 × errors / fields > threshold_per_1000``, compared exactly (no rounding: 1 error in
    200 fields is exactly 5.0 and does not exceed a threshold of 5). A keyer who has keyed no
    field yet has no error rate and does not exceed (``False``).

    Parameters
    ----------
    errors : int
        Errors attributed to the keyer (non-negative integer).
    fields : int
        Fields the keyer has keyed in finished keyings (non-negative integer).
    threshold_per_1000 : float
        The round's threshold, errors per 1,000 fields (finite, >= 0).

    Returns
    -------
    bool
        ``True`` when the rate is defined and strictly above the threshold.

    Raises
    ------
    ValueError
        For a negative, non-integer, bool or NaN count, or a negative or non-finite threshold.
    """
    for name, value in (("errors", errors), ("fields", fields)):
        if not _is_count(value):
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return _exceeds(int(errors), int(fields), _check_threshold(threshold_per_1000))


def _wilson(errors: np.ndarray, fields: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score bounds of ``errors / fields`` (arrays with ``0 <= errors <= fields``, ``fields > 0``)."""
    z = float(special.ndtri(0.5 + confidence / 2))
    z2 = z * z
    k = errors.astype(np.float64)
    n = fields.astype(np.float64)
    centre = (k + z2 / 2) / (n + z2)
    half = z / (n + z2) * np.sqrt(k * (n - k) / n + z2 / 4)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def error_rate_interval(errors: int, fields: int, *, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for a keyer's error rate, in errors per 1,000 fields.

    ``(k + z²/2) / (n + z²) ± z / (n + z²) · sqrt(k (n - k) / n + z²/4)`` with ``k = errors``,
    ``n = fields`` and ``z`` the two-sided normal quantile (Wilson 1927; Brown, Cai & DasGupta
    2001, sec. 4.1.1), times 1,000. It equals ``scipy.stats.binomtest(k, n).proportion_ci(confidence,
    method="wilson")``. Each keyed field counts as an independent trial (see the module notes).

    Parameters
    ----------
    errors, fields : int
        Attributed errors and keyed fields, non-negative integers, ``errors <= fields``.
    confidence : float, default 0.95
        Confidence level in (0, 1).

    Returns
    -------
    tuple of float or None
        ``(low, high)`` errors per 1,000 fields; ``None`` when ``fields == 0``.

    Raises
    ------
    ValueError
        For a negative, non-integer, bool or NaN count, ``errors > fields`` or a confidence
        outside (0, 1).
    """
    for name, value in (("errors", errors), ("fields", fields)):
        if not _is_count(value):
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    level = _check_confidence(confidence)
    if errors > fields:
        raise ValueError(f"errors ({errors}) exceed fields ({fields}): the error rate is not a proportion")
    if fields == 0:
        return None
    low, high = _wilson(np.array([errors]), np.array([fields]), level)
    return 1000 * float(low[0]), 1000 * float(high[0])


def _numeric(values: pd.Series, name: str) -> np.ndarray:
    if len(values) == 0:  # an empty query result may have object dtype
        return np.zeros(0, dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise ValueError(f"{name} must be numeric, got dtype {values.dtype}")
    arr: np.ndarray = np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    for problem, mask in (
        ("missing (NaN) values", np.isnan(arr)),
        ("infinite values", np.isinf(arr)),
        ("negative values", arr < 0),
    ):
        if mask.any():
            raise ValueError(f"{name} has {problem} for keyer(s) {list(values.index[mask])[:5]!r}")
    return arr


def _counts(values: pd.Series, name: str) -> np.ndarray:
    arr = _numeric(values, name)
    fractional = arr != np.floor(arr)
    if fractional.any():
        raise ValueError(f"{name} must be whole numbers; see keyer(s) {list(values.index[fractional])[:5]!r}")
    return arr.astype(np.int64)


def keyer_rates(
    *,
    forms: pd.Series,
    fields: pd.Series,
    seconds: pd.Series,
    errors: pd.Series,
    threshold_per_1000: float | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per-keyer productivity and error rates from per-keyer totals.

    Parameters
    ----------
    forms : Series
        Finished keyings per keyer (non-negative whole numbers), indexed by keyer id (unique).
    fields : Series
        Fields keyed in those keyings, same keyer ids (in any order).
    seconds : Series
        Time spent keying them, in seconds (finite, >= 0), same keyer ids.
    errors : Series
        Errors attributed to the keyer, same keyer ids (fill keyers without errors with 0).
    threshold_per_1000 : float, optional
        The round's threshold in errors per 1,000 fields; adds the boolean column
        ``exceeds_threshold`` (see :func:`exceeds_error_threshold`).
    confidence : float, default 0.95
        Level of the Wilson interval of the error rate.

    Returns
    -------
    DataFrame
        Indexed like ``forms`` (same keyer ids, same order), columns :data:`KEYER_RATE_COLUMNS`:
        ``forms``, ``fields``, ``errors`` (int64), ``hours = seconds / 3600``, ``forms_per_hour``
        (NaN where ``hours == 0``), ``errors_per_1000`` (NaN where ``fields == 0``),
        ``errors_per_1000_low``/``_high`` (Wilson interval, NaN where ``fields == 0`` or where
        ``errors > fields``, when the rate is not a proportion), then ``exceeds_threshold`` (bool,
        ``False`` where ``fields == 0``) if a threshold is given. Empty input gives an empty
        frame with these columns. The inputs are not modified.

    Notes
    -----
    Undefined rates are NaN (not 0): a keyer with no recorded time has no speed, and a keyer
    with no keyed field has no error rate; show them as "—". ``errors > fields`` is accepted
    (the rate is then above 1,000 and certainly exceeds the threshold) because it points to a
    counting problem upstream rather than to invalid input.

    Raises
    ------
    ValueError
        When an input is not a Series, the keyer ids are duplicated or differ between the
        series, a count is missing, negative, non-integer, bool or non-numeric, a time is NaN,
        infinite or negative, or the threshold or confidence is invalid.
    """
    named = {"forms": forms, "fields": fields, "seconds": seconds, "errors": errors}
    for name, series in named.items():
        if not isinstance(series, pd.Series):
            raise ValueError(f"{name} must be a pandas Series indexed by keyer id")
        if not series.index.is_unique:
            dup = list(series.index[series.index.duplicated()].unique())[:5]
            raise ValueError(f"{name} has duplicate keyer ids: {dup!r}")
    keys = set(forms.index)
    for name, series in named.items():
        if set(series.index) != keys:
            only_here = [k for k in series.index if k not in keys][:5]
            missing = [k for k in forms.index if k not in set(series.index)][:5]
            raise ValueError(
                f"{name} must have the same keyer ids as forms; extra: {only_here!r}, missing: {missing!r}"
            )
    level = _check_confidence(confidence)
    threshold = None if threshold_per_1000 is None else _check_threshold(threshold_per_1000)

    index = forms.index.copy()
    n_forms = _counts(forms, "forms")
    n_fields = _counts(fields.reindex(index), "fields")
    n_errors = _counts(errors.reindex(index), "errors")
    sec = _numeric(seconds.reindex(index), "seconds")

    hours = sec / 3600
    with np.errstate(divide="ignore", invalid="ignore"):
        per_hour = np.where(hours > 0, n_forms / np.where(hours > 0, hours, 1.0), np.nan)
        per_1000 = np.where(n_fields > 0, 1000 * n_errors / np.where(n_fields > 0, n_fields, 1), np.nan)
    proportion = (n_fields > 0) & (n_errors <= n_fields)
    low = np.full(len(index), np.nan)
    high = np.full(len(index), np.nan)
    if proportion.any():
        lo, hi = _wilson(n_errors[proportion], n_fields[proportion], level)
        low[proportion], high[proportion] = 1000 * lo, 1000 * hi
    out = pd.DataFrame(
        {
            "forms": n_forms,
            "fields": n_fields,
            "hours": hours,
            "errors": n_errors,
            "forms_per_hour": per_hour.astype(np.float64),
            "errors_per_1000": per_1000.astype(np.float64),
            "errors_per_1000_low": low,
            "errors_per_1000_high": high,
        },
        index=index,
    )
    if threshold is not None:
        out["exceeds_threshold"] = np.array(
            [_exceeds(int(e), int(f), threshold) for e, f in zip(n_errors, n_fields, strict=True)], dtype=bool
        )
    return out
