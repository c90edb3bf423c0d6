"""Stratified sampling of the paper channel: allocation, reproducible selection, reserves.

Section 3 of the SIPAS method document ("Sampling (paper channel)"). The frame is the set of
completed dossiers of a period; strata are place of receipt × field group (``dat_dai``,
``xay_dung``, ``dau_tu``, ``khac``). :func:`allocate` turns stratum sizes into sample sizes
(proportional with a per-stratum minimum, a fixed reporting-cell size, or Neyman), :func:`draw`
selects a simple random sample without replacement in every stratum plus an ordered reserve list,
and :func:`next_reserve` names the replacement to use when a selected unit cannot be surveyed.

Reproducibility
---------------
:func:`draw` depends only on the set of ``(id, stratum)`` pairs of the frame, the design and the
seed. Ids are sorted within each stratum before drawing, and each stratum has its own random
stream, seeded by ``numpy.random.SeedSequence([seed, zlib.crc32(key.encode("utf-8"))])`` and read
as raw 64-bit words of the ``PCG64`` bit generator. The draw itself (a partial Fisher–Yates
shuffle with rejection sampling for unbiased bounded integers) is written here rather than taken
from ``numpy.random.Generator``, whose algorithms NumPy may change between versions; the
``SeedSequence``/``PCG64`` streams are covered by NumPy's compatibility policy (NEP 19). The same
frame, design and seed therefore give the same sample, bit for bit, on any platform.

Allocation arithmetic is exact (:class:`fractions.Fraction`; floats in the rule are read through
their shortest decimal representation, so ``0.4`` means 2/5), so results do not depend on
floating-point rounding either.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed. Wiley, ch. 4 (sample size for proportions,
eq. 4.2 and finite population correction, pp. 75-76) and ch. 5 (stratified sampling, proportional
and optimum (Neyman) allocation, pp. 96-99).
Balinski, M. L., Young, H. P. (2001). *Fair Representation*, 2nd ed. Brookings (largest-remainder
(Hamilton) apportionment).
Knuth, D. E. (1997). *The Art of Computer Programming*, vol. 2, 3rd ed., Algorithm 3.4.2P
(Fisher–Yates shuffle).
Jeffreys, H. (1946). An invariant form for the prior probability in estimation problems.
*Proc. R. Soc. Lond. A* 186, 453-461 (the Beta(1/2, 1/2) prior used by :func:`stratum_sd_from_counts`).
Brown, L. D., Cai, T. T., DasGupta, A. (2001). Interval estimation for a binomial proportion.
*Statistical Science* 16, 101-133 (the Jeffreys prior for a binomial proportion, sec. 4.1.2).
"""

from __future__ import annotations

import math
import numbers
import zlib
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from analysis.domains import FIELD_GROUPS

__all__ = [
    "ALLOCATION_METHODS",
    "FIELD_GROUPS",
    "AllocationRule",
    "SamplingError",
    "allocate",
    "draw",
    "inclusion_probabilities",
    "next_reserve",
    "sample_size_for_margin",
    "stratum_sd_from_counts",
]

"""The field groups that, crossed with the place of receipt, form the strata."""

ALLOCATION_METHODS: tuple[str, ...] = ("proportional", "fixed", "neyman")

DESIGN_COLUMNS: tuple[str, ...] = ("N_h", "n_h", "reserve_h")

DEFAULT_PROPORTION_SD = 0.5
"""Standard deviation of a 0/1 item at p = 0.5, the Neyman default for a stratum without ``S_h``."""

_TWO64 = 1 << 64


class SamplingError(ValueError):
    """A sampling request that cannot be carried out as asked; the message is one precise line."""


# --------------------------------------------------------------------------------------------
# small exact helpers
# --------------------------------------------------------------------------------------------


def _is_int(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool | np.bool_)


def _exact(x: float) -> Fraction:
    """A float as the decimal it was written as (``0.1`` → 1/10), for exact arithmetic."""
    return Fraction(repr(float(x)))


def _finite_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_) and math.isfinite(float(x))


def _round_half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def _preview(values: Iterable[object], limit: int = 5) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")


