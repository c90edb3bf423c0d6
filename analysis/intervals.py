"""Confidence intervals for design-based estimates: Wald, logit and Wilson, with Student's t.

Every interval takes the estimate, its linearization standard error and the design degrees of
freedom (R's ``degf()`` of the (domain) design); the quantile is Student's t with those df, and
an interval with ``df <= 0`` is undefined (NaN ends).

=====================  ============================================================
this module            R ``survey`` 4.x
=====================  ============================================================
``ci_wald``            ``confint(svymean(...), df = degf(design))``
``ci_logit``           ``svyciprop(~y, design, method = "logit")`` (closed form)
``ci_wilson``          none (Korn & Graubard 1998 effective n, Kott & Carr 1997 df)
=====================  ============================================================

References
----------
Korn, E. L., Graubard, B. I. (1998). Confidence intervals for proportions with small expected
numbers of positive counts estimated from survey data. *Survey Methodology* 24, 193-201.
Kott, P. S., Carr, D. A. (1997). Developing an estimation strategy for a pesticide data
program. *Journal of Official Statistics* 13, 367-383.
Lumley, T. (2010). *Complex Surveys*, Wiley, pp. 28-31 (proportions and their intervals).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = ["CI_METHODS", "IntervalFunction", "ci_logit", "ci_wald", "ci_wilson", "t_quantile"]

FloatArray = npt.NDArray[np.float64]

IntervalFunction = Callable[[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike, float], tuple[FloatArray, FloatArray]]
"""``(estimate, se, df, level) -> (lower, upper)``."""


def t_quantile(df: npt.ArrayLike, level: float) -> FloatArray:
    """Two-sided Student's t quantile ``t_{df, (1 + level) / 2}``; NaN where ``df <= 0``."""
    degrees = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        quantile = special.stdtrit(np.where(degrees > 0, degrees, 1.0), 0.5 + level / 2.0)
    return np.where(degrees > 0, quantile, np.nan)


def ci_wald(
    value: npt.ArrayLike, se: npt.ArrayLike, df: npt.ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Symmetric interval ``value +/- t_df * se`` (R ``confint(svystat, df = degf(design))``)."""
    estimate = np.asarray(value, dtype=np.float64)
    half_width = t_quantile(df, level) * np.asarray(se, dtype=np.float64)
    return estimate - half_width, estimate + half_width


def ci_logit(
    p: npt.ArrayLike, se: npt.ArrayLike, df: npt.ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Logit interval ``expit(logit p +/- t_df * se / (p (1 - p)))``.

    This is what ``svyciprop(method = "logit")`` returns (its Wald interval for the intercept of
    a quasi-binomial ``svyglm``; the intercept's SE is ``se / (p (1 - p))``). For ``p`` in
    {0, 1} or ``se = 0`` the interval collapses to ``[p, p]``.
    """
    proportion = np.asarray(p, dtype=np.float64)
    std_error = np.asarray(se, dtype=np.float64)
    quantile = t_quantile(df, level)
    interior = (proportion > 0) & (proportion < 1) & (std_error > 0)
    p_inner = np.where(interior, proportion, 0.5)
    half_width = quantile * np.where(interior, std_error, 0.0) / (p_inner * (1.0 - p_inner))
    logit = np.log(p_inner / (1.0 - p_inner))
    lower = np.where(interior, 1.0 / (1.0 + np.exp(-(logit - half_width))), proportion)
    upper = np.where(interior, 1.0 / (1.0 + np.exp(-(logit + half_width))), proportion)
    undefined = np.isnan(quantile) | np.isnan(proportion)
    return np.where(undefined, np.nan, lower), np.where(undefined, np.nan, upper)


def ci_wilson(
    p: npt.ArrayLike, se: npt.ArrayLike, df: npt.ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval with the effective sample size ``n* = p (1 - p) / se^2``.

    The effective sample size is Korn & Graubard's (1998); the quantile is Student's t with the
    design df (Kott & Carr, 1997), so that the interval tends to the textbook Wilson interval
    with ``n*`` respondents as df grows. Not available in R ``survey`` (no reference there).
    """
    proportion = np.asarray(p, dtype=np.float64)
    std_error = np.asarray(se, dtype=np.float64)
    quantile = t_quantile(df, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_effective = np.where(std_error > 0, proportion * (1 - proportion) / (std_error * std_error), np.inf)
        usable = np.isfinite(n_effective) & (n_effective > 0)
        z2_over_n = np.where(usable, quantile * quantile / n_effective, 0.0)
        centre = (proportion + z2_over_n / 2.0) / (1.0 + z2_over_n)
        half_width = (
            quantile
            * np.sqrt(
                np.where(usable, proportion * (1 - proportion) / n_effective, 0.0)
                + z2_over_n * z2_over_n / (4.0 * quantile * quantile)
            )
            / (1.0 + z2_over_n)
        )
    lower = np.where(std_error > 0, centre - half_width, proportion)
    upper = np.where(std_error > 0, centre + half_width, proportion)
    undefined = np.isnan(quantile) | np.isnan(proportion)
    return np.where(undefined, np.nan, lower), np.where(undefined, np.nan, upper)


CI_METHODS: dict[str, IntervalFunction] = {"logit": ci_logit, "wilson": ci_wilson, "wald": ci_wald}
"""Interval functions by the name the estimators and the CLI accept (``ci=...``)."""
