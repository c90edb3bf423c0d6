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

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = ["CI_METHODS", "IntervalFunction", "ci_logit", "ci_wald", "ci_wilson", "t_quantile"]

FloatArray = npt.NDArray[np.float64]

IntervalFunction = Callable[[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike, float], tuple[FloatArray, FloatArray]]
"""``(estimate, se, df, level) -> (lower, upper)``."""


def t_quantile(df: npt.ArrayLike, level: float) -> FloatArray:
    """Two-sided Student's t quantile ``t_{df, (1 + level) / 2}``; NaN where ``df <= 0``.

    Design degrees of freedom are whole numbers (PSUs minus strata): for those up to
    `EXACT_DF_LIMIT` the quantile is solved here from the t distribution's finite series
    (`_t_quantile_whole`, equal to ``scipy.special.stdtrit`` to 1e-10 —
    `tests/analysis/test_units.py`), which spares the command-line tool the import of scipy
    (0.4 s of its start-up); any other df goes to ``scipy.special.stdtrit``."""
    degrees = np.asarray(df, dtype=np.float64)
    out = np.full(degrees.shape, np.nan)
    positive = degrees > 0
    whole = positive & (degrees == np.floor(degrees)) & (degrees <= EXACT_DF_LIMIT)
    if whole.any():
        values, inverse = np.unique(degrees[whole], return_inverse=True)
        out[whole] = np.array([_t_quantile_whole(int(v), float(level)) for v in values])[inverse]
    other = positive & ~whole
    if other.any():
        from scipy import special  # fractional or very large df: never from the command line's designs

        out[other] = special.stdtrit(degrees[other], 0.5 + level / 2.0)
    return out


#: Largest df solved from the series: its terms grow with df and so does its rounding in the
#: far tail (relative error below 1e-10 up to here, at levels up to 0.9999).
EXACT_DF_LIMIT = 20_000


@lru_cache(maxsize=4096)
def _t_quantile_whole(nu: int, level: float) -> float:
    """The t with ``P(|T_nu| <= t) = level``, for a whole number ``nu >= 1``.

    ``P(|T| <= t)`` is the finite series of Abramowitz & Stegun 26.7.3–26.7.4 in
    ``theta = atan(t / sqrt(nu))``; Newton's method on ``theta`` (whose derivative is
    ``c cos^(nu-1) theta``, with c the density's constant) from the normal quantile converges
    in a few steps, and bisection keeps each step inside ``(0, pi/2)``."""
    if not 0.0 < level < 1.0:
        return math.inf if level >= 1.0 else 0.0
    if nu == 1:
        return math.tan(level * math.pi / 2.0)
    if nu == 2:
        return level * math.sqrt(2.0 / (1.0 - level * level))
    log_c = math.lgamma((nu + 1) / 2.0) - math.lgamma(nu / 2.0) - 0.5 * math.log(math.pi) + math.log(2.0)
    z = _normal_upper_quantile((1.0 - level) / 2.0)
    theta = math.atan(z / math.sqrt(nu))
    low, high = 0.0, math.pi / 2.0
    for _ in range(100):
        gap = _abs_t_probability(nu, theta) - level
        if gap > 0:
            high = theta
        else:
            low = theta
        slope = math.exp(log_c + (nu - 1) * math.log(math.cos(theta)))
        step = theta - gap / slope if slope > 0 else (low + high) / 2.0
        if not low < step < high:
            step = (low + high) / 2.0
        if abs(step - theta) <= 1e-15 * max(1.0, theta):
            theta = step
            break
        theta = step
    return math.sqrt(nu) * math.tan(theta)


def _normal_upper_quantile(q: float) -> float:
    """The z with upper tail ``q`` (0 < q <= 0.5) to about 4.5e-4 (Abramowitz & Stegun
    26.2.23): only a starting point for the exact solve (the ``statistics`` module's exact
    one costs the command 50 ms of imports)."""
    t = math.sqrt(-2.0 * math.log(q))
    return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t**3)


def _abs_t_probability(nu: int, theta: float) -> float:
    """``P(|T_nu| <= sqrt(nu) tan(theta))`` by the finite series (A&S 26.7.3–26.7.4)."""
    c2 = math.cos(theta) ** 2
    s = math.sin(theta)
    if nu % 2 == 0:  # sin θ [1 + 1/2 c² + 1·3/(2·4) c⁴ + … up to c^(nu-2)]
        k = np.arange(1, nu // 2, dtype=np.float64)
        terms = np.cumprod((2.0 * k - 1.0) / (2.0 * k) * c2)
        return float(s * (1.0 + terms.sum()))
    # odd: (2/π) [θ + sin θ cos θ (1 + 2/3 c² + 2·4/(3·5) c⁴ + … up to c^(nu-3))]
    k = np.arange(1, (nu - 1) // 2, dtype=np.float64)
    terms = np.cumprod((2.0 * k) / (2.0 * k + 1.0) * c2)
    return float(2.0 / math.pi * (theta + s * math.cos(theta) * (1.0 + terms.sum())))


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