# --------------------------------------------------------------------------------------------
# allocation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationRule:
    """How to turn stratum sizes ``N_h`` into sample sizes ``n_h`` and reserve sizes.

    The rule is checked when it is built; an invalid rule raises :class:`SamplingError` (a
    :class:`ValueError`).

    Attributes
    ----------
    method : {"proportional", "fixed", "neyman"}
        ``proportional``: ``n_h ∝ N_h``; ``neyman``: ``n_h ∝ N_h S_h``; ``fixed``: the same
        ``per_stratum`` in every stratum (a reporting cell, e.g. 385 for ±5 pp at 95 %, see
        :func:`sample_size_for_margin`).
    total_n : int, optional
        Overall sample size; required by ``proportional`` and ``neyman``, refused by ``fixed``.
    per_stratum : int, optional
        Sample size per stratum; required by ``fixed``, refused by the other methods.
    minimum : int, default 0
        Every stratum gets at least ``min(minimum, N_h)`` units (a stratum smaller than the
        minimum is taken whole). With ``fixed`` it is a floor under ``per_stratum × factor``.
    oversample : mapping of str to float, default empty
        Factor per field group (e.g. ``{"dat_dai": 1.5}``), > 0. With ``proportional``/``neyman``
        it multiplies the stratum's allocation weight before the total is shared out (the total
        stays ``total_n``: oversampled groups take units from the others); with ``fixed`` it
        multiplies ``per_stratum`` (rounded half up). Keys must be in :data:`FIELD_GROUPS`.
        Stored as a read-only copy.
    reserve_rate : float, default 0.4
        Reserve list size ``reserve_h = ceil(reserve_rate × n_h)``, capped at ``N_h - n_h``.
        The method document asks for 30–50 %; any value in [0, 1] is accepted.
    """

    method: Literal["proportional", "fixed", "neyman"]
    total_n: int | None = None
    per_stratum: int | None = None
    minimum: int = 0
    oversample: Mapping[str, float] = field(default_factory=dict, hash=False)
    reserve_rate: float = 0.4

    def __post_init__(self) -> None:
        if self.method not in ALLOCATION_METHODS:
            raise SamplingError(f"unknown allocation method {self.method!r}; expected one of {ALLOCATION_METHODS}")
        for name in ("total_n", "per_stratum"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 0):
                raise SamplingError(f"{name} must be a non-negative integer, got {value!r}")
        if not _is_int(self.minimum) or self.minimum < 0:
            raise SamplingError(f"minimum must be a non-negative integer, got {self.minimum!r}")
        if self.method == "fixed":
            if self.per_stratum is None:
                raise SamplingError("the fixed method needs per_stratum (the sample size of every stratum)")
            if self.total_n is not None:
                raise SamplingError("the fixed method does not use total_n; give per_stratum only")
        else:
            if self.total_n is None:
                raise SamplingError(f"the {self.method} method needs total_n (the overall sample size)")
            if self.per_stratum is not None:
                raise SamplingError(f"the {self.method} method does not use per_stratum; give total_n only")
        if not _finite_number(self.reserve_rate) or not 0 <= self.reserve_rate <= 1:
            raise SamplingError(f"reserve_rate must be in [0, 1], got {self.reserve_rate!r}")
        if not isinstance(self.oversample, Mapping):
            raise SamplingError(f"oversample must be a mapping of field group to factor, got {self.oversample!r}")
        unknown = [g for g in self.oversample if g not in FIELD_GROUPS]
        if unknown:
            raise SamplingError(
                f"oversample names unknown field group(s) {_preview(unknown)}; known groups are {FIELD_GROUPS}"
            )
        for group, factor in self.oversample.items():
            if not _finite_number(factor) or factor <= 0:
                raise SamplingError(f"oversample factor for {group!r} must be a finite number > 0, got {factor!r}")
        # frozen: keep our own read-only copy so that the caller's dict cannot change the rule
        for name in ("total_n", "per_stratum", "minimum"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, int(value))
        object.__setattr__(self, "reserve_rate", float(self.reserve_rate))
        object.__setattr__(self, "oversample", MappingProxyType({g: float(f) for g, f in self.oversample.items()}))


def _check_keys(index: pd.Index, what: str) -> list[str]:
    if not index.is_unique:
        raise SamplingError(f"{what} has duplicate stratum keys: {_preview(index[index.duplicated()].unique())}")
    keys = list(index)
    bad = [k for k in keys if not isinstance(k, str)]
    if bad:
        raise SamplingError(f"{what}: stratum keys must be strings, got {_preview(bad)}")
    return keys


def _check_counts(values: pd.Series, what: str) -> list[int]:
    """Non-negative whole numbers, as Python ints."""
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise SamplingError(f"{what} must be numeric, got dtype {values.dtype}")
    if values.isna().any():
        raise SamplingError(f"{what} has missing values for stratum/strata {_preview(values.index[values.isna()])}")
    arr = values.to_numpy(dtype=np.float64)
    if (arr < 0).any():
        raise SamplingError(f"{what} has negative sizes for stratum/strata {_preview(values.index[arr < 0])}")
    if not np.all(np.isfinite(arr)) or (arr != np.floor(arr)).any():
        raise SamplingError(
            f"{what} must be whole numbers; see stratum/strata {_preview(values.index[arr != np.floor(arr)])}"
        )
    return [int(v) for v in values.tolist()]


