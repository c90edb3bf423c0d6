"""Weights: design weights, nonresponse adjustment, post-stratification, raking, trimming.

Section 4 of the SIPAS method document. Weights here are sampling weights (inverse inclusion
probabilities, adjusted); use :func:`calibrate_design` to carry the calibration into the
variance (GREG-residual linearization, R ``calibrate(calfun = "raking")``/``postStratify``).

References
----------
Deming, W. E., Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
table when the expected marginal totals are known. *Ann. Math. Stat.* 11, 427-444 (IPF).
Deville, J.-C., Sarndal, C.-E., Sautory, O. (1993). Generalized raking procedures in survey
sampling. *JASA* 88, 1013-1020.
Kish, L. (1992). Weighting for unequal Pi. *J. Official Statistics* 8, 183-200 (effective n,
``1 + CV^2``).
Valliant, R., Dever, J. A., Kreuter, F. (2018). *Practical Tools for Designing and Weighting
Survey Samples*, 2nd ed., Springer, ch. 13-14 (pp. 369-455).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

from analysis.design import Design, build_calibration, compact_codes, factorize_labels

__all__ = [
    "RakeResult",
    "WeightSummary",
    "WeightingError",
    "calibrate_design",
    "design_weights",
    "margins_from_frame",
    "margins_from_rows",
    "nonresponse_adjust",
    "post_stratify",
    "rake",
    "trim_and_rake",
    "trim_design",
    "trim_weights",
    "weight_diagnostics",
]

MarginsLike: TypeAlias = "pd.DataFrame | Mapping[str, Mapping[str, float]]"


class WeightingError(ValueError):
    """Weights cannot be computed as asked; the message is one precise line."""


@dataclass(frozen=True, eq=False)
class RakeResult:
    """Outcome of raking (or post-stratification).

    Attributes
    ----------
    weights : ndarray
        Calibrated weights.
    converged : bool
        Every margin reproduced within ``tol`` (relative).
    iterations : int
        Full IPF cycles used (0 for post-stratification).
    max_rel_error : float
        Largest ``|achieved - target| / target`` over all categories.
    trim_rounds : int
        Trim-and-rerake rounds (0 without trimming).
    n_trimmed : int
        Weights capped in the last trimming round.
    """

    weights: np.ndarray
    converged: bool
    iterations: int
    max_rel_error: float
    trim_rounds: int = 0
    n_trimmed: int = 0


@dataclass(frozen=True)
class WeightSummary:
    """Weight diagnostics (Kish 1992).

    ``kish_n_eff = (sum w)^2 / sum w^2`` and ``deff_w = 1 + CV^2 = n sum w^2 / (sum w)^2`` with
    the population CV (ddof 0); ``population`` and ``difference`` compare the weight sum with a
    known population total when one is given.
    """

    n: int
    total: float
    min: float
    median: float
    max: float
    mean: float
    cv: float
    kish_n_eff: float
    deff_w: float
    population: float | None = None
    difference: float | None = None


def _labels(values: npt.ArrayLike, name: str) -> pd.Series:
    import pandas as pd

    s = pd.Series(np.asarray(values, dtype=object))
    if s.isna().any():
        raise WeightingError(f"{name} has {int(s.isna().sum())} missing value(s)")
    return s.astype(str)


def _weights(weights: npt.ArrayLike) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or not np.all(np.isfinite(w)):
        raise WeightingError("weights must be a finite one-dimensional array")
    if np.any(w < 0):
        raise WeightingError(f"weights have {int((w < 0).sum())} negative value(s)")
    return w


def margins_from_frame(margins: MarginsLike) -> dict[str, dict[str, float]]:
    """Normalise margins to ``{variable: {category: total}}``.

    A DataFrame needs the columns ``variable, category, total`` (the CLI's MARGINS.csv).
    """
    pd = sys.modules.get("pandas")  # a DataFrame exists only once pandas is imported
    if pd is not None and isinstance(margins, pd.DataFrame):
        return margins_from_rows(
            map(str, margins.columns),
            lambda: zip(margins["variable"], margins["category"], margins["total"], strict=True),
        )
    return {str(k): {str(c): float(t) for c, t in v.items()} for k, v in margins.items()}


def margins_from_rows(
    columns: Iterable[str], rows: Callable[[], Iterable[tuple[Any, Any, Any]]]
) -> dict[str, dict[str, float]]:
    """Margins from a table's column names and its ``(variable, category, total)`` rows
    (called once the columns are known to be there): what :func:`margins_from_frame` does
    with a DataFrame, for a table read without pandas."""
    need = {"variable", "category", "total"}
    missing = need - set(columns)
    if missing:
        raise WeightingError(f"margins need columns variable,category,total; missing {sorted(missing)}")
    out: dict[str, dict[str, float]] = {}
    for variable, category, total in rows():
        var, cat = str(variable), str(category)
        try:
            tot = float(total)
        except (TypeError, ValueError):
            raise WeightingError(f"margin {var}={cat} has a non-numeric total {total!r}") from None
        if not np.isfinite(tot) or tot < 0:
            raise WeightingError(f"margin {var}={cat} has an invalid total {total!r}")
        if cat in out.setdefault(var, {}):
            raise WeightingError(f"margin {var}={cat} appears twice")
        out[var][cat] = tot
    return out


def _check_margins(
    factors: Mapping[str, npt.ArrayLike], margins: MarginsLike, w: np.ndarray
) -> tuple[list[str], list[np.ndarray], list[np.ndarray], list[list[str]]]:
    """Validate margins against the data; return names, row codes, targets, categories."""
    m = margins_from_frame(margins)
    if not m:
        raise WeightingError("no margins given")
    names, codes, targets, cats = [], [], [], []
    totals = {}
    for var, tab in m.items():
        if var not in factors:
            raise WeightingError(f"margin variable {var} is not a column of the data")
        raw_codes, raw_labels = factorize_labels(factors[var])
        if raw_codes.shape[0] != w.shape[0]:
            raise WeightingError(f"{var} has {raw_codes.shape[0]} rows, weights {w.shape[0]}")
        if np.any(raw_codes < 0):
            raise WeightingError(f"{var} has {int((raw_codes < 0).sum())} missing value(s)")
        data_cats = {str(c) for c in raw_labels}
        only_data = sorted(data_cats - set(tab))
        if only_data:
            raise WeightingError(f"category {only_data[0]!r} of {var} is in the data but not in the margins")
        empty = sorted(c for c in tab if c not in data_cats and tab[c] > 0)
        if empty:
            raise WeightingError(f"category {empty[0]!r} of {var} has a margin total but no respondents")
        zero = sorted(c for c in data_cats if tab[c] == 0)
        if zero:
            raise WeightingError(f"category {zero[0]!r} of {var} has respondents but a zero total")
        cat_list = sorted(c for c in tab if c in data_cats)
        index = {c: i for i, c in enumerate(cat_list)}
        code = np.array([index[str(c)] for c in raw_labels], dtype=np.int64)[raw_codes]
        wsum = np.bincount(code, weights=w, minlength=len(cat_list))
        if np.any(wsum <= 0):
            bad = cat_list[int(np.flatnonzero(wsum <= 0)[0])]
            raise WeightingError(f"category {bad!r} of {var} has respondents with zero weight only")
        names.append(var)
        codes.append(code)
        targets.append(np.array([tab[c] for c in cat_list]))
        cats.append(cat_list)
        totals[var] = sum(tab.values())
    ref_var, ref = next(iter(totals.items()))
    for var, tot in totals.items():
        if abs(tot - ref) > 1e-9 * max(abs(ref), 1.0):
            raise WeightingError(f"margin totals disagree: {ref_var} sums to {ref:.10g}, {var} to {tot:.10g}")
    return names, codes, targets, cats


def _max_rel_error(w: np.ndarray, codes: list[np.ndarray], targets: list[np.ndarray]) -> float:
    err = 0.0
    for c, t in zip(codes, targets, strict=True):
        got = np.bincount(c, weights=w, minlength=t.shape[0])
        err = max(err, float(np.max(np.abs(got - t) / t)))
    return err


def _joint_cells(codes: list[np.ndarray], targets: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The cross-classification of the raking variables: the joint cell of every row and the
    category of every cell in each variable."""
    key = codes[0].astype(np.int64)
    size = targets[0].shape[0]
    for c, t in zip(codes[1:], targets[1:], strict=True):
        if size * t.shape[0] > 2**62:
            key, _ = compact_codes(key, size)
            size = int(key.max()) + 1
        key = key * t.shape[0] + c
        size *= t.shape[0]
    cells, some_row = compact_codes(key, size)
    return cells, [c[some_row] for c in codes]


def _ipf(
    w0: np.ndarray,
    codes: list[np.ndarray],
    targets: list[np.ndarray],
    tol: float,
    max_iter: int,
    cells: tuple[np.ndarray, list[np.ndarray]] | None = None,
) -> tuple[np.ndarray, bool, int, float]:
    """Iterative proportional fitting. Every raking factor is a product of one adjustment per
    category of each variable, so the same for every row of a joint cell: the iterations run
    on the weight totals of the joint cells (a few hundred numbers, not a million rows) and the
    rows get their cell's factor once at the end. ``cells`` (from :func:`_joint_cells`) saves
    recomputing the cross-classification when the same rows are raked again."""
    row_cell, cell_codes = cells if cells is not None else _joint_cells(codes, targets)
    start: np.ndarray = np.bincount(row_cell, weights=w0, minlength=cell_codes[0].shape[0])
    factor = np.ones(start.shape[0])
    table: np.ndarray = start.copy()
    err = _max_rel_error(table, cell_codes, targets)
    it = 0
    while err > tol and it < max_iter:
        it += 1
        for c, t in zip(cell_codes, targets, strict=True):
            got = np.bincount(c, weights=table, minlength=t.shape[0])
            factor *= (t / got)[c]
            table = start * factor
        err = _max_rel_error(table, cell_codes, targets)
    w: np.ndarray = w0 * factor[row_cell]
    return w, err <= tol, it, err


def rake(
    weights: npt.ArrayLike,
    factors: Mapping[str, npt.ArrayLike],
    margins: MarginsLike,
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
    strict: bool = True,
) -> RakeResult:
    """Rake (iterative proportional fitting) to any number of margins.

    The fixed point equals R ``calibrate(design, ~a + b, population, calfun = "raking")``
    (and ``rake()``): ``w_i = d_i exp(x_i' lambda)`` reproducing every margin.

    Parameters
    ----------
    weights : array-like
        Starting (design or nonresponse-adjusted) weights ``d``.
    factors : mapping
        Column name to category labels of every row.
    margins : DataFrame (variable, category, total) or mapping
        Population totals; all margins must sum to the same total.
    tol : float
        Convergence: every category within ``tol`` relative error.
    max_iter : int
        Maximum IPF cycles.
    strict : bool
        Raise :class:`WeightingError` when not converged (else report it).

    Raises
    ------
    WeightingError
        Unknown variable, margins whose totals disagree, a category on one side only, a category
        whose respondents all have zero weight, no convergence with ``strict``.
    """
    w0 = _weights(weights)
    _, codes, targets, _ = _check_margins(factors, margins, w0)
    w, ok, it, err = _ipf(w0, codes, targets, tol, max_iter)
    if strict and not ok:
        raise WeightingError(f"raking did not converge in {it} iterations (max relative error {err:.3g})")
    return RakeResult(w, ok, it, err)


def post_stratify(weights: npt.ArrayLike, cells: npt.ArrayLike, totals: Mapping[str, float] | pd.Series) -> RakeResult:
    """Post-stratify: scale weights so that each cell sums to its population total.

    Equals R ``postStratify(design, ~cell, population)``.
    """
    w0 = _weights(weights)
    tab = {str(k): float(v) for k, v in dict(totals).items()}
    _, codes, targets, _ = _check_margins({"cell": cells}, {"cell": tab}, w0)
    got = np.bincount(codes[0], weights=w0, minlength=targets[0].shape[0])
    w = w0 * (targets[0] / got)[codes[0]]
    return RakeResult(w, True, 0, _max_rel_error(w, codes, targets))


def trim_weights(
    weights: npt.ArrayLike,
    upper: float = np.inf,
    lower: float = -np.inf,
    *,
    strict: bool = False,
    max_rounds: int = 1000,
) -> np.ndarray:
    """Trim weights exactly like R ``trimWeights(design, upper, lower, strict)``.

    Weights outside ``[lower, upper]`` are set to the bound and the trimmed amount is spread
    equally (additively) over the weights that were inside, so the total is kept. With
    ``strict`` it repeats until no weight lies outside.
    """
    pw = _weights(weights).copy()
    for _ in range(max_rounds):
        outside = (pw < lower) | (pw > upper)
        if not outside.any():
            return pw
        new: np.ndarray = np.clip(pw, lower, upper)
        trimmed = pw - new
        new[~outside] += trimmed.sum() / (~outside).sum()
        pw = new
        if not strict:
            return pw
    raise WeightingError(f"strict trimming did not settle in {max_rounds} rounds")


def trim_and_rake(
    weights: npt.ArrayLike,
    factors: Mapping[str, npt.ArrayLike],
    margins: MarginsLike,
    k: float,
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
    max_rounds: int = 5000,
) -> RakeResult:
    """Rake, cap weights at ``k`` x median of the raked weights, re-rake; repeat until the cap
    holds after re-raking (within ``tol``) or ``max_rounds``.

    The result reproduces the margins exactly; ``trim_rounds`` and ``n_trimmed`` report the
    trimming. Raises :class:`WeightingError` when ``k <= 1`` or the cap cannot be met.
    """
    if not k > 1:
        raise WeightingError(f"trimming factor must exceed 1, got {k:g}")
    w0 = _weights(weights)
    _, codes, targets, _ = _check_margins(factors, margins, w0)
    return _trim_and_rake(w0, codes, targets, k, tol, max_iter, max_rounds)


def _trim_and_rake(
    w0: np.ndarray,
    codes: list[np.ndarray],
    targets: list[np.ndarray],
    k: float,
    tol: float,
    max_iter: int,
    max_rounds: int,
) -> RakeResult:
    if not k > 1:
        raise WeightingError(f"trimming factor must exceed 1, got {k:g}")
    cells = _joint_cells(codes, targets)
    w, ok, it, err = _ipf(w0, codes, targets, tol, max_iter, cells)
    if not ok:
        raise WeightingError(f"raking did not converge in {it} iterations (max relative error {err:.3g})")
    cap = k * float(np.median(w[w > 0]))
    rounds = 0
    n_trim = 0
    while np.max(w) > cap * (1 + 1e-9) and rounds < max_rounds:
        rounds += 1
        n_trim = int((w > cap).sum())
        w, ok, it2, err = _ipf(np.minimum(w, cap), codes, targets, tol, max_iter, cells)
        it += it2
        if not ok:
            raise WeightingError(f"re-raking after trimming did not converge (max relative error {err:.3g})")
    if np.max(w) > cap * (1 + 1e-6):
        raise WeightingError(
            f"cannot cap weights at {k:g} x median ({cap:.6g}) and meet the margins in {max_rounds} rounds "
            f"(largest weight still {float(np.max(w)):.6g}); allow more rounds (--max-rounds) or a larger factor"
        )
    return RakeResult(w, True, it, err, rounds, n_trim)


def calibrate_design(
    design: Design,
    factors: Mapping[str, npt.ArrayLike],
    margins: MarginsLike,
    *,
    method: str = "raking",
    trim: float | None = None,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> tuple[Design, RakeResult]:
    """Calibrate a design's weights and record what the calibration variance needs.

    Parameters
    ----------
    design : Design
        Its weights are the pre-calibration weights ``d``.
    factors : mapping
        Calibration variables (row labels) by name.
    margins : DataFrame (variable, category, total) or mapping
        One margin per variable (``raking``) or a single variable (``poststratify``: pass the
        cross-classification as one labelled column).
    method : {"raking", "poststratify"}
    trim : float, optional
        Cap at ``trim`` x median and re-rake (:func:`trim_and_rake`).

    Returns
    -------
    (Design, RakeResult)
        The calibrated design: SEs use the GREG residuals of the linearized variable on the
        calibration dummies with weights ``d``, times the calibrated weights -- what
        ``calibrate(design, ~a + b, population, calfun = "raking")`` and ``postStratify()``
        give in R.
    """
    d = design.weights
    if method == "raking":
        names, codes, targets, cats = _check_margins(factors, margins, d)
        if trim is not None:
            res = _trim_and_rake(d, codes, targets, trim, tol, max_iter, 50)
        else:
            w, ok, it, err = _ipf(d, codes, targets, tol, max_iter)
            if not ok:
                raise WeightingError(f"raking did not converge in {it} iterations (max relative error {err:.3g})")
            res = RakeResult(w, ok, it, err)
        cal = build_calibration(design, codes, [len(c) for c in cats], names, d, res.weights)
        return replace(design, weights=res.weights, calibration=cal), res
    elif method == "poststratify":
        m = margins_from_frame(margins)
        if len(m) != 1:
            raise WeightingError("post-stratification takes exactly one (cross-classified) variable")
        var, tab = next(iter(m.items()))
        if var not in factors:
            raise WeightingError(f"margin variable {var} is not a column of the data")
        res = post_stratify(d, factors[var], tab)
        if trim is not None:
            raise WeightingError("trimming is available with raking only")
    else:
        raise WeightingError(f"unknown calibration method {method!r}")
    names, codes, _, cats = _check_margins(factors, margins, d)
    cal = build_calibration(design, codes, [len(c) for c in cats], names, d, res.weights)
    return replace(design, weights=res.weights, calibration=cal), res


def trim_design(design: Design, upper: float = np.inf, lower: float = -np.inf, *, strict: bool = False) -> Design:
    """R ``trimWeights(design, upper, lower, strict)``: new weights, calibration info kept."""
    return replace(design, weights=trim_weights(design.weights, upper, lower, strict=strict))


def design_weights(
    strata: npt.ArrayLike,
    population: Mapping[str, float],
    sampled: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Design weights ``d_i = N_h / n_h`` (method section 4.1).

    Parameters
    ----------
    strata : array-like
        Stratum of each sampled row.
    population : mapping
        Frame count ``N_h`` per stratum.
    sampled : mapping, optional
        Sample size ``n_h`` per stratum; by default the number of rows per stratum.
    """
    lab = _labels(strata, "strata")
    pop = {str(k): float(v) for k, v in population.items()}
    counts = lab.value_counts()
    n_h = {str(k): float(v) for k, v in (sampled or counts.to_dict()).items()}
    missing = sorted(set(lab.unique()) - set(pop))
    if missing:
        raise WeightingError(f"stratum {missing[0]!r} has no frame count")
    for h in lab.unique():
        if n_h.get(h, 0) <= 0:
            raise WeightingError(f"stratum {h!r} has no sample size")
        if pop[h] < n_h[h]:
            raise WeightingError(f"stratum {h!r}: frame count {pop[h]:g} < sample size {n_h[h]:g}")
    ratio = {h: pop[h] / n_h[h] for h in lab.unique()}
    return lab.map(ratio).to_numpy(dtype=np.float64)


def nonresponse_adjust(weights: npt.ArrayLike, cells: npt.ArrayLike, responded: npt.ArrayLike) -> np.ndarray:
    """Weighting-class nonresponse adjustment (method section 4.2).

    Respondents get ``d_i * sum_{sampled in cell} d / sum_{respondents in cell} d`` (``n_h/r_h``
    when ``d`` is constant in the cell); non-respondents get 0.
    """
    w = _weights(weights)
    lab = _labels(cells, "cells")
    r = np.asarray(responded, dtype=bool)
    if r.shape != w.shape or lab.shape[0] != w.shape[0]:
        raise WeightingError("weights, cells and responded differ in length")
    import pandas as pd

    codes, uniq = pd.factorize(lab, sort=True)
    all_w = np.bincount(codes, weights=w, minlength=len(uniq))
    resp_w = np.bincount(codes, weights=np.where(r, w, 0.0), minlength=len(uniq))
    bad = np.flatnonzero((resp_w <= 0) & (all_w > 0))
    if bad.size:
        raise WeightingError(f"adjustment cell {uniq[bad[0]]!r} has no respondents")
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(resp_w > 0, all_w / resp_w, 0.0)
    return np.where(r, w * factor[codes], 0.0)


def weight_diagnostics(weights: npt.ArrayLike, population_total: float | None = None) -> WeightSummary:
    """Weight summary: min/median/max, Kish effective n, weighting design effect ``1 + CV^2``."""
    w = _weights(weights)
    if w.size == 0:
        raise WeightingError("no weights")
    tot = float(w.sum())
    mean = tot / w.size
    cv = float(w.std() / mean) if mean > 0 else float("nan")
    sq = float((w * w).sum())
    return WeightSummary(
        n=int(w.size),
        total=tot,
        min=float(w.min()),
        median=float(np.median(w)),
        max=float(w.max()),
        mean=mean,
        cv=cv,
        kish_n_eff=tot * tot / sq if sq > 0 else float("nan"),
        deff_w=w.size * sq / (tot * tot) if tot > 0 else float("nan"),
        population=population_total,
        difference=None if population_total is None else tot - population_total,
    )
