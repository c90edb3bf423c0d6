"""Taylor-linearization variance for stratified cluster designs, by domain, as R ``survey`` does.

All functions take *linearized values* ``x`` already multiplied by the weights and divided by
the estimator's denominator -- exactly the matrix that ``survey:::svymean.survey.design2`` and
``svyratio`` hand to ``svyrecvar`` -- summed over arbitrary *cells* (rows, or groups of rows that
share a PSU, a domain and calibration categories). Domains use the full design: a domain's
values are zero outside it, PSUs without domain members still count (R's zero padding in
``survey:::onestrat``).

Variance of a column (``survey:::onestrat`` / ``onestage`` with ``survey.lonely.psu``)::

    V = sum_h  s_h * sum_{j in h} (T_hj - Tbar_h)^2,
    s_h = f_h * n_h / (n_h - 1)      (n_h > 1),   f_h = (N_h - n_h) / N_h  or 1 without fpc,
    lonely stratum (n_h = 1): "adjust": s_h = f_h and Tbar_h = 0 (centred at the grand mean,
    which is zero for linearized values); "remove"/"certainty": contributes 0.

After calibration (R's ``calibrate``/``postStratify``) ``x`` is first replaced by its
GREG residual ``x_i - c_i X_i' B`` with ``B = (X' D X)^+ X' (x / g)`` (``D`` the weights before
calibration, ``c = g d`` the calibrated weights), as in ``survey:::svyrecvar``.

References
----------
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., pp. 226-271.
Lumley, T. (2010). *Complex Surveys*, Wiley, pp. 135-146 (calibration) and appendix C.
Deville, J.-C., Sarndal, C.-E. (1992). Calibration estimators in survey sampling. *JASA* 87,
376-382.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from analysis.design import Design, DesignError

__all__ = [
    "domain_degf",
    "domain_psu_totals",
    "domain_variance",
    "row_psu_totals",
    "stratified_covariance",
    "stratified_variance",
]


def _as2d(x: npt.ArrayLike) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    return a[:, None] if a.ndim == 1 else a


def domain_psu_totals(
    design: Design,
    xw: npt.ArrayLike,
    cell_psu: np.ndarray,
    cell_dom: np.ndarray,
    n_dom: int,
    xd: npt.ArrayLike | None = None,
    cell_cal: tuple[np.ndarray, ...] | None = None,
) -> np.ndarray:
    """PSU totals of the (calibration-residualised) linearized values, per domain.

    Parameters
    ----------
    design : Design
    xw : array, shape (m, k)
        Linearized values summed over each cell, with the current weights.
    cell_psu, cell_dom : int arrays, shape (m,)
        PSU and domain code (``0 .. n_dom-1``; ``-1`` = in no domain) of each cell.
    n_dom : int
    xd : array, shape (m, k), optional
        The same sums divided by the g-weights (``x / g``); needed for calibrated designs.
    cell_cal : tuple of int arrays, optional
        Calibration category codes of each cell, one array per calibration factor.

    Returns
    -------
    ndarray, shape (n_psu, n_dom, k)
    """
    xw = _as2d(xw)
    k = xw.shape[1]
    keep = cell_dom >= 0
    idx = cell_psu[keep] * n_dom + cell_dom[keep]
    size = design.n_psus * n_dom
    tot = np.empty((size, k))
    for j in range(k):
        tot[:, j] = np.bincount(idx, weights=xw[keep, j], minlength=size)
    tot = tot.reshape(design.n_psus, n_dom * k)
    cal = design.calibration
    if cal is not None:
        if xd is None or cell_cal is None:
            raise DesignError("a calibrated design needs x/g and calibration codes")
        xd = _as2d(xd)
        xtv = np.zeros((cal.n_columns, n_dom * k))
        for f in range(len(cal.n_levels)):
            codes = cell_cal[f] if f == 0 else cell_cal[f] - 1
            nl = cal.n_levels[f] if f == 0 else cal.n_levels[f] - 1
            sel = keep & (codes >= 0)
            cidx = codes[sel] * n_dom + cell_dom[sel]
            block = np.empty((nl * n_dom, k))
            for j in range(k):
                block[:, j] = np.bincount(cidx, weights=xd[sel, j], minlength=nl * n_dom)
            o = cal.offsets[f]
            xtv[o : o + nl] = block.reshape(nl, n_dom * k)
        beta = cal.gram_pinv @ xtv
        tot -= cal.psu_x @ beta
    return tot.reshape(design.n_psus, n_dom, k)


def row_psu_totals(design: Design, values: npt.ArrayLike, domain_mask: npt.ArrayLike | None = None) -> np.ndarray:
    """PSU totals of row-level linearized values, calibration residual included, shape
    ``(n_psu, k)``.

    One domain (``domain_mask``, or every row), each row its own cell: the shortcut of
    :func:`domain_psu_totals` that ``svymean``/``svyratio``/``svyglm`` need (R hands the same
    matrix to ``svyrecvar``). On a calibrated design the values divided by ``g``
    (:attr:`analysis.design.Calibration.g_inverse`) feed the GREG residual.

    Parameters
    ----------
    design : Design
    values : array, shape (n,) or (n, k)
        Linearized values of every row, already multiplied by the (current) weights; zero
        outside the domain.
    domain_mask : bool array, shape (n,), optional
        Rows in the domain (default: all rows).
    """
    linearized = _as2d(values)
    if domain_mask is None:
        row_domain = np.zeros(design.n, dtype=np.int64)
    else:
        row_domain = np.where(np.asarray(domain_mask, dtype=bool), 0, -1)
    calibration = design.calibration
    if calibration is None:
        return domain_psu_totals(design, linearized, design.psu, row_domain, 1)[:, 0, :]
    linearized_over_g = linearized * calibration.g_inverse[:, None]
    return domain_psu_totals(design, linearized, design.psu, row_domain, 1, linearized_over_g, calibration.codes)[
        :, 0, :
    ]


def _stratum_scale(design: Design) -> np.ndarray:
    """``f_h n_h / (n_h - 1)``, ``f_h`` for an "adjust" lonely PSU, 0 for "remove"/"certainty"."""
    n_h = design.n_psu
    lonely = n_h == 1
    finite = np.isfinite(design.fpc)
    f = np.ones(n_h.shape[0])
    f[finite] = (design.fpc[finite] - n_h[finite]) / design.fpc[finite]
    scale = np.where(lonely, f, f * n_h / np.maximum(n_h - 1, 1))
    if design.lonely_psu in ("remove", "certainty"):
        scale = np.where(lonely, 0.0, scale)
    return scale


def stratified_variance(design: Design, tot: np.ndarray) -> np.ndarray:
    """Between-PSU variance within strata of PSU totals (``survey:::onestage``).

    Parameters
    ----------
    design : Design
    tot : array, shape (n_psu, ...)
        PSU totals of linearized values (any trailing shape).

    Returns
    -------
    ndarray
        Variances, shape ``tot.shape[1:]``.
    """
    shape = tot.shape[1:]
    t = tot.reshape(design.n_psus, -1)
    n_h = design.n_psu
    lonely = n_h == 1
    if design.lonely_psu == "fail" and lonely.any():
        h = int(np.flatnonzero(lonely)[0])
        raise DesignError(f"stratum {design.strata_labels[h]!s} has only one PSU")
    scale = _stratum_scale(design)
    sums = np.add.reduceat(t, design.stratum_start, axis=0)
    means = sums / n_h[:, None]
    means[lonely] = 0.0  # "adjust": centre a lonely PSU at the grand mean (zero)
    centred = t - np.repeat(means, n_h, axis=0)
    ss = np.add.reduceat(centred * centred, design.stratum_start, axis=0)
    variance: np.ndarray = (scale[:, None] * ss).sum(axis=0).reshape(shape)
    return variance


def stratified_covariance(design: Design, tot: np.ndarray) -> np.ndarray:
    """Covariance matrix of the columns of ``tot`` (shape ``(n_psu, k)``), same rules."""
    n_h = design.n_psu
    lonely = n_h == 1
    scale = _stratum_scale(design)
    sums = np.add.reduceat(tot, design.stratum_start, axis=0)
    means = sums / n_h[:, None]
    means[lonely] = 0.0
    centred = tot - np.repeat(means, n_h, axis=0)
    weighted = centred * np.repeat(scale, n_h)[:, None]
    covariance: np.ndarray = centred.T @ weighted
    return covariance


def domain_variance(
    design: Design,
    xw: npt.ArrayLike,
    cell_psu: np.ndarray,
    cell_dom: np.ndarray,
    n_dom: int,
    xd: npt.ArrayLike | None = None,
    cell_cal: tuple[np.ndarray, ...] | None = None,
) -> np.ndarray:
    """Linearization variance of every column of ``xw`` in every domain, shape ``(n_dom, k)``.

    See :func:`domain_psu_totals` for the parameters.
    """
    tot = domain_psu_totals(design, xw, cell_psu, cell_dom, n_dom, xd, cell_cal)
    return stratified_variance(design, tot)


def domain_degf(
    design: Design,
    contrib: npt.ArrayLike,
    cell_psu: np.ndarray,
    cell_dom: np.ndarray,
    n_dom: int,
) -> np.ndarray:
    """Degrees of freedom per domain and column, as R's ``degf()`` of the domain subset.

    PSUs with at least one contributing row minus the strata among them.

    Parameters
    ----------
    contrib : array, shape (m, k)
        Number of contributing rows (non-zero weight, valid answer) in each cell.

    Returns
    -------
    ndarray of int, shape (n_dom, k)
    """
    c = _as2d(contrib)
    k = c.shape[1]
    keep = cell_dom >= 0
    idx = cell_psu[keep] * n_dom + cell_dom[keep]
    size = design.n_psus * n_dom
    has = np.empty((size, k), dtype=bool)
    for j in range(k):
        has[:, j] = np.bincount(idx, weights=c[keep, j], minlength=size) > 0
    has = has.reshape(design.n_psus, n_dom * k)
    n_psu = has.sum(axis=0)
    n_str = (np.add.reduceat(has.astype(np.int64), design.stratum_start, axis=0) > 0).sum(axis=0)
    df: np.ndarray = (n_psu - n_str).reshape(n_dom, k).astype(np.int64)
    return df