def _aligned(series: pd.Series | None, keys: list[str], what: str) -> dict[str, Any]:
    """A per-stratum series as a dict over ``keys``; refuse keys that are not strata."""
    if series is None:
        return {}
    if not isinstance(series, pd.Series):
        raise SamplingError(f"{what} must be a pandas Series indexed by stratum key")
    if not series.index.is_unique:
        raise SamplingError(f"{what} has duplicate stratum keys: {_preview(series.index[series.index.duplicated()])}")
    known = set(keys)
    extra = [k for k in series.index if k not in known]
    if extra:
        raise SamplingError(f"{what} names stratum/strata not in stratum_sizes: {_preview(extra)}")
    # every index value is one of ``keys`` (checked above), so a string
    return {str(k): v for k, v in series.items() if not (pd.api.types.is_scalar(v) and pd.isna(v))}


def _water_fill(weights: list[Fraction], lower: list[int], upper: list[int], total: int) -> list[Fraction]:
    """Exact ``x_h = clip(λ w_h, L_h, U_h)`` with ``sum x_h == total``.

    Needs ``sum L <= total <= sum(U_h for w_h > 0) + sum(L_h for w_h == 0)``.
    ``g(λ) = sum clip(λ w_h, L_h, U_h)`` is piecewise linear and non-decreasing with breakpoints
    ``L_h / w_h`` and ``U_h / w_h``; find the segment where it reaches ``total`` and interpolate.
    """

    def g(lam: Fraction) -> Fraction:
        return sum(
            (min(max(lam * w, Fraction(lo)), Fraction(up)) for w, lo, up in zip(weights, lower, upper, strict=True)),
            Fraction(0),
        )

    points = {Fraction(0)}
    for w, lo, up in zip(weights, lower, upper, strict=True):
        if w > 0:
            points.add(lo / w)
            points.add(up / w)
    ordered = sorted(points)
    lo_i, hi_i = 0, len(ordered) - 1  # smallest i with g(ordered[i]) >= total; g(ordered[-1]) >= total
    while lo_i < hi_i:
        mid = (lo_i + hi_i) // 2
        if g(ordered[mid]) >= total:
            hi_i = mid
        else:
            lo_i = mid + 1
    b = ordered[lo_i]
    gb = g(b)
    if gb == total or lo_i == 0:
        lam = b
    else:
        a = ordered[lo_i - 1]
        ga = g(a)
        lam = a + (total - ga) * (b - a) / (gb - ga)
    return [min(max(lam * w, Fraction(lo)), Fraction(up)) for w, lo, up in zip(weights, lower, upper, strict=True)]


def _share_out(
    keys: list[str], weights: list[Fraction], sizes: list[int], minimum: int, total: int, fallback: list[Fraction]
) -> list[int]:
    """Integer ``n_h`` in ``[min(minimum, N_h), N_h]`` summing to ``total``, ∝ ``weights``.

    If the minimums alone exceed ``total`` every stratum gets its minimum (the achieved total is
    then larger than asked). Strata of weight 0 (Neyman with ``S_h = 0``) stay at their minimum
    unless the others are exhausted; then the rest is shared among them ∝ ``fallback``.
    Rounding: largest remainder; ties go to the stratum key that sorts first.
    """
    lower = [min(minimum, n) for n in sizes]
    upper = list(sizes)
    if sum(lower) >= total:
        return lower
    reachable = sum(up if w > 0 else lo for w, lo, up in zip(weights, lower, upper, strict=True))
    if total <= reachable:
        target = _water_fill(weights, lower, upper, total)
    else:
        zero = [w == 0 for w in weights]
        rest = total - sum(up for up, z in zip(upper, zero, strict=True) if not z)
        sub = _water_fill(
            [f for f, z in zip(fallback, zero, strict=True) if z],
            [lo for lo, z in zip(lower, zero, strict=True) if z],
            [up for up, z in zip(upper, zero, strict=True) if z],
            rest,
        )
        it = iter(sub)
        target = [next(it) if z else Fraction(up) for up, z in zip(upper, zero, strict=True)]
    n = [math.floor(x) for x in target]
    remaining = total - sum(n)
    ranked = sorted(range(len(keys)), key=lambda i: (-(target[i] - n[i]), keys[i]))
    for i in ranked:
        if remaining == 0:
            break
        if n[i] < upper[i]:
            n[i] += 1
            remaining -= 1
    return n


