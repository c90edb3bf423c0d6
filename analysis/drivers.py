"""Drivers of overall satisfaction: survey-weighted logistic regression with odds ratios.

Coefficients are the pseudo-maximum-likelihood estimates of a logistic model with sampling
weights (statsmodels ``GLM(Binomial, var_weights=w)``, identical to R ``svyglm(family =
quasibinomial)``). Standard errors are design-based, as ``svyglm``: the sandwich
``A^-1 V A^-1`` where ``V`` is the stratified, clustered (PSU), fpc-corrected variance of the
score totals ``w_i x_i (y_i - mu_i)`` (with the calibration residual step on calibrated
designs), computed by :mod:`analysis.variance`. Intervals use t with ``degf(design) - p + 1``
degrees of freedom (``svyglm``'s residual df).

References
----------
Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
surveys. *Int. Stat. Review* 51, 279-292.
Lumley, T., Scott, A. (2017). Fitting regression models to survey data. *Stat. Sci.* 32,
265-278.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.design import Design, DesignError
from analysis.variance import row_psu_totals, stratified_covariance

__all__ = ["element_scores", "fit_drivers"]


def element_scores(
    answers: pd.DataFrame,
    elements: Sequence[tuple[str, Sequence[str]]],
    *,
    valid_codes: Sequence[float] = (1, 2, 3, 4, 5),
    success_codes: Sequence[float] = (4, 5),
) -> pd.DataFrame:
    """Per respondent and element, the share of satisfied answers among its valid answers
    (NaN when the respondent has no valid answer in the element)."""
    out = {}
    for name, items in elements:
        x = answers[list(items)].to_numpy(dtype=np.float64)
        valid = np.isin(x, valid_codes)
        succ = np.isin(x, success_codes) & valid
        nv = valid.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(nv > 0, succ.sum(axis=1) / np.maximum(nv, 1), np.nan)
    return pd.DataFrame(out, index=answers.index)


def fit_drivers(
    y: npt.ArrayLike,
    predictors: pd.DataFrame,
    design: Design,
    *,
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted logistic regression of a 0/1 outcome with design-based SEs and odds ratios.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, e.g. "satisfied overall".
    predictors : DataFrame
        Numeric predictors (e.g. :func:`element_scores`) and categorical background variables.
    design : Design
        Sampling or calibrated weights; rows with a missing outcome or predictor are left out
        of the fit but the variance keeps the full design (as ``svyglm`` on a design subset).
    categorical : sequence of str
        Columns to expand into treatment dummies (first sorted level, or ``reference[col]``,
        is the reference).

    Returns
    -------
    DataFrame
        ``term, coef, se, odds_ratio, or_low, or_high, t, p_value, df``.
    """
    yv = np.asarray(y, dtype=np.float64)
    if yv.shape != (design.n,) or predictors.shape[0] != design.n:
        raise DesignError("outcome, predictors and design differ in length")
    cols = []
    for c in predictors.columns:
        if c in categorical:
            s = predictors[c].astype("string")
            levels = sorted(s.dropna().unique())
            ref = (reference or {}).get(c, levels[0] if levels else None)
            miss = s.isna()
            for lev in levels:
                if lev != ref:
                    dummy = (s == lev).astype("float64").mask(miss)
                    cols.append(dummy.rename(f"{c}[{lev}]"))
        else:
            cols.append(pd.to_numeric(predictors[c], errors="coerce").rename(str(c)))
    x = pd.concat([pd.Series(1.0, index=predictors.index, name="(Intercept)"), *cols], axis=1)
    xm = x.to_numpy(dtype=np.float64)
    keep = np.isfinite(yv) & np.all(np.isfinite(xm), axis=1) & (design.weights > 0)
    if not np.all(np.isin(yv[keep], (0.0, 1.0))):
        raise DesignError("the outcome must be 0 or 1")
    w = design.weights[keep]
    model = sm.GLM(yv[keep], xm[keep], family=sm.families.Binomial(), var_weights=w)
    fit = model.fit(tol=1e-12, maxiter=100)
    beta = np.asarray(fit.params)
    mu = 1.0 / (1.0 + np.exp(-(xm[keep] @ beta)))
    a = (xm[keep] * (w * mu * (1 - mu))[:, None]).T @ xm[keep]
    a_inv = np.linalg.inv(a)
    influence = np.zeros_like(xm)
    influence[keep] = (xm[keep] * (w * (yv[keep] - mu))[:, None]) @ a_inv
    vcov = stratified_covariance(design, row_psu_totals(design, influence))
    se = np.sqrt(np.diag(vcov))
    df = design.degf(keep) - xm.shape[1] + 1
    q = stats.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
    t = beta / se
    p = 2 * stats.t.sf(np.abs(t), df) if df > 0 else np.full_like(t, np.nan)
    return pd.DataFrame(
        {
            "term": list(x.columns),
            "coef": beta,
            "se": se,
            "odds_ratio": np.exp(beta),
            "or_low": np.exp(beta - q * se),
            "or_high": np.exp(beta + q * se),
            "t": t,
            "p_value": p,
            "df": df,
        }
    )
