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
    linearized: npt.ArrayLike,
    cell_psu: np.ndarray,
    cell_domain: np.ndarray,
    n_domains: int,
    linearized_over_g: npt.ArrayLike | None = None,
    cell_calibration: tuple[np.ndarray, ...] | None = None,
) -> np.ndarray:
    """PSU totals of the (calibration-residualised) linearized values, per domain.

    Parameters
    ----------
    design : Design
    linearized : array, shape (m, k)
        Linearized values summed over each cell, with the current weights.
    cell_psu, cell_domain : int arrays, shape (m,)
        PSU and domain code (``0 .. n_domains-1``; ``-1`` = in no domain) of each cell.
    n_domains : int
    linearized_over_g : array, shape (m, k), optional
        The same sums divided by the g-weights (``x / g``); needed for calibrated designs.
    cell_calibration : tuple of int arrays, optional
        Calibration category codes of each cell, one array per calibration factor.

    Returns
    -------
    ndarray, shape (n_psu, n_domains, k)
    """
    values = _as2d(linearized)
    k = values.shape[1]
    in_domain = cell_domain >= 0
    psu_domain = cell_psu[in_domain] * n_domains + cell_domain[in_domain]
    size = design.n_psus * n_domains
    psu_totals = np.empty((size, k))
    for col in range(k):
        psu_totals[:, col] = np.bincount(psu_domain, weights=values[in_domain, col], minlength=size)
    psu_totals = psu_totals.reshape(design.n_psus, n_domains * k)
    calibration = design.calibration
    if calibration is not None:
        if linearized_over_g is None or cell_calibration is None:
            raise DesignError("a calibrated design needs x/g and calibration codes")
        values_over_g = _as2d(linearized_over_g)
        # X' (x / g): totals of x / g per column of the reduced calibration model matrix
        xt_values = np.zeros((calibration.n_columns, n_domains * k))
        for factor in range(len(calibration.n_levels)):
            codes = cell_calibration[factor] if factor == 0 else cell_calibration[factor] - 1
            n_levels = calibration.n_levels[factor] if factor == 0 else calibration.n_levels[factor] - 1
            selected = in_domain & (codes >= 0)
            level_domain = codes[selected] * n_domains + cell_domain[selected]
            block = np.empty((n_levels * n_domains, k))
            for col in range(k):
                block[:, col] = np.bincount(
                    level_domain, weights=values_over_g[selected, col], minlength=n_levels * n_domains
                )
            offset = calibration.offsets[factor]
            xt_values[offset : offset + n_levels] = block.reshape(n_levels, n_domains * k)
        regression_coef = calibration.gram_pinv @ xt_values
        psu_totals -= calibration.psu_x @ regression_coef
    return psu_totals.reshape(design.n_psus, n_domains, k)


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


def stratified_variance(design: Design, psu_totals: np.ndarray) -> np.ndarray:
    """Between-PSU variance within strata of PSU totals (``survey:::onestage``).

    Parameters
    ----------
    design : Design
    psu_totals : array, shape (n_psu, ...)
        PSU totals of linearized values (any trailing shape).

    Returns
    -------
    ndarray
        Variances, shape ``psu_totals.shape[1:]``.
    """
    shape = psu_totals.shape[1:]
    totals = psu_totals.reshape(design.n_psus, -1)
    n_h = design.n_psu
    lonely = n_h == 1
    if design.lonely_psu == "fail" and lonely.any():
        h = int(np.flatnonzero(lonely)[0])
        raise DesignError(f"stratum {design.strata_labels[h]!s} has only one PSU")
    scale = _stratum_scale(design)
    sums = np.add.reduceat(totals, design.stratum_start, axis=0)
    means = sums / n_h[:, None]
    means[lonely] = 0.0  # "adjust": centre a lonely PSU at the grand mean (zero)
    centred = totals - np.repeat(means, n_h, axis=0)
    sum_squares = np.add.reduceat(centred * centred, design.stratum_start, axis=0)
    variance: np.ndarray = (scale[:, None] * sum_squares).sum(axis=0).reshape(shape)
    return variance


def stratified_covariance(design: Design, psu_totals: np.ndarray) -> np.ndarray:
    """Covariance matrix of the columns of ``psu_totals`` (shape ``(n_psu, k)``), same rules."""
    n_h = design.n_psu
    lonely = n_h == 1
    scale = _stratum_scale(design)
    sums = np.add.reduceat(psu_totals, design.stratum_start, axis=0)
    means = sums / n_h[:, None]
    means[lonely] = 0.0
    centred = psu_totals - np.repeat(means, n_h, axis=0)
    weighted = centred * np.repeat(scale, n_h)[:, None]
    covariance: np.ndarray = centred.T @ weighted
    return covariance


def domain_variance(
    design: Design,
    linearized: npt.ArrayLike,
    cell_psu: np.ndarray,
    cell_domain: np.ndarray,
    n_domains: int,
    linearized_over_g: npt.ArrayLike | None = None,
    cell_calibration: tuple[np.ndarray, ...] | None = None,
) -> np.ndarray:
    """Linearization variance of every column of ``linearized`` in every domain, shape
    ``(n_domains, k)``.

    See :func:`domain_psu_totals` for the parameters.
    """
    psu_totals = domain_psu_totals(
        design, linearized, cell_psu, cell_domain, n_domains, linearized_over_g, cell_calibration
    )
    return stratified_variance(design, psu_totals)


def domain_degf(
    design: Design,
    contributors: npt.ArrayLike,
    cell_psu: np.ndarray,
    cell_domain: np.ndarray,
    n_domains: int,
) -> np.ndarray:
    """Degrees of freedom per domain and column, as R's ``degf()`` of the domain subset.

    PSUs with at least one contributing row minus the strata among them.

    Parameters
    ----------
    contributors : array, shape (m, k)
        Number of contributing rows (non-zero weight, valid answer) in each cell.

    Returns
    -------
    ndarray of int, shape (n_domains, k)
    """
    counts = _as2d(contributors)
    k = counts.shape[1]
    in_domain = cell_domain >= 0
    psu_domain = cell_psu[in_domain] * n_domains + cell_domain[in_domain]
    size = design.n_psus * n_domains
    psu_contributes = np.empty((size, k), dtype=bool)
    for col in range(k):
        psu_contributes[:, col] = np.bincount(psu_domain, weights=counts[in_domain, col], minlength=size) > 0
    psu_contributes = psu_contributes.reshape(design.n_psus, n_domains * k)
    n_psus = psu_contributes.sum(axis=0)
    n_strata = (np.add.reduceat(psu_contributes.astype(np.int64), design.stratum_start, axis=0) > 0).sum(axis=0)
    df: np.ndarray = (n_psus - n_strata).reshape(n_domains, k).astype(np.int64)
    return df