def allocate(
    stratum_sizes: pd.Series,
    rule: AllocationRule,
    *,
    stratum_sd: pd.Series | None = None,
    field_group_of: pd.Series | None = None,
) -> pd.DataFrame:
    """Allocate the sample to strata.

    Parameters
    ----------
    stratum_sizes : Series
        ``N_h`` (non-negative whole numbers) indexed by the stratum key (unique strings).
    rule : AllocationRule
        Method, sizes, minimum, oversampling factors and reserve rate.
    stratum_sd : Series, optional
        ``S_h`` per stratum key, required by ``neyman`` (ignored otherwise). Strata absent from
        it, or with a missing value, use 0.5 (the standard deviation of a proportion at p = 0.5).
        Values must be finite and >= 0.
    field_group_of : Series, optional
        The field group (one of :data:`FIELD_GROUPS`) of each stratum key; required when
        ``rule.oversample`` is not empty, and then it must cover every stratum.

    Returns
    -------
    DataFrame
        Indexed like ``stratum_sizes`` (same keys, same order), int64 columns ``N_h``, ``n_h``
        and ``reserve_h`` with ``0 <= n_h <= N_h`` and ``reserve_h = min(ceil(reserve_rate ×
        n_h), N_h - n_h)``.

    Notes
    -----
    ``proportional`` and ``neyman`` compute the exact continuous allocation
    ``x_h = clip(λ w_h, min(minimum, N_h), N_h)`` with ``sum x_h = total_n`` (``w_h = N_h f_h`` or
    ``N_h S_h f_h``, ``f_h`` the oversampling factor of the stratum's field group; strata pushed to
    a bound are fixed there and the rest is re-shared), then round by the largest-remainder
    (Hamilton) method, ties to the stratum key that sorts first, so ``sum(n_h) == total_n``
    exactly. The one exception: when the minimums alone (``sum min(minimum, N_h)``) exceed
    ``total_n`` every stratum gets its minimum and the achieved total ``result["n_h"].sum()`` is
    larger than ``total_n``. Caps never force less, because ``total_n > sum(N_h)`` is refused.
    Under Neyman a stratum with ``S_h = 0`` only gets its minimum, unless the other strata are
    taken whole; the rest then goes to such strata proportionally to ``N_h``.

    ``fixed`` gives ``n_h = min(max(round_half_up(per_stratum × f_h), minimum), N_h)``.

    Raises
    ------
    SamplingError
        (a ValueError) for empty, duplicate, non-string or negative sizes, ``total_n >
        sum(N_h)``, ``neyman`` without ``stratum_sd``, invalid ``S_h``, oversampling without
        ``field_group_of`` or with a stratum whose field group is missing or unknown. Rules with a
        missing ``total_n``/``per_stratum``, ``reserve_rate`` outside [0, 1] or oversampling of an
        unknown field group are refused when the :class:`AllocationRule` is built.
    """
    if not isinstance(rule, AllocationRule):
        raise SamplingError(f"rule must be an AllocationRule, got {type(rule).__name__}")
    if not isinstance(stratum_sizes, pd.Series):
        raise SamplingError("stratum_sizes must be a pandas Series of N_h indexed by stratum key")
    if len(stratum_sizes) == 0:
        raise SamplingError("stratum_sizes is empty: there is no stratum to allocate to")
    keys = _check_keys(stratum_sizes.index, "stratum_sizes")
    sizes = _check_counts(stratum_sizes, "stratum_sizes")

    factors = [Fraction(1)] * len(keys)
    if rule.oversample:
        if field_group_of is None:
            raise SamplingError(
                "rule.oversample is set but field_group_of (the field group of each stratum) is not given"
            )
        groups = _aligned(field_group_of, keys, "field_group_of")
        missing = [k for k in keys if k not in groups]
        if missing:
            raise SamplingError(f"field_group_of has no field group for stratum/strata {_preview(missing)}")
        unknown = sorted({str(g) for g in groups.values() if g not in FIELD_GROUPS})
        if unknown:
            raise SamplingError(f"field_group_of has unknown field group(s) {_preview(unknown)}; known: {FIELD_GROUPS}")
        factors = [_exact(rule.oversample.get(str(groups[k]), 1.0)) for k in keys]

    if rule.method == "fixed":
        assert rule.per_stratum is not None
        n = [
            min(max(_round_half_up(rule.per_stratum * f), rule.minimum), size)
            for f, size in zip(factors, sizes, strict=True)
        ]
    else:
        assert rule.total_n is not None
        if rule.total_n > sum(sizes):
            raise SamplingError(f"total_n = {rule.total_n} exceeds the frame size sum(N_h) = {sum(sizes)}")
        weights = [size * f for size, f in zip(sizes, factors, strict=True)]
        if rule.method == "neyman":
            if stratum_sd is None:
                raise SamplingError("the neyman method needs stratum_sd (S_h per stratum)")
            sd = _aligned(stratum_sd, keys, "stratum_sd")
            bad = [k for k, v in sd.items() if not _finite_number(v) or float(v) < 0]
            if bad:
                raise SamplingError(f"stratum_sd must be finite and >= 0; see stratum/strata {_preview(bad)}")
            weights = [w * _exact(sd.get(k, DEFAULT_PROPORTION_SD)) for w, k in zip(weights, keys, strict=True)]
        fallback = [size * f for size, f in zip(sizes, factors, strict=True)]
        n = _share_out(keys, weights, sizes, rule.minimum, rule.total_n, fallback)

    rate = _exact(rule.reserve_rate)
    reserve = [min(math.ceil(rate * nh), size - nh) for nh, size in zip(n, sizes, strict=True)]
    return pd.DataFrame(
        {
            "N_h": np.array(sizes, dtype=np.int64),
            "n_h": np.array(n, dtype=np.int64),
            "reserve_h": np.array(reserve, dtype=np.int64),
        },
        index=stratum_sizes.index.copy(),
    )


