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

from analysis.design import Design, DesignError, compact_codes

__all__ = [
    "domain_degf",
    "domain_psu_totals",
    "domain_variance",
    "domain_variance_and_degf",
    "group_sums",
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
    psu_totals = group_sums(values[in_domain], psu_domain, size).reshape(design.n_psus, n_domains * k)
    if design.calibration is not None:
        if linearized_over_g is None or cell_calibration is None:
            raise DesignError("a calibrated design needs x/g and calibration codes")
        coefficients = _regression_coefficients(
            design, _as2d(linearized_over_g), cell_calibration, cell_domain, n_domains
        )
        psu_totals -= design.calibration.psu_x @ coefficients
    return psu_totals.reshape(design.n_psus, n_domains, k)


def group_sums(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``values`` (shape ``(r, k)``) by group (codes ``0 .. n_groups-1``).

    Few groups of many columns: the rows sorted by group and each group's block summed at
    once; otherwise one ``np.bincount`` per (contiguous) column. Both are several times faster
    than ``np.add.at`` or ``np.add.reduceat``."""
    values = np.asarray(values, dtype=np.float64)
    rows, columns = values.shape
    out = np.zeros((n_groups, columns))
    if columns >= 16 and n_groups <= 2000 and rows >= 4 * n_groups:
        order = np.argsort(groups, kind="stable")
        bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
        present = np.flatnonzero(np.diff(bounds))
        if present.size:  # one reduceat over the blocks of the groups that have rows
            out[present] = np.add.reduceat(values[order], bounds[present], axis=0)
        return out
    if columns > 1 and not values.flags.f_contiguous:
        values = np.asfortranarray(values)
    for col in range(columns):
        out[:, col] = np.bincount(groups, weights=values[:, col], minlength=n_groups)
    return out


def _regression_coefficients(
    design: Design,
    values_over_g: np.ndarray,
    cell_calibration: tuple[np.ndarray, ...],
    cell_domain: np.ndarray,
    n_domains: int,
) -> np.ndarray:
    """GREG coefficients ``B = (X' D X)^+ X' (x / g)`` of every domain and column, shape
    ``(p, n_domains * k)``."""
    calibration = design.calibration
    assert calibration is not None
    k = values_over_g.shape[1]
    in_domain = cell_domain >= 0
    # X' (x / g): totals of x / g per column of the reduced calibration model matrix
    xt_values = np.zeros((calibration.n_columns, n_domains * k))
    for factor in range(len(calibration.n_levels)):
        codes = cell_calibration[factor] if factor == 0 else cell_calibration[factor] - 1
        n_levels = calibration.n_levels[factor] if factor == 0 else calibration.n_levels[factor] - 1
        selected = in_domain & (codes >= 0)
        level_domain = codes[selected] * n_domains + cell_domain[selected]
        block = group_sums(values_over_g[selected], level_domain, n_levels * n_domains)
        offset = calibration.offsets[factor]
        xt_values[offset : offset + n_levels] = block.reshape(n_levels, n_domains * k)
    coefficients: np.ndarray = calibration.gram_pinv @ xt_values
    return coefficients


def domain_variance_and_degf(
    design: Design,
    linearized: npt.ArrayLike,
    contributors: npt.ArrayLike,
    cell_psu: np.ndarray,
    cell_domain: np.ndarray,
    n_domains: int,
    linearized_over_g: npt.ArrayLike | None = None,
    cell_calibration: tuple[np.ndarray, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Variances and degrees of freedom of every column in every domain, shapes
    ``(n_domains, k)``: :func:`domain_variance` and :func:`domain_degf` at once, without the
    dense ``(n_psu, n_domains, k)`` array of PSU totals.

    A domain's PSU totals are zero outside the ``(PSU, domain)`` pairs that have cells, so
    the sums run over those pairs: per stratum and domain, ``sum_j (T_j - Tbar)^2`` is the sum
    over the pairs plus ``Tbar^2`` for each PSU of the stratum without domain members (two
    passes, no cancellation). After calibration the residual ``T - X B`` is dense; its sum of
    squares is ``sum (T - cTbar)^2 - 2 sum (T - cTbar) X B + B' G B`` with ``G`` the
    within-stratum scatter of the PSU totals of ``X`` (``c`` = 1 when centred, 0 for a lonely
    PSU). A column where that difference loses more than 7 of 16 digits (a variance that is
    zero up to rounding) is recomputed from its dense residuals, as R does.

    See :func:`domain_psu_totals` and :func:`domain_degf` for the parameters.
    """
    values = _as2d(linearized)
    counts = _as2d(contributors)
    k = values.shape[1]
    n_h_all = design.n_psu
    if design.lonely_psu == "fail" and (n_h_all == 1).any():
        h = int(np.flatnonzero(n_h_all == 1)[0])
        raise DesignError(f"stratum {design.strata_labels[h]!s} has only one PSU")
    in_domain = cell_domain >= 0
    key = cell_psu[in_domain] * n_domains + cell_domain[in_domain]
    cell_pair, some_cell = compact_codes(key, design.n_psus * n_domains)
    n_pairs = int(some_cell.shape[0])
    pair_psu = key[some_cell] // n_domains
    pair_domain = key[some_cell] % n_domains
    totals = group_sums(values[in_domain], cell_pair, n_pairs)
    contributes = group_sums(counts[in_domain], cell_pair, n_pairs) > 0

    # (stratum, domain) groups of pairs
    pair_stratum = design.psu_stratum[pair_psu]
    pair_group, some_pair = compact_codes(pair_stratum * n_domains + pair_domain, design.n_strata * n_domains)
    n_groups = int(some_pair.shape[0])
    group_stratum = pair_stratum[some_pair]
    group_domain = pair_domain[some_pair]

    # degrees of freedom: contributing PSUs minus their strata
    n_psus = group_sums(contributes.astype(np.float64), pair_domain, n_domains)
    stratum_contributes = group_sums(contributes.astype(np.float64), pair_group, n_groups) > 0
    n_strata = group_sums(stratum_contributes.astype(np.float64), group_domain, n_domains)
    df = np.rint(n_psus - n_strata).astype(np.int64)

    n_h = n_h_all[group_stratum].astype(np.float64)
    centred = n_h_all[group_stratum] > 1
    scale = _stratum_scale(design)[group_stratum]
    sums = group_sums(totals, pair_group, n_groups)
    means = np.where(centred[:, None], sums / n_h[:, None], 0.0)
    deviations = totals - means[pair_group]
    absent = n_h - np.bincount(pair_group, minlength=n_groups)
    within = group_sums(deviations * deviations, pair_group, n_groups) + absent[:, None] * means * means
    variance = group_sums(scale[:, None] * within, group_domain, n_domains)
    calibration = design.calibration
    if calibration is None:
        return variance, df
    if linearized_over_g is None or cell_calibration is None:
        raise DesignError("a calibrated design needs x/g and calibration codes")
    coefficients = _regression_coefficients(design, _as2d(linearized_over_g), cell_calibration, cell_domain, n_domains)
    p = calibration.n_columns
    by_domain = coefficients.reshape(p, n_domains, k)
    psu_x = calibration.psu_x
    stratum_mean_x = np.add.reduceat(psu_x, design.stratum_start, axis=0) / n_h_all[:, None]
    # X B at the pairs and the stratum means of X B at the groups, one domain at a time
    fitted = np.empty((n_pairs, k))
    fitted_mean = np.empty((n_groups, k))
    pair_order = np.argsort(pair_domain, kind="stable")
    pair_bounds = np.searchsorted(pair_domain[pair_order], np.arange(n_domains + 1))
    group_order = np.argsort(group_domain, kind="stable")
    group_bounds = np.searchsorted(group_domain[group_order], np.arange(n_domains + 1))
    for d in range(n_domains):
        pairs = pair_order[pair_bounds[d] : pair_bounds[d + 1]]
        if pairs.size:
            fitted[pairs] = psu_x[pair_psu[pairs]] @ by_domain[:, d, :]
        groups = group_order[group_bounds[d] : group_bounds[d + 1]]
        if groups.size:
            fitted_mean[groups] = stratum_mean_x[group_stratum[groups]] @ by_domain[:, d, :]
    # sum_j (T_j - c Tbar) (X B)_j = sum over pairs T (X B) - c * sum T * mean of X B
    cross = group_sums(totals * fitted, pair_group, n_groups) - np.where(centred[:, None], sums * fitted_mean, 0.0)
    cross_total = group_sums(scale[:, None] * cross, group_domain, n_domains)
    psu_centred = np.where(n_h_all[design.psu_stratum][:, None] > 1, psu_x - stratum_mean_x[design.psu_stratum], psu_x)
    scatter = psu_centred.T @ (psu_centred * _stratum_scale(design)[design.psu_stratum][:, None])
    fitted_square = np.einsum("pq,pc,qc->c", scatter, coefficients, coefficients, optimize=True).reshape(n_domains, k)
    residual = variance - 2.0 * cross_total + fitted_square
    unsafe = ~(residual > 1e-7 * (variance + fitted_square))
    if unsafe.any():
        residual[unsafe] = _dense_residual_variance(design, totals, pair_psu, pair_domain, by_domain, unsafe)
    return residual, df


def _dense_residual_variance(
    design: Design,
    totals: np.ndarray,
    pair_psu: np.ndarray,
    pair_domain: np.ndarray,
    by_domain: np.ndarray,
    selected: np.ndarray,
) -> np.ndarray:
    """Variance of the calibration residuals ``T - X B`` of the ``selected`` (domain, column)
    cells from their dense PSU totals (the direct computation, for variances near zero)."""
    assert design.calibration is not None
    domains, columns = np.nonzero(selected)
    dense = np.zeros((design.n_psus, domains.shape[0]))
    for i, (d, col) in enumerate(zip(domains, columns, strict=True)):
        pairs = pair_domain == d
        dense[pair_psu[pairs], i] = totals[pairs, col]
    dense -= design.calibration.psu_x @ by_domain[:, domains, columns]
    result: np.ndarray = stratified_variance(design, dense)
    return result


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
