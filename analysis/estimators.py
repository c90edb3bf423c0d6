"""Design-based estimators of means, totals, ratios and proportions, with their variances.

Every estimator uses Taylor linearization with the full design (strata, PSUs, fpc, lonely-PSU
rule, calibration) through :mod:`analysis.variance`, and reproduces R ``survey``:

=========================  ===================================================================
this module                R ``survey`` 4.x
=========================  ===================================================================
``svy_mean``               ``svymean(~y, subset(design, domain), na.rm = TRUE, deff = TRUE)``
``svy_total``              ``svytotal(~y, subset(design, domain), na.rm = TRUE, deff = TRUE)``
``svy_ratio``              ``svyratio(~num, ~den, subset(design, domain), na.rm = TRUE)``
``svy_ciprop``             ``svyciprop(~y, subset(...), method = "logit")`` (closed form)
=========================  ===================================================================

Weights are sampling (inverse-probability) or calibrated weights, never frequency weights.
The SIPAS item rates and indices, many at once and by domain, are in :mod:`analysis.rates`;
the intervals in :mod:`analysis.intervals`.

References
----------
Lumley, T. (2010). *Complex Surveys*, Wiley, pp. 17-58 (designs), 135-146 (calibration).
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., p. 233 (ratios).
Kish, L. (1965). *Survey Sampling*, Wiley, pp. 257-259 (design effect).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.design import Design, DesignError
from analysis.intervals import CI_METHODS
from analysis.output import cell_flags
from analysis.variance import row_psu_totals, stratified_variance

__all__ = ["Difference", "Estimate", "svy_ciprop", "svy_mean", "svy_ratio", "svy_total"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Estimate:
    """One design-based estimate.

    Attributes
    ----------
    value, se : float
        Estimate and its linearization standard error.
    ci_low, ci_high : float
        Interval ends (NaN when ``df <= 0``: the interval is undefined).
    df : int
        Design degrees of freedom of the (domain) estimate.
    deff : float
        Design effect (R ``deff = TRUE``: variance over the simple-random-sampling variance
        without replacement of the same number of respondents).
    n : int
        Contributing respondents.
    n_eff : float
        Effective sample size ``n / deff``.
    flag : str
        ``;``-separated warnings: ``no_data``, ``df<=0``, ``n<30``, ``wide_ci``, ``se=0``,
        ``partial`` (an index missing some items in this domain); empty when none.
    """

    value: float
    se: float
    ci_low: float
    ci_high: float
    df: int
    deff: float
    n: int
    n_eff: float
    flag: str = ""


@dataclass(frozen=True)
class Difference:
    """Difference ``a - b`` between two domains (or periods) with its design-based SE.

    ``p_value`` is two-sided, from Student's t with ``df`` = PSUs minus strata among the PSUs
    that contribute to either estimate.
    """

    indicator: str
    domain_a: str
    domain_b: str
    estimate_a: float
    estimate_b: float
    difference: float
    se: float
    ci_low: float
    ci_high: float
    df: int
    t: float
    p_value: float


def _row_variance(design: Design, linearized: FloatArray, domain_mask: npt.NDArray[np.bool_]) -> float:
    """Full-design variance of the linearized row values (zero outside ``domain_mask``)."""
    psu_totals = row_psu_totals(design, linearized, domain_mask)
    return float(stratified_variance(design, psu_totals)[0])


def _domain_mask(design: Design, domain: npt.ArrayLike | None, *columns: FloatArray) -> npt.NDArray[np.bool_]:
    """Rows in the domain with a finite value in every column and a non-zero weight."""
    mask = np.ones(design.n, dtype=bool) if domain is None else np.asarray(domain, dtype=bool)
    if mask.shape != (design.n,):
        raise DesignError(f"domain mask has shape {mask.shape}, expected ({design.n},)")
    for column in columns:
        mask = mask & np.isfinite(column)
    in_domain: npt.NDArray[np.bool_] = mask & (design.weights != 0)
    return in_domain


def _as_column(values: npt.ArrayLike, design: Design, what: str) -> FloatArray:
    column = np.asarray(values, dtype=np.float64)
    if column.shape != (design.n,):
        raise DesignError(f"{what} has shape {column.shape}, expected ({design.n},)")
    return column


def _design_effect(variance: float, s2: float, n_obs: int, weight_sum: float, kind: str = "mean") -> float:
    """R's ``deff = TRUE`` (without replacement): ``variance / [S^2 (1/n - 1/N)]`` (times ``N^2``
    for a total), ``N`` the sum of the weights; falls back to ``"replace"`` (``1/n``) when the
    weights sum to no more than ``n_obs`` (R would return NA or Inf there)."""
    if n_obs < 2:
        return float("nan")
    fpc = (weight_sum - n_obs) / (weight_sum * n_obs) if weight_sum > n_obs else 1.0 / n_obs
    scale = weight_sum * weight_sum if kind == "total" else 1.0
    variance_srs = s2 * scale * fpc
    return float(variance / variance_srs) if variance_srs > 0 else float("nan")


def _finish(value: float, variance: float, df: int, deff: float, n: int, ci: str, level: float) -> Estimate:
    """SE, interval, effective n and flags around a point estimate."""
    se = float(np.sqrt(variance))
    ci_low, ci_high = CI_METHODS[ci](value, se, df, level)
    low, high = float(ci_low), float(ci_high)
    flag = cell_flags(np.array([n]), np.array([df]), np.array([se]), np.array([low]), np.array([high]))[0]
    if ci == "wald" and "wide_ci" in flag:  # width threshold is for proportions only
        flag = ";".join(f for f in flag.split(";") if f != "wide_ci")
    n_eff = float(n / deff) if np.isfinite(deff) and deff > 0 else float("nan")
    return Estimate(float(value), se, low, high, int(df), float(deff), int(n), n_eff, flag)


def svy_mean(
    y: npt.ArrayLike,
    design: Design,
    domain: npt.ArrayLike | None = None,
    *,
    ci: str = "wald",
    level: float = 0.95,
) -> Estimate:
    """Weighted mean with linearization SE, like ``svymean(~y, subset(design, domain),
    na.rm = TRUE, deff = TRUE)``; df is ``degf()`` of that subset.

    Linearized variable ``w_i (y_i - mean) / sum(w)`` on the domain rows (Lumley 2010, p. 44).

    Parameters
    ----------
    y : array-like, shape (n,)
        Values; NaN rows are left out (R ``na.rm = TRUE``).
    design : Design
        Sampling or calibrated weights; the SE uses the full design (domain rows only carry
        non-zero linearized values).
    domain : bool array-like, optional
        Domain membership.
    ci : {"wald", "logit", "wilson"}
        Interval; ``logit`` and ``wilson`` are for proportions (0/1 ``y``).
    level : float
        Confidence level.
    """
    values = _as_column(y, design, "y")
    in_domain = _domain_mask(design, domain, values)
    weights = np.where(in_domain, design.weights, 0.0)
    weight_sum = float(weights.sum())
    n_obs = int(in_domain.sum())
    if n_obs == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, np.nan, 0, np.nan, "no_data")
    domain_values = np.where(in_domain, values, 0.0)
    mean = float((weights * domain_values).sum() / weight_sum)
    linearized = weights * (domain_values - mean) / weight_sum
    variance = _row_variance(design, linearized, in_domain)
    s2 = (
        float((weights * (domain_values - mean) ** 2).sum() / weight_sum) * n_obs / (n_obs - 1) if n_obs > 1 else np.nan
    )
    deff = _design_effect(variance, s2, n_obs, weight_sum)
    return _finish(mean, variance, design.degf(in_domain), deff, n_obs, ci, level)


def svy_total(
    y: npt.ArrayLike,
    design: Design,
    domain: npt.ArrayLike | None = None,
    *,
    level: float = 0.95,
) -> Estimate:
    """Weighted total with linearization SE and Wald interval, like ``svytotal(~y,
    subset(design, domain), na.rm = TRUE, deff = TRUE)``; sampling or calibrated weights."""
    values = _as_column(y, design, "y")
    in_domain = _domain_mask(design, domain, values)
    weights = np.where(in_domain, design.weights, 0.0)
    n_obs = int(in_domain.sum())
    if n_obs == 0:
        return Estimate(0.0, 0.0, np.nan, np.nan, 0, np.nan, 0, np.nan, "no_data")
    domain_values = np.where(in_domain, values, 0.0)
    total = float((weights * domain_values).sum())
    variance = _row_variance(design, weights * domain_values, in_domain)
    weight_sum = float(weights.sum())
    mean = total / weight_sum
    s2 = (
        float((weights * (domain_values - mean) ** 2).sum() / weight_sum) * n_obs / (n_obs - 1) if n_obs > 1 else np.nan
    )
    deff = _design_effect(variance, s2, n_obs, weight_sum, kind="total")
    return _finish(total, variance, design.degf(in_domain), deff, n_obs, "wald", level)


def svy_ratio(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    design: Design,
    domain: npt.ArrayLike | None = None,
    *,
    ci: str = "wald",
    level: float = 0.95,
) -> Estimate:
    """Ratio of weighted totals, like ``svyratio(~num, ~den, subset(design, domain),
    na.rm = TRUE, deff = TRUE)``; sampling or calibrated weights.

    Linearized variable ``(num_i - R den_i) / sum(w den)`` (Wolter 2007, p. 233). The design
    effect is R's: that of ``svytotal`` of the linearized variable.
    """
    num_values = _as_column(numerator, design, "numerator")
    den_values = _as_column(denominator, design, "denominator")
    in_domain = _domain_mask(design, domain, num_values, den_values)
    weights = np.where(in_domain, design.weights, 0.0)
    n_obs = int(in_domain.sum())
    num_domain = np.where(in_domain, num_values, 0.0)
    den_domain = np.where(in_domain, den_values, 0.0)
    den_total = float((weights * den_domain).sum())
    if n_obs == 0 or den_total == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, np.nan, n_obs, np.nan, "no_data")
    ratio = float((weights * num_domain).sum() / den_total)
    residual = (num_domain - ratio * den_domain) / den_total
    variance = _row_variance(design, weights * residual, in_domain)
    weight_sum = float(weights.sum())
    s2 = float((weights * residual * residual).sum() / weight_sum) * n_obs / (n_obs - 1) if n_obs > 1 else np.nan
    deff = _design_effect(variance, s2, n_obs, weight_sum, kind="total")
    return _finish(ratio, variance, design.degf(in_domain), deff, n_obs, ci, level)


def svy_ciprop(
    y: npt.ArrayLike,
    design: Design,
    domain: npt.ArrayLike | None = None,
    *,
    method: str = "logit",
    level: float = 0.95,
) -> Estimate:
    """Proportion of a 0/1 ``y`` with a logit (default, = ``svyciprop(method = "logit")``) or
    Wilson interval; otherwise as :func:`svy_mean` (sampling or calibrated weights)."""
    if method not in ("logit", "wilson"):
        raise ValueError("method must be 'logit' or 'wilson'")
    return svy_mean(y, design, domain, ci=method, level=level)