# --------------------------------------------------------------------------------------------
# selection
# --------------------------------------------------------------------------------------------


def _check_design(design: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    """``{key: (N_h, n_h, reserve_h)}`` of a valid design."""
    if not isinstance(design, pd.DataFrame):
        raise SamplingError("design must be a DataFrame as returned by allocate()")
    missing = [c for c in DESIGN_COLUMNS if c not in design.columns]
    if missing:
        raise SamplingError(f"design lacks column(s) {missing}; expected {list(DESIGN_COLUMNS)}")
    keys = _check_keys(design.index, "design")
    cols = [_check_counts(design[c], f"design column {c}") for c in DESIGN_COLUMNS]
    out = {}
    for key, big_n, small_n, reserve in zip(keys, *cols, strict=True):
        if small_n + reserve > big_n:
            raise SamplingError(
                f"design stratum {key!r}: n_h + reserve_h = {small_n} + {reserve} = {small_n + reserve}"
                f" exceeds N_h = {big_n}"
            )
        out[key] = (big_n, small_n, reserve)
    return out


class _Stream:
    """Raw 64-bit words of PCG64 seeded by ``SeedSequence([seed, crc32(key)])``."""

    def __init__(self, seed: int, key: str) -> None:
        self._bits = np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(key.encode("utf-8"))]))

    def below(self, m: int) -> int:
        """Uniform integer in ``[0, m)`` (rejection sampling, no modulo bias)."""
        limit = _TWO64 - _TWO64 % m
        while True:
            r = int(self._bits.random_raw())
            if r < limit:
                return r % m


def _srswor(seed: int, key: str, population: int, k: int) -> list[int]:
    """First ``k`` positions of a uniform random permutation of ``range(population)``.

    Partial Fisher–Yates with a sparse swap table: ``O(k)`` time and memory.
    """
    stream = _Stream(seed, key)
    swapped: dict[int, int] = {}
    out = []
    for i in range(k):
        j = i + stream.below(population - i)
        out.append(swapped.get(j, j))
        swapped[j] = swapped.get(i, i)
    return out


