"""Survey design objects: strata, primary sampling units, finite population correction, weights.

The :class:`Design` mirrors what R's ``survey::svydesign(ids = ~psu, strata = ~stratum,
fpc = ~fpc, weights = ~w, nest = TRUE)`` stores for a one-stage (ultimate cluster) design, in
integer-coded arrays so that every estimator can use ``np.bincount`` instead of grouping.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, ch. 2-3 (pp. 17-58).
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed. Springer, ch. 6 (Taylor
series, pp. 226-271).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LONELY_PSU_RULES",
    "Calibration",
    "Design",
    "DesignError",
    "Labels",
    "compact_codes",
    "factorize_labels",
    "make_design",
]

LONELY_PSU_RULES = ("adjust", "remove", "certainty", "fail")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class DesignError(ValueError):
    """A design that cannot be built from the given columns (one-line message)."""


@dataclass(frozen=True, eq=False)
class Labels:
    """Row labels coded as integers, what a pandas Categorical holds, without pandas (the
    command's reader makes them; pandas is not imported on its fast path).

    Attributes
    ----------
    codes : int array, shape (n,)
        Position of every row's label in ``categories``; ``-1`` = missing (blank).
    categories : object array
        The distinct labels, sorted, as strings.
    """

    codes: npt.NDArray[np.integer]
    categories: npt.NDArray[np.object_]

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        """The labels of every row as an object array, None where missing."""
        labels = np.empty(len(self.categories) + 1, dtype=object)  # the last entry: None
        labels[:-1] = self.categories
        values: np.ndarray = labels[np.asarray(self.codes)]  # code -1: the appended None
        return values if dtype is None else values.astype(dtype)


def _categorical(values: object) -> pd.Categorical | None:
    """``values`` as a pandas Categorical when it is one (or a categorical Series), else None."""
    pandas = sys.modules.get("pandas")  # a pandas object exists only once pandas is imported
    if pandas is None:
        return None
    if isinstance(values, pandas.Categorical):
        return cast("pd.Categorical", values)
    if isinstance(values, pandas.Series) and isinstance(values.dtype, pandas.CategoricalDtype):
        return cast("pd.Categorical", values.array)
    return None


def _coded(values: object) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, categories)`` of :class:`Labels` or a pandas Categorical, else None."""
    if isinstance(values, Labels):
        return np.asarray(values.codes), np.asarray(values.categories, dtype=object)
    categorical = _categorical(values)
    if categorical is None:
        return None
    return np.asarray(categorical.codes), np.asarray(categorical.categories, dtype=object)


def factorize_labels(values: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (``-1`` = missing) and sorted string labels of ``values``.

    Values are compared as strings (``1`` and ``"1"`` are one label); fast on large arrays
    because only the distinct values are converted to strings. A pandas Categorical (or
    categorical Series) is taken by its codes, without an object per row; categories that no
    row uses are not labels.
    """
    coded = _coded(values)
    if coded is None:
        import pandas as pd

        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        as_str = np.array([str(u) for u in uniques], dtype=object)
        if as_str.size == 0:
            return codes.astype(np.int64), as_str
        labels, remap = np.unique(as_str.astype(str), return_inverse=True)
        out = np.where(codes >= 0, remap.ravel()[np.maximum(codes, 0)], -1).astype(np.int64)
        return out, labels.astype(object)
    # codes: one table look-up from the category codes (shifted by one: -1 = missing) to the
    # sorted string labels of the categories in use, skipped when that is the identity
    shifted = coded[0].astype(np.int64)
    shifted += 1
    n_categories = len(coded[1])
    used = np.bincount(shifted, minlength=n_categories + 1)[1:] > 0
    as_str = np.array([str(u) for u in coded[1][used]], dtype=object)
    if as_str.size == 0:
        return np.full(shifted.shape, -1, dtype=np.int64), as_str
    labels, remap = np.unique(as_str.astype(str), return_inverse=True)
    table = np.full(n_categories + 1, -1, dtype=np.int64)
    table[1:][used] = remap.ravel()
    if used.all() and np.array_equal(table[1:], np.arange(n_categories)):
        shifted -= 1
        return shifted, labels.astype(object)
    return table[shifted], labels.astype(object)


def compact_codes(key: npt.NDArray[np.integer], size: int) -> tuple[IntArray, IntArray]:
    """Number the distinct values of a non-negative integer ``key`` (all below ``size``)
    ``0 .. m-1`` in increasing order; returns the code of every row and *a* row of every code.

    When ``size`` is not much larger than the number of rows, a presence table replaces the
    sort of ``np.unique`` (linear time: this runs on every row of a million-row file).
    """
    n = int(key.shape[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if size <= max(4 * n, 1 << 20):
        present = np.zeros(size, dtype=bool)
        present[key] = True
        rank = np.cumsum(present, dtype=np.int64) - 1
        codes: IntArray = rank[key]
        some_row = np.empty(int(rank[-1]) + 1, dtype=np.int64)
        some_row[codes] = np.arange(n, dtype=np.int64)
        return codes, some_row
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.astype(np.int64).ravel(), first.astype(np.int64)


def _codes(values: npt.ArrayLike, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Factorise ``values`` to sorted integer codes; refuse missing values."""
    if isinstance(values, Labels):  # sorted labels: only the used ones are kept, as pd.factorize does
        codes = np.asarray(values.codes, dtype=np.int64)
        missing = int((codes < 0).sum())
        if missing:
            raise DesignError(f"{what} has {missing} missing value(s)")
        used = np.bincount(codes, minlength=len(values.categories)) > 0
        if used.all():
            return codes, np.asarray(values.categories, dtype=object)
        renumber = np.cumsum(used) - 1
        return renumber[codes], np.asarray(values.categories, dtype=object)[used]
    import pandas as pd

    categorical = _categorical(values)
    s = pd.Series(np.asarray(values)) if categorical is None else pd.Series(categorical, copy=False)
    missing = int(s.isna().sum())
    if missing:
        raise DesignError(f"{what} has {missing} missing value(s)")
    codes, labels = pd.factorize(s, sort=True)
    return codes.astype(np.int64), np.asarray(labels)


@dataclass(frozen=True, eq=False)
class Calibration:
    """What the calibration (GREG-residual) linearization needs.

    Attributes
    ----------
    codes : tuple of ndarray
        Per calibration factor, the integer category code of every row.
    n_levels : tuple of int
        Number of categories of each factor.
    names : tuple of str
        Factor names (for messages).
    base_weights : ndarray
        Weights before calibration (``d``; R's ``ww`` in ``calibrate``).
    cal_weights : ndarray
        Weights right after calibration (``g * d``).
    offsets : tuple of int
        Column offset of each factor in the reduced model matrix. The first factor keeps all its
        categories, later factors drop their first category (R's treatment contrasts with an
        intercept span the same column space).
    gram_pinv : ndarray
        Pseudo-inverse of ``X' D X`` (``D`` = base weights), shape ``(p, p)``.
    psu_x : ndarray
        PSU totals of ``c * X`` (``c`` = calibrated weights), shape ``(n_psu, p)``.
    """

    codes: tuple[IntArray, ...]
    n_levels: tuple[int, ...]
    names: tuple[str, ...]
    base_weights: FloatArray
    cal_weights: FloatArray
    offsets: tuple[int, ...]
    gram_pinv: FloatArray
    psu_x: FloatArray

    @property
    def g_inverse(self) -> FloatArray:
        """``d / c`` per row, the inverse calibration factor ``1/g``: weight before over weight
        after calibration (0 where the calibrated weight is 0).

        The GREG-residual linearization regresses ``x / g`` on the calibration variables
        (``survey:::svyrecvar`` after ``calibrate``/``postStratify``; Lumley 2010, pp. 135-146).
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.cal_weights > 0, self.base_weights / self.cal_weights, 0.0)

    @property
    def n_columns(self) -> int:
        """Number of columns of the reduced calibration model matrix."""
        return int(self.gram_pinv.shape[0])

    def column_codes(self, f: int) -> tuple[np.ndarray, int]:
        """Row codes of factor ``f`` shifted so that a dropped first level is ``-1``."""
        if f == 0:
            return self.codes[0], self.n_levels[0]
        return self.codes[f] - 1, self.n_levels[f] - 1


@dataclass(frozen=True, eq=False)
class Design:
    """A stratified one-stage cluster design with weights (R ``survey.design2`` equivalent).

    Build it with :func:`make_design`; do not fill the fields by hand.

    Attributes
    ----------
    weights : ndarray, shape (n,)
        Sampling (or calibrated) weights, ``1/prob`` in R.
    strata : ndarray, shape (n,)
        Stratum code of every row (0 .. H-1).
    psu : ndarray, shape (n,)
        PSU code of every row (0 .. P-1), numbered stratum by stratum, PSUs nested in strata.
    psu_stratum : ndarray, shape (P,)
        Stratum of every PSU (non-decreasing).
    n_psu : ndarray, shape (H,)
        Number of sampled PSUs per stratum (R's ``fpc$sampsize``).
    stratum_start : ndarray, shape (H,)
        Index of the first PSU of every stratum.
    fpc : ndarray, shape (H,)
        Population number of PSUs per stratum (R's ``fpc$popsize``); ``inf`` without fpc.
    lonely_psu : str
        ``options(survey.lonely.psu = ...)``: ``adjust`` (default), ``remove``, ``certainty``,
        ``fail``.
    strata_labels : ndarray
        Original stratum labels, by code.
    calibration : Calibration or None
        Set by :func:`analysis.weighting.calibrate_design`; the variance then uses the
        GREG-residual linearization.
    """

    weights: FloatArray
    strata: IntArray
    psu: IntArray
    psu_stratum: IntArray
    n_psu: IntArray
    stratum_start: IntArray
    fpc: FloatArray
    lonely_psu: str
    strata_labels: np.ndarray
    calibration: Calibration | None = None

    @property
    def n(self) -> int:
        """Number of rows (respondents)."""
        return int(self.weights.shape[0])

    @property
    def n_strata(self) -> int:
        """Number of strata."""
        return int(self.n_psu.shape[0])

    @property
    def n_psus(self) -> int:
        """Number of sampled PSUs."""
        return int(self.psu_stratum.shape[0])

    def degf(self, mask: npt.ArrayLike | None = None) -> int:
        """Design degrees of freedom, R's ``degf()``: PSUs minus strata among the rows in ``mask``.

        Only rows with a non-zero weight count, as in ``survey:::degf.survey.design2``.
        """
        inset = self.weights != 0
        if mask is not None:
            inset = inset & np.asarray(mask, dtype=bool)
        psus = np.unique(self.psu[inset])
        return int(psus.size - np.unique(self.psu_stratum[psus]).size)

    def with_weights(self, weights: npt.ArrayLike) -> Design:
        """The same design with other, fixed weights (any calibration information is dropped)."""
        w = _check_weights(weights, self.n)
        return replace(self, weights=w, calibration=None)


def _check_weights(weights: npt.ArrayLike, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise DesignError(f"weights have shape {w.shape}, expected ({n},)")
    if not np.all(np.isfinite(w)):
        bad = int((~np.isfinite(w)).sum())
        raise DesignError(f"weights have {bad} missing or infinite value(s)")
    if np.any(w < 0):
        raise DesignError(f"weights have {int((w < 0).sum())} negative value(s)")
    return w


def make_design(
    *,
    n: int | None = None,
    weights: npt.ArrayLike | None = None,
    strata: npt.ArrayLike | None = None,
    psu: npt.ArrayLike | None = None,
    fpc: npt.ArrayLike | None = None,
    lonely_psu: str = "adjust",
) -> Design:
    """Build a design like ``svydesign(ids = ~psu, strata = ~strata, fpc = ~fpc, weights = ~w,
    nest = TRUE)``.

    Parameters
    ----------
    n : int, optional
        Number of rows; needed only when no other argument is given.
    weights : array-like, optional
        Sampling weights (inverse inclusion probabilities). Without them, weights are
        ``N_h / n_h`` from ``fpc`` (``n_h`` sampled PSUs in stratum ``h``), or 1 without fpc.
    strata : array-like, optional
        Stratum label of each row; one stratum when absent.
    psu : array-like, optional
        PSU (cluster) label of each row, nested within strata; every row is its own PSU when
        absent (element sampling).
    fpc : array-like, optional
        Population size of the row's stratum in PSUs (for element sampling: elements, e.g.
        dossiers); constant within a stratum and at least the number of sampled PSUs.
    lonely_psu : {"adjust", "remove", "certainty", "fail"}
        Treatment of strata with a single sampled PSU, as R's ``options(survey.lonely.psu)``.

    Returns
    -------
    Design

    Raises
    ------
    DesignError
        Missing design values, an fpc that varies within a stratum or is smaller than the number
        of sampled PSUs, negative or missing weights, a lonely PSU with ``lonely_psu="fail"``.
    """
    if lonely_psu not in LONELY_PSU_RULES:
        raise DesignError(f"lonely_psu must be one of {', '.join(LONELY_PSU_RULES)}")
    lengths = {
        len(a) if isinstance(a, Labels) else len(np.asarray(a)) for a in (weights, strata, psu, fpc) if a is not None
    }
    if n is not None:
        lengths.add(int(n))
    if len(lengths) != 1:
        raise DesignError("design columns differ in length or no column was given")
    n_rows = lengths.pop()
    if n_rows == 0:
        raise DesignError("the design has no rows")

    if strata is None:
        s_codes = np.zeros(n_rows, dtype=np.int64)
        s_labels = np.array(["all"], dtype=object)
    else:
        s_codes, s_labels = _codes(strata, "strata")
    n_strata = int(s_labels.shape[0])

    if psu is None:
        # every row its own PSU, numbered stratum by stratum
        order = np.argsort(s_codes, kind="stable")
        psu_codes = np.empty(n_rows, dtype=np.int64)
        psu_codes[order] = np.arange(n_rows, dtype=np.int64)
    else:
        p_codes, _ = _codes(psu, "psu")
        p_count = int(p_codes.max()) + 1
        psu_codes, _ = compact_codes(s_codes * p_count + p_codes, n_strata * p_count)
    n_psus = int(psu_codes.max()) + 1
    psu_stratum = np.zeros(n_psus, dtype=np.int64)
    psu_stratum[psu_codes] = s_codes
    n_psu = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)
    stratum_start = np.concatenate(([0], np.cumsum(n_psu)[:-1])).astype(np.int64)

    if fpc is None:
        pop = np.full(n_strata, np.inf)
    else:
        f = np.asarray(fpc, dtype=np.float64)
        if not np.all(np.isfinite(f)):
            raise DesignError("fpc has missing or infinite values")
        lo = np.empty(n_strata)
        lo[s_codes] = f  # one value of every stratum, then every row compared with it
        differs = np.flatnonzero(f != lo[s_codes])
        if differs.size:
            raise DesignError(f"fpc is not constant within stratum {s_labels[s_codes[differs[0]]]!s}")
        small = np.flatnonzero(lo < n_psu)
        if small.size:
            h = small[0]
            raise DesignError(f"fpc {lo[h]:g} of stratum {s_labels[h]!s} is smaller than its {n_psu[h]} sampled PSU(s)")
        pop = lo

    if weights is None:
        w = (pop / n_psu)[s_codes] if fpc is not None else np.ones(n_rows)
    else:
        w = _check_weights(weights, n_rows)

    if lonely_psu == "fail" and np.any(n_psu == 1):
        h = int(np.flatnonzero(n_psu == 1)[0])
        raise DesignError(f"stratum {s_labels[h]!s} has only one PSU")

    return Design(
        weights=w,
        strata=s_codes,
        psu=psu_codes,
        psu_stratum=psu_stratum,
        n_psu=n_psu,
        stratum_start=stratum_start,
        fpc=pop,
        lonely_psu=lonely_psu,
        strata_labels=s_labels,
    )


def build_calibration(
    design: Design,
    codes: Sequence[np.ndarray],
    n_levels: Sequence[int],
    names: Sequence[str],
    base_weights: np.ndarray,
    cal_weights: np.ndarray,
) -> Calibration:
    """Precompute the GREG-residual pieces for categorical calibration factors.

    The reduced model matrix ``X`` has all categories of the first factor and all but the first
    category of the others; its column space equals that of R's ``model.matrix(~ a + b)``.
    ``codes`` hold every row's category, ``0 .. n_levels - 1`` (no missing value).
    """
    offsets: list[int] = []
    p = 0
    for f, nl in enumerate(n_levels):
        offsets.append(p)
        p += nl if f == 0 else nl - 1
    # every total by one np.bincount over all rows with the full category codes (no masked
    # copies); a dropped first category is a column cut off afterwards
    gram = np.zeros((p, p))
    psu_x = np.zeros((design.n_psus, p))
    full = [np.asarray(c, dtype=np.int64) for c in codes]
    first = [0 if f == 0 else 1 for f in range(len(full))]  # the first kept category
    for f, (cf, lf) in enumerate(zip(full, n_levels, strict=True)):
        of, kept = offsets[f], lf - first[f]
        t = np.bincount(design.psu * lf + cf, weights=cal_weights, minlength=design.n_psus * lf)
        psu_x[:, of : of + kept] = t.reshape(design.n_psus, lf)[:, first[f] :]
        # a factor with itself: only its diagonal (one category per row)
        diagonal = np.bincount(cf, weights=base_weights, minlength=lf)[first[f] :]
        gram[of : of + kept, of : of + kept] = np.diag(diagonal)
        for g in range(f + 1, len(full)):
            lg, og = n_levels[g], offsets[g]
            t = np.bincount(cf * lg + full[g], weights=base_weights, minlength=lf * lg)
            block = t.reshape(lf, lg)[first[f] :, first[g] :]
            gram[of : of + kept, og : og + lg - first[g]] = block
            gram[og : og + lg - first[g], of : of + kept] = block.T
    gram_pinv = np.linalg.pinv(gram, rcond=1e-12, hermitian=True)
    return Calibration(
        codes=tuple(np.asarray(c, dtype=np.int64) for c in codes),
        n_levels=tuple(int(x) for x in n_levels),
        names=tuple(names),
        base_weights=np.asarray(base_weights, dtype=np.float64),
        cal_weights=np.asarray(cal_weights, dtype=np.float64),
        offsets=tuple(offsets),
        gram_pinv=gram_pinv.astype(np.float64, copy=False),
        psu_x=psu_x,
    )