def draw(frame: pd.DataFrame, design: pd.DataFrame, *, stratum_col: str, id_col: str, seed: int) -> pd.DataFrame:
    """Select the main sample and the reserve list of every stratum.

    Simple random sampling without replacement within each stratum: ``n_h + reserve_h`` units
    are drawn in random order; the first ``n_h`` are the main sample, the next ``reserve_h`` the
    reserves, in the order they must be used.

    Parameters
    ----------
    frame : DataFrame
        The sampling frame, one row per unit; other columns are ignored. Ids must be unique and
        mutually comparable (all strings or all numbers); stratum keys are strings.
    design : DataFrame
        Indexed by stratum key with columns ``N_h``, ``n_h``, ``reserve_h`` (as :func:`allocate`
        returns). ``N_h`` must equal the number of frame rows of the stratum; a design stratum with
        ``N_h = 0`` may be absent from the frame.
    stratum_col, id_col : str
        Columns of ``frame`` holding the stratum key and the unit id.
    seed : int
        Non-negative integer; store it with the sample.

    Returns
    -------
    DataFrame
        One row per selected unit, columns ``[id_col, stratum_col, "role", "order"]``: ``role`` is
        ``"main"`` or ``"reserve"``, ``order`` the 1-based position within the stratum (main units
        ``1..n_h``, then reserves ``n_h+1..n_h+reserve_h``). Rows are sorted by stratum key then
        ``order``, with a fresh RangeIndex; ``id_col`` and ``stratum_col`` keep the frame's dtypes.

    Notes
    -----
    The result depends only on the set of ``(id, stratum)`` rows, the design and the seed — not
    on the row order of ``frame``, its index, or the order of the strata: ids are sorted within
    the stratum and each stratum's stream is seeded by ``(seed, crc32(key))`` (see the module
    docstring). Stratum keys are compared as exact strings (keep their Unicode normalisation
    fixed, e.g. NFC, between frame and design).

    Raises
    ------
    SamplingError
        (a ValueError) for missing columns, missing or duplicate ids, non-string stratum keys,
        frame strata missing from the design or design strata missing from the frame, ``N_h``
        different from the frame count, ``n_h + reserve_h > N_h`` and a negative or non-integer
        seed.
    """
    if not isinstance(frame, pd.DataFrame):
        raise SamplingError("frame must be a DataFrame")
    if not _is_int(seed) or seed < 0:
        raise SamplingError(f"seed must be a non-negative integer, got {seed!r}")
    if id_col == stratum_col:
        raise SamplingError(f"id_col and stratum_col are the same column {id_col!r}")
    for what, col in (("id_col", id_col), ("stratum_col", stratum_col)):
        if col not in frame.columns:
            raise SamplingError(f"frame has no column {col!r} ({what})")
    ids = frame[id_col]
    strata = frame[stratum_col]
    if ids.isna().any():
        raise SamplingError(f"frame column {id_col!r} has {int(ids.isna().sum())} missing id(s)")
    if strata.isna().any():
        raise SamplingError(f"frame column {stratum_col!r} has {int(strata.isna().sum())} missing stratum key(s)")
    dup = ids.duplicated(keep="first")
    if dup.any():
        raise SamplingError(f"frame column {id_col!r} has duplicate ids: {_preview(ids[dup].unique().tolist())}")
    key_values = strata.to_numpy(dtype=object)
    bad = sorted({repr(k) for k in key_values if not isinstance(k, str)})
    if bad:
        raise SamplingError(f"frame column {stratum_col!r}: stratum keys must be strings, got {_preview(bad)}")
    plan = _check_design(design)

    # stratum key (a string, checked above) -> frame row positions; pandas-stubs types the keys as Hashable
    positions = cast(
        dict[str, npt.NDArray[np.intp]],
        pd.Series(np.arange(len(frame)), dtype=np.int64).groupby(key_values, sort=False).indices,
    )
    not_in_design = sorted(k for k in positions if k not in plan)
    if not_in_design:
        raise SamplingError(f"frame strata missing from the design: {_preview(not_in_design)}")
    not_in_frame = sorted(k for k, (big_n, _, _) in plan.items() if k not in positions and big_n > 0)
    if not_in_frame:
        raise SamplingError(f"design strata missing from the frame: {_preview(not_in_frame)}")
    mismatch = [
        f"{k!r} (design N_h = {plan[k][0]}, frame has {len(pos)})"
        for k, pos in sorted(positions.items())
        if plan[k][0] != len(pos)
    ]
    if mismatch:
        raise SamplingError(f"design N_h differs from the frame count for stratum/strata {_preview(mismatch)}")

    id_values = ids.to_numpy(dtype=object)
    chosen: list[int] = []
    roles: list[str] = []
    orders: list[int] = []
    for key in sorted(positions):
        pos = positions[key]
        try:
            ranked = pos[np.argsort(id_values[pos], kind="stable")]
        except TypeError as exc:
            raise SamplingError(f"ids of stratum {key!r} cannot be sorted (mixed types?): {exc}") from None
        _, n_main, n_reserve = plan[key]
        picks = _srswor(int(seed), key, len(ranked), n_main + n_reserve)
        chosen.extend(int(ranked[p]) for p in picks)
        roles.extend(["main"] * n_main + ["reserve"] * n_reserve)
        orders.extend(range(1, n_main + n_reserve + 1))

    take = np.array(chosen, dtype=np.int64)
    return pd.DataFrame(
        {
            id_col: ids.iloc[take].reset_index(drop=True),
            stratum_col: strata.iloc[take].reset_index(drop=True),
            "role": pd.Series(roles, dtype="str"),
            "order": pd.Series(orders, dtype=np.int64),
        }
    )


def next_reserve(
    selection: pd.DataFrame,
    used: Iterable[Hashable],
    stratum: str,
    *,
    id_col: str | None = None,
    stratum_col: str | None = None,
) -> Hashable | None:
    """The next reserve of ``stratum`` to use as a replacement.

    Parameters
    ----------
    selection : DataFrame
        As returned by :func:`draw`.
    used : iterable
        Ids already used (reserves that have replaced a unit; other ids are ignored).
    stratum : str
        Stratum key.
    id_col, stratum_col : str, optional
        Column names; by default the two columns of ``selection`` other than ``role`` and
        ``order``, in order (``draw`` puts the id first).

    Returns
    -------
    id or None
        The reserve with the smallest ``order`` among the unused reserves of the stratum (as a
        Python scalar), or ``None`` when the reserve list is exhausted.

    Raises
    ------
    SamplingError
        (a ValueError) when the columns cannot be found or the stratum has no row in ``selection``.
    """
    if not isinstance(selection, pd.DataFrame) or not {"role", "order"} <= set(selection.columns):
        raise SamplingError("selection must be a DataFrame as returned by draw() (with 'role' and 'order')")
    others = [c for c in selection.columns if c not in ("role", "order")]
    if id_col is None or stratum_col is None:
        if len(others) != 2:
            raise SamplingError(
                f"cannot tell the id and stratum columns apart among {others}; pass id_col, stratum_col"
            )
        id_col = others[0] if id_col is None else id_col
        stratum_col = others[1] if stratum_col is None else stratum_col
    for col in (id_col, stratum_col):
        if col not in selection.columns:
            raise SamplingError(f"selection has no column {col!r}")
    in_stratum = selection[stratum_col] == stratum
    if not in_stratum.any():
        raise SamplingError(f"stratum {stratum!r} has no row in the selection")
    used_set = set(used)
    reserves = selection.loc[in_stratum & (selection["role"] == "reserve"), [id_col, "order"]]
    candidates: list[Hashable] = reserves.sort_values("order", kind="stable")[id_col].tolist()
    for unit in candidates:
        if unit not in used_set:
            return unit
    return None


# --------------------------------------------------------------------------------------------
# sizes and probabilities
# --------------------------------------------------------------------------------------------


def sample_size_for_margin(
    margin: float = 0.05,
    p: float = 0.5,
    confidence: float = 0.95,
    population: int | None = None,
    deff: float = 1.0,
) -> int:
    """Sample size for a proportion with a given margin of error (half-width of the interval).

    ``n0 = z² p (1 - p) deff / margin²`` with ``z`` the two-sided normal quantile
    (Cochran 1977, eq. 4.2); with ``population = N`` the finite population correction
    ``n = n0 / (1 + (n0 - 1) / N)`` (Cochran 1977, p. 76). The result is rounded up and never
    exceeds ``N``.

    Parameters
    ----------
    margin : float, default 0.05
        Margin of error, in (0, 1) (0.05 = ±5 percentage points).
    p : float, default 0.5
        Anticipated proportion, in (0, 1); 0.5 is the conservative choice.
    confidence : float, default 0.95
        Confidence level, in (0, 1).
    population : int, optional
        Stratum or domain size ``N`` (> 0) for the finite population correction.
    deff : float, default 1.0
        Design effect (> 0).

    Returns
    -------
    int
        E.g. 385 for ±5 pp at 95 % without fpc, 278 with ``population=1000``.
    """
    for name, value in (("margin", margin), ("p", p), ("confidence", confidence)):
        if not _finite_number(value) or not 0 < value < 1:
            raise SamplingError(f"{name} must be strictly between 0 and 1, got {value!r}")
    if not _finite_number(deff) or deff <= 0:
        raise SamplingError(f"deff must be a finite number > 0, got {deff!r}")
    if population is not None and (not _is_int(population) or population <= 0):
        raise SamplingError(f"population must be a positive integer, got {population!r}")
    z = float(special.ndtri(0.5 + confidence / 2))
    n = z * z * p * (1 - p) * deff / (margin * margin)
    if population is not None:
        n = n / (1 + (n - 1) / population)
    size = max(1, math.ceil(n - 1e-9))  # the tolerance keeps 200.0000000001 at 200
    return min(size, int(population)) if population is not None else size


def inclusion_probabilities(design: pd.DataFrame) -> pd.Series:
    """First-order inclusion probability ``π_h = n_h / N_h`` of the main sample, per stratum.

    Reserves are not counted: a replacement taken in the same stratum keeps the stratum's
    ``n_h / N_h`` (treating replacement as random within the stratum), so the design weight is
    ``N_h / n_h`` before nonresponse adjustment.

    Parameters
    ----------
    design : DataFrame
        As returned by :func:`allocate`.

    Returns
    -------
    Series
        float64, indexed like ``design``, named ``"pi_h"``; NaN for a stratum with ``N_h = 0``.
    """
    plan = _check_design(design)
    values = [small_n / big_n if big_n > 0 else math.nan for big_n, small_n, _ in plan.values()]
    return pd.Series(np.array(values, dtype=np.float64), index=design.index.copy(), name="pi_h")


# --------------------------------------------------------------------------------------------
# stratum standard deviations for Neyman allocation
# --------------------------------------------------------------------------------------------


def stratum_sd_from_counts(satisfied: pd.Series, rated: pd.Series, *, prior: float = 0.5) -> pd.Series:
    """Stratum standard deviations ``S_h`` of a satisfaction proportion, for Neyman allocation.

    From an earlier round's counts per stratum h: ``x_h`` satisfied item answers among ``m_h``
    rated (valid) item answers,

    ``p_h = (x_h + a) / (m_h + 2a)``,  ``S_h = sqrt(p_h (1 - p_h))``,  ``a = prior``.

    With the default ``a = 0.5``, ``p_h`` is the posterior mean of the proportion under the
    Jeffreys Beta(1/2, 1/2) prior (Jeffreys 1946; Brown, Cai & DasGupta 2001, sec. 4.1.2), i.e.
    ``(x_h + 0.5) / (m_h + 1)``. The shrinkage keeps ``0 < p_h < 1``, so a stratum where every
    rated answer was "satisfied" (or none was) still gets ``S_h > 0``; with the raw share it would
    get ``S_h = 0`` and Neyman allocation (``n_h ∝ N_h S_h``, Cochran 1977, pp. 96-99) would give
    it no sample beyond the minimum. A stratum with ``m_h = 0`` gets ``p_h = 0.5`` and
    ``S_h = 0.5``, the same as :data:`DEFAULT_PROPORTION_SD` used by :func:`allocate` for a
    stratum without ``S_h``.

    Parameters
    ----------
    satisfied : Series
        ``x_h``: number of satisfied item answers per stratum (non-negative whole numbers),
        indexed by the stratum key (unique strings), as a ``GROUP BY stratum`` returns it.
    rated : Series
        ``m_h``: number of rated (valid, i.e. not "no opinion"/missing) item answers per stratum,
        with the same stratum keys as ``satisfied`` (in any order); ``x_h <= m_h``.
    prior : float, default 0.5
        Pseudo-count ``a > 0`` added to both the satisfied and the not-satisfied answers
        (Beta(a, a) prior); 0.5 is Jeffreys', 1 would be Laplace's rule of succession.

    Returns
    -------
    Series
        float64 ``S_h`` in ``(0, 0.5]``, indexed like ``satisfied`` (same keys, same order), named
        ``"S_h"``; empty (float64) for empty input. Pass it as ``stratum_sd`` to :func:`allocate`.

    Notes
    -----
    The binomial form treats each rated item answer as one Bernoulli trial. The items of one
    respondent are correlated, so ``m_h`` overstates the information and ``S_h`` is only an
    anticipated unit-level standard deviation for *allocation*; it is not a variance estimate
    for the round's results (those come from :mod:`analysis.variance`). A constant factor on all
    ``S_h`` (e.g. a design effect common to the strata) does not change Neyman allocation.
    The inputs are not modified.

    Raises
    ------
    SamplingError
        (a ValueError) when an input is not a Series, the stratum keys are duplicated, not strings
        or differ between the two series, a count is missing, negative, non-integer or
        non-numeric, ``satisfied > rated`` in some stratum, or ``prior`` is not a finite number > 0.

    Examples
    --------
    >>> import pandas as pd
    >>> stratum_sd_from_counts(pd.Series({"a": 10, "b": 3}), pd.Series({"a": 10, "b": 9})).round(4)
    a    0.2083
    b    0.4770
    Name: S_h, dtype: float64
    """
    if not isinstance(satisfied, pd.Series) or not isinstance(rated, pd.Series):
        raise SamplingError("satisfied and rated must be pandas Series of counts indexed by stratum key")
    if not _finite_number(prior) or float(prior) <= 0:
        raise SamplingError(f"prior must be a finite number > 0, got {prior!r}")
    keys = _check_keys(satisfied.index, "satisfied")
    _check_keys(rated.index, "rated")
    only_satisfied = [k for k in keys if k not in set(rated.index)]
    only_rated = [k for k in rated.index if k not in set(keys)]
    if only_satisfied or only_rated:
        raise SamplingError(
            "satisfied and rated must have the same stratum keys; "
            f"only in satisfied: {_preview(only_satisfied) or '-'}; only in rated: {_preview(only_rated) or '-'}"
        )
    if not keys:  # nothing counted yet; an empty Series from a query may have object dtype
        return pd.Series([], index=satisfied.index.copy(), name="S_h", dtype=np.float64)
    x = _check_counts(satisfied, "satisfied")
    m = _check_counts(rated.reindex(satisfied.index), "rated")
    over = [k for k, xh, mh in zip(keys, x, m, strict=True) if xh > mh]
    if over:
        raise SamplingError(f"satisfied exceeds rated in stratum/strata {_preview(over)}")
    a = float(prior)
    p = (np.array(x, dtype=np.float64) + a) / (np.array(m, dtype=np.float64) + 2 * a)
    return pd.Series(np.sqrt(p * (1 - p)), index=satisfied.index.copy(), name="S_h", dtype=np.float64)


def expected_interviews(design: pd.DataFrame, response_rate: float) -> pd.Series:
    """Interviews expected per stratum from the main sample at an assumed response rate:
    ``n_h × RR`` (a planning figure, shown before the draw; reserves are not counted).

    Parameters
    ----------
    design : DataFrame
        As returned by :func:`allocate`.
    response_rate : float
        The assumed response rate, in ``(0, 1]``.

    Returns
    -------
    Series
        float64, indexed like ``design``, named ``"expected"``.

    Raises
    ------
    SamplingError
        (a ValueError) for a response rate outside ``(0, 1]`` or an invalid design.
    """
    if not _finite_number(response_rate) or not 0 < response_rate <= 1:
        raise SamplingError(f"response_rate must be in (0, 1], got {response_rate!r}")
    plan = _check_design(design)
    values = [small_n * float(response_rate) for _big_n, small_n, _r in plan.values()]
    return pd.Series(np.array(values, dtype=np.float64), index=design.index.copy(), name="expected")
