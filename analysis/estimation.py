"""Design-based estimates: means, totals, ratios, proportions and SIPAS item rates / indices.

Every estimator uses Taylor linearization with the full design (strata, PSUs, fpc, lonely-PSU
rule, calibration) through :mod:`analysis.variance`, and reproduces R ``survey``:

=========================  ===================================================================
this module                R ``survey`` 4.x
=========================  ===================================================================
``svy_mean``               ``svymean(~y, subset(design, domain), na.rm = TRUE, deff = TRUE)``
``svy_total``              ``svytotal(~y, subset(design, domain), na.rm = TRUE, deff = TRUE)``
``svy_ratio``              ``svyratio(~num, ~den, subset(design, domain), na.rm = TRUE)``
``svy_ciprop``             ``svyciprop(~y, subset(...), method = "logit")`` (closed form)
``estimate_rates``         ``svyby(~I(x >= 4), ~dom, subset(design, !is.na(x)), svyciprop)``
                           per item; indices: ``svycontrast`` of the item ratios
``compare_domains``        ``svycontrast(svyby(..., covmat = TRUE), c(1, -1))``
=========================  ===================================================================

Weights are sampling (inverse-probability) or calibrated weights, never frequency weights.

References
----------
Lumley, T. (2010). *Complex Surveys*, Wiley, pp. 17-58 (designs), 135-146 (calibration).
Korn, E. L., Graubard, B. I. (1998). Confidence intervals for proportions with small expected
numbers of positive counts estimated from survey data. *Survey Methodology* 24, 193-201.
Kish, L. (1965). *Survey Sampling*, Wiley, pp. 257-259 (design effect).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analysis.design import Design, DesignError, factorize_labels
from analysis.variance import domain_degf, domain_psu_totals, stratified_variance

__all__ = [
    "OUTPUT_COLUMNS",
    "Composite",
    "Difference",
    "Estimate",
    "ci_logit",
    "ci_wald",
    "ci_wilson",
    "compare_domains",
    "estimate_rates",
    "estimate_shares",
    "svy_ciprop",
    "svy_mean",
    "svy_ratio",
    "svy_total",
]

OUTPUT_COLUMNS = [
    "domain_var",
    "domain",
    "indicator",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "n_eff",
    "deff",
    "flag",
]

MIN_N = 30
"""Cells with fewer contributing respondents are flagged ``n<30``."""
WIDE_CI = 0.30
"""Intervals at least this wide (30 percentage points) are flagged ``wide_ci``."""


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


# --------------------------------------------------------------------------- intervals


def _tq(df: npt.ArrayLike, level: float) -> np.ndarray:
    d = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        q = stats.t.ppf(0.5 + level / 2.0, np.where(d > 0, d, 1.0))
    return np.where(d > 0, q, np.nan)


def ci_wald(
    value: npt.ArrayLike, se: npt.ArrayLike, df: npt.ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric interval ``value +/- t_df * se`` (R ``confint(svystat, df = degf(design))``)."""
    v = np.asarray(value, dtype=np.float64)
    half = _tq(df, level) * np.asarray(se, dtype=np.float64)
    return v - half, v + half


def ci_logit(
    p: npt.ArrayLike, se: npt.ArrayLike, df: npt.ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Logit interval ``expit(logit p +/- t_df * se / (p (1 - p)))``.

    This is what ``svyciprop(method = "logit")`` returns (its Wald interval for the intercept of
    a quasi-binomial ``svyglm``; the intercept's SE is ``se / (p (1 - p))``). For ``p`` in
    {0, 1} or ``se = 0`` the interval collapses to ``[p, p]``.
    """
    p = np.asarray(p, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    q = _tq(df, level)
    inner = (p > 0) & (p < 1) & (se > 0)
    ps = np.where(inner, p, 0.5)
    half = q * np.where(inner, se, 0.0) / (ps * (1.0 - ps))
    lg = np.log(ps / (1.0 - ps))
    lo = np.where(inner, 1.0 / (1.0 + np.exp(-(lg - half))), p)
    hi = np.where(inner, 1.0 / (1.0 + np.exp(-(lg + half))), p)
    nan = np.isnan(q) | np.isnan(p)
    return np.where(nan, np.nan, lo), np.where(nan, np.nan, hi)


def ci_wilson(
    p: npt.ArrayLike, se: npt.ArrayLike, df: npt.ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval with the effective sample size ``n* = p (1 - p) / se^2``.

    The effective sample size is Korn & Graubard's (1998); the quantile is Student's t with the
    design df (Kott & Carr, 1997), so that the interval tends to the textbook Wilson interval
    with ``n*`` respondents as df grows. Not available in R ``survey`` (no reference there).
    """
    p = np.asarray(p, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    q = _tq(df, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_star = np.where(se > 0, p * (1 - p) / (se * se), np.inf)
        z2n = np.where(np.isfinite(n_star) & (n_star > 0), q * q / n_star, 0.0)
        centre = (p + z2n / 2.0) / (1.0 + z2n)
        half = (
            q
            * np.sqrt(
                np.where(np.isfinite(n_star) & (n_star > 0), p * (1 - p) / n_star, 0.0) + z2n * z2n / (4.0 * q * q)
            )
            / (1.0 + z2n)
        )
    lo = np.where(se > 0, centre - half, p)
    hi = np.where(se > 0, centre + half, p)
    nan = np.isnan(q) | np.isnan(p)
    return np.where(nan, np.nan, lo), np.where(nan, np.nan, hi)


_CI = {"logit": ci_logit, "wilson": ci_wilson, "wald": ci_wald}


def _flags(
    n: np.ndarray,
    df: np.ndarray,
    se: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    partial: np.ndarray | None = None,
) -> list[str]:
    out = []
    for i in range(n.shape[0]):
        f = []
        if n[i] == 0:
            f.append("no_data")
        if df[i] <= 0:
            f.append("df<=0")
        if 0 < n[i] < MIN_N:
            f.append("n<30")
        if np.isfinite(lo[i]) and hi[i] - lo[i] >= WIDE_CI:
            f.append("wide_ci")
        if n[i] > 0 and se[i] == 0:
            f.append("se=0")
        if partial is not None and partial[i]:
            f.append("partial")
        out.append(";".join(f))
    return out


# --------------------------------------------------------------------------- row-level


def _g_inverse(design: Design) -> np.ndarray | None:
    """``d / c`` per row (1/g): pre-calibration over calibrated weights; None if uncalibrated."""
    cal = design.calibration
    if cal is None:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cal.cal_weights > 0, cal.base_weights / cal.cal_weights, 0.0)


def _row_variance(design: Design, x: np.ndarray, mask: np.ndarray) -> float:
    """Full-design variance of the linearized row values ``x`` (zero outside ``mask``)."""
    dom = np.where(mask, 0, -1)
    ginv = _g_inverse(design)
    xd = None if ginv is None else x * ginv
    cal = design.calibration
    codes = None if cal is None else cal.codes
    tot = domain_psu_totals(design, x, design.psu, dom, 1, xd, codes)
    return float(stratified_variance(design, tot)[0, 0])


def _mask(design: Design, domain: npt.ArrayLike | None, *cols: np.ndarray) -> np.ndarray:
    m = np.ones(design.n, dtype=bool) if domain is None else np.asarray(domain, dtype=bool)
    if m.shape != (design.n,):
        raise DesignError(f"domain mask has shape {m.shape}, expected ({design.n},)")
    for c in cols:
        m = m & np.isfinite(c)
    return m & (design.weights != 0)


def _vec(y: npt.ArrayLike, design: Design, what: str) -> np.ndarray:
    a = np.asarray(y, dtype=np.float64)
    if a.shape != (design.n,):
        raise DesignError(f"{what} has shape {a.shape}, expected ({design.n},)")
    return a


def _deff_from_s2(v: float, s2: float, nobs: int, psum: float, kind: str = "mean") -> float:
    """R's ``deff = TRUE`` (without replacement); falls back to ``"replace"`` when the weights
    sum to no more than ``nobs`` (R would return NA or Inf there)."""
    if nobs < 2:
        return float("nan")
    fpc = (psum - nobs) / (psum * nobs) if psum > nobs else 1.0 / nobs
    scale = psum * psum if kind == "total" else 1.0
    vsrs = s2 * scale * fpc
    return float(v / vsrs) if vsrs > 0 else float("nan")


def _finish(value: float, v: float, df: int, deff: float, n: int, ci: str, level: float) -> Estimate:
    se = float(np.sqrt(v))
    lo, hi = _CI[ci](value, se, df, level)
    lo_f, hi_f = float(lo), float(hi)
    flag = _flags(np.array([n]), np.array([df]), np.array([se]), np.array([lo_f]), np.array([hi_f]))[0]
    if ci == "wald" and "wide_ci" in flag:  # width threshold is for proportions only
        flag = ";".join(f for f in flag.split(";") if f != "wide_ci")
    n_eff = float(n / deff) if np.isfinite(deff) and deff > 0 else float("nan")
    return Estimate(float(value), se, lo_f, hi_f, int(df), float(deff), int(n), n_eff, flag)


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
    """
    yv = _vec(y, design, "y")
    m = _mask(design, domain, yv)
    w = np.where(m, design.weights, 0.0)
    psum = float(w.sum())
    nobs = int(m.sum())
    if nobs == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, np.nan, 0, np.nan, "no_data")
    ym = np.where(m, yv, 0.0)
    mean = float((w * ym).sum() / psum)
    x = w * (ym - mean) / psum
    v = _row_variance(design, x, m)
    s2 = float((w * (ym - mean) ** 2).sum() / psum) * nobs / (nobs - 1) if nobs > 1 else np.nan
    deff = _deff_from_s2(v, s2, nobs, psum)
    return _finish(mean, v, design.degf(m), deff, nobs, ci, level)


def svy_total(
    y: npt.ArrayLike,
    design: Design,
    domain: npt.ArrayLike | None = None,
    *,
    level: float = 0.95,
) -> Estimate:
    """Weighted total, like ``svytotal(~y, subset(design, domain), na.rm = TRUE, deff = TRUE)``."""
    yv = _vec(y, design, "y")
    m = _mask(design, domain, yv)
    w = np.where(m, design.weights, 0.0)
    nobs = int(m.sum())
    if nobs == 0:
        return Estimate(0.0, 0.0, np.nan, np.nan, 0, np.nan, 0, np.nan, "no_data")
    ym = np.where(m, yv, 0.0)
    total = float((w * ym).sum())
    v = _row_variance(design, w * ym, m)
    psum = float(w.sum())
    mean = total / psum
    s2 = float((w * (ym - mean) ** 2).sum() / psum) * nobs / (nobs - 1) if nobs > 1 else np.nan
    deff = _deff_from_s2(v, s2, nobs, psum, kind="total")
    return _finish(total, v, design.degf(m), deff, nobs, "wald", level)


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
    na.rm = TRUE, deff = TRUE)``.

    Linearized variable ``(num_i - R den_i) / sum(w den)`` (Wolter 2007, p. 233). The design
    effect is R's: that of ``svytotal`` of the linearized variable.
    """
    a = _vec(numerator, design, "numerator")
    b = _vec(denominator, design, "denominator")
    m = _mask(design, domain, a, b)
    w = np.where(m, design.weights, 0.0)
    nobs = int(m.sum())
    am, bm = np.where(m, a, 0.0), np.where(m, b, 0.0)
    den = float((w * bm).sum())
    if nobs == 0 or den == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, np.nan, nobs, np.nan, "no_data")
    ratio = float((w * am).sum() / den)
    r = (am - ratio * bm) / den
    v = _row_variance(design, w * r, m)
    psum = float(w.sum())
    s2 = float((w * r * r).sum() / psum) * nobs / (nobs - 1) if nobs > 1 else np.nan
    deff = _deff_from_s2(v, s2, nobs, psum, kind="total")
    return _finish(ratio, v, design.degf(m), deff, nobs, ci, level)


def svy_ciprop(
    y: npt.ArrayLike,
    design: Design,
    domain: npt.ArrayLike | None = None,
    *,
    method: str = "logit",
    level: float = 0.95,
) -> Estimate:
    """Proportion with a logit (default, = ``svyciprop(method = "logit")``) or Wilson interval."""
    if method not in ("logit", "wilson"):
        raise ValueError("method must be 'logit' or 'wilson'")
    return svy_mean(y, design, domain, ci=method, level=level)


# --------------------------------------------------------------------------- SIPAS rates


@dataclass(frozen=True)
class Composite:
    """An index that averages item rates or other composites (equal weight per part).

    ``parts`` name items or composites defined earlier in the list. With no valid answer for
    some part in a domain, the index averages the parts that have data and is flagged
    ``partial``.
    """

    name: str
    parts: tuple[str, ...]


def _combine_codes(keys: Sequence[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Cell id of every row from several integer keys; returns (cell_id, first row per cell)."""
    key = np.zeros(keys[0][0].shape[0], dtype=np.int64)
    card = 1
    for codes, k in keys:
        if card * k > 2**62:
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64).ravel()
            card = int(key.max()) + 1
        key = key * k + codes
        card *= k
    _, first, cell = np.unique(key, return_index=True, return_inverse=True)
    return cell.astype(np.int64).ravel(), first


@dataclass(frozen=True, eq=False)
class _DomainPass:
    """Internal: everything computed for one domain variable."""

    labels: np.ndarray  # (D,)
    cell_dom: np.ndarray  # (m,)
    est: np.ndarray  # (D, K) proportions
    xw: np.ndarray  # (m, K) linearized cell totals
    xd: np.ndarray | None
    contrib: np.ndarray  # (m, K) contributing respondents per cell
    n: np.ndarray  # (D, K)
    partial: np.ndarray  # (D, K) bool
    var: np.ndarray  # (D, K)
    df: np.ndarray  # (D, K)
    deff: np.ndarray  # (D, K)


class _RateEngine:
    """Cell-level sufficient statistics shared by all domain variables."""

    def __init__(
        self,
        valid: np.ndarray,
        success: np.ndarray,
        names: Sequence[str],
        composites: Sequence[Composite],
        design: Design,
        domains: Mapping[str, pd.Series | np.ndarray],
    ) -> None:
        n, j = valid.shape
        if success.shape != valid.shape or design.n != n:
            raise DesignError("answers and design have different numbers of rows")
        if np.any(success & ~valid):
            raise DesignError("a success code lies outside the valid codes")
        self.design = design
        self.names = list(names)
        self.j = j
        self.composites = list(composites)
        # composite coefficient templates: (J, K_comp) in terms of parts
        idx = {nm: i for i, nm in enumerate(self.names)}
        self.comp_parts: list[list[int]] = []
        for c in self.composites:
            parts = []
            for p in c.parts:
                if p not in idx:
                    raise DesignError(f"index {c.name} refers to unknown part {p}")
                parts.append(idx[p])
            idx[c.name] = len(idx)
            self.comp_parts.append(parts)
        self.all_names = [*self.names, *(c.name for c in self.composites)]

        # domain codes per row
        self.dom_labels: dict[str, np.ndarray] = {}
        dom_codes: dict[str, np.ndarray] = {}
        for name, lab in domains.items():
            arr = np.asarray(lab, dtype=object)
            if arr.shape != (n,):
                raise DesignError(f"domain variable {name} has {arr.shape[0]} rows, expected {n}")
            codes, labels = factorize_labels(arr)
            self.dom_labels[name] = labels
            dom_codes[name] = codes

        w = design.weights
        ginv = _g_inverse(design)
        cal = design.calibration
        keys: list[tuple[np.ndarray, int]] = [(design.psu, design.n_psus)]
        if cal is not None:
            keys += [(c, nl) for c, nl in zip(cal.codes, cal.n_levels, strict=True)]
        for name, codes in dom_codes.items():
            keys.append((codes + 1, len(self.dom_labels[name]) + 1))
        cell, first = _combine_codes(keys)
        m = first.shape[0]
        self.cell = cell
        self.m = m
        self.cell_psu = design.psu[first]
        self.cell_cal = None if cal is None else tuple(c[first] for c in cal.codes)
        self.cell_dom = {name: codes[first] for name, codes in dom_codes.items()}

        nz = (w != 0).astype(np.float64)
        state_w = np.empty((m, j, 3))
        state_n = np.empty((m, j, 3))
        state_d = np.empty((m, j, 3)) if ginv is not None else None
        wd = None if ginv is None else w * ginv
        base = cell * 3
        for jj in range(j):
            s = base + valid[:, jj].astype(np.int64) + success[:, jj].astype(np.int64)
            state_w[:, jj, :] = np.bincount(s, weights=w, minlength=3 * m).reshape(m, 3)
            state_n[:, jj, :] = np.bincount(s, weights=nz, minlength=3 * m).reshape(m, 3)
            if state_d is not None:
                state_d[:, jj, :] = np.bincount(s, weights=wd, minlength=3 * m).reshape(m, 3)
        self.w_valid = state_w[:, :, 1] + state_w[:, :, 2]
        self.w_succ = state_w[:, :, 2]
        self.n_valid = state_n[:, :, 1] + state_n[:, :, 2]
        self.d_valid = None if state_d is None else state_d[:, :, 1] + state_d[:, :, 2]
        self.d_succ = None if state_d is None else state_d[:, :, 2]
        self.cell_w = np.bincount(cell, weights=w, minlength=m)
        self.cell_n = np.bincount(cell, weights=nz, minlength=m)
        self.valid = valid
        self.success = success
        self._gram: np.ndarray | None = None

    # ------------------------------------------------------------------
    def _coefficients(self, avail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Item coefficients (D, J, K_total) and partial flags (D, K_total)."""
        d, j = avail.shape
        k_all = j + len(self.composites)
        coef = np.zeros((d, j, k_all))
        coef[:, np.arange(j), np.arange(j)] = 1.0
        has = np.zeros((d, k_all), dtype=bool)
        has[:, :j] = avail
        partial = np.zeros((d, k_all), dtype=bool)
        for ci, parts in enumerate(self.comp_parts):
            k = j + ci
            ph = has[:, parts]  # (D, p)
            cnt = ph.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                wt = np.where(ph, 1.0 / np.maximum(cnt, 1)[:, None], 0.0)
            coef[:, :, k] = np.einsum("dp,djp->dj", wt, coef[:, :, parts])
            has[:, k] = cnt > 0
            partial[:, k] = (cnt > 0) & (cnt < len(parts)) | partial[:, parts].any(axis=1)
        return coef, partial

    def run(self, name: str | None) -> _DomainPass:
        """Estimates, variances, df and deff for one domain variable (None = overall)."""
        design = self.design
        if name is None:
            cell_dom = np.zeros(self.m, dtype=np.int64)
            labels = np.array(["all"], dtype=object)
        else:
            cell_dom = self.cell_dom[name]
            labels = self.dom_labels[name]
        d_n = labels.shape[0]
        keep = cell_dom >= 0
        cd = np.where(keep, cell_dom, 0)

        def agg(a: np.ndarray) -> np.ndarray:
            out = np.empty((d_n, a.shape[1]))
            for jj in range(a.shape[1]):
                out[:, jj] = np.bincount(cd[keep], weights=a[keep, jj], minlength=d_n)
            return out

        den = agg(self.w_valid)
        num = agg(self.w_succ)
        nval = agg(self.n_valid)
        avail = den > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(avail, num / np.where(avail, den, 1.0), np.nan)
            inv = np.where(avail, 1.0 / np.where(avail, den, 1.0), 0.0)
        p0 = np.nan_to_num(p)
        coef, partial = self._coefficients(avail)
        j = self.j
        # linearized cell totals for items, then any index through the coefficients
        xi = (self.w_succ - p0[cd] * self.w_valid) * inv[cd]
        xi[~keep] = 0.0
        xw = _apply_coef(xi, coef, cd)
        xd = None
        if self.d_valid is not None:
            xdi = (self.d_succ - p0[cd] * self.d_valid) * inv[cd]
            xdi[~keep] = 0.0
            xd = _apply_coef(xdi, coef, cd)
        est = np.einsum("dj,djk->dk", p0, coef)
        has = np.concatenate([avail, coef[:, :, j:].any(axis=1)], axis=1)
        est = np.where(has, est, np.nan)
        tot = domain_psu_totals(design, xw, self.cell_psu, cell_dom, d_n, xd, self.cell_cal)
        var = stratified_variance(design, tot)
        k_comp = len(self.composites)
        contrib = np.concatenate([self.n_valid, np.repeat(self.cell_n[:, None], k_comp, axis=1)], axis=1)
        df = domain_degf(design, contrib, self.cell_psu, cell_dom, d_n)
        n_dom = np.bincount(cd[keep], weights=self.cell_n[keep], minlength=d_n)
        w_dom = np.bincount(cd[keep], weights=self.cell_w[keep], minlength=d_n)
        n = np.concatenate([nval, np.repeat(n_dom[:, None], k_comp, axis=1)], axis=1)

        # design effects: item = R svymean(deff = TRUE) on the valid domain subset
        deff = np.full((d_n, j + k_comp), np.nan)
        s2_item = p0 * (1 - p0)
        deff[:, :j] = self._deff(var[:, :j], s2_item, nval, den)
        if k_comp:
            sq = self._composite_sumsq(name, cell_dom, p0, inv, coef[:, :, j:])
            s2 = w_dom[:, None] * sq  # sum w e^2 / W with e = q * W
            deff[:, j:] = self._deff(var[:, j:], s2, n[:, j:], np.repeat(w_dom[:, None], k_comp, 1))
        return _DomainPass(labels, cell_dom, est, xw, xd, contrib, n, partial, var, df, deff)

    @staticmethod
    def _deff(v: np.ndarray, s2_pop: np.ndarray, n: np.ndarray, psum: np.ndarray) -> np.ndarray:
        """v / [S^2 (1/n - 1/N)] with S^2 = n/(n-1) * weighted population variance."""
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = s2_pop * n / (n - 1)
            fpc = np.where(psum > n, 1.0 / n - 1.0 / psum, 1.0 / n)
            vsrs = s2 * fpc
            out = np.where((n >= 2) & (vsrs > 0), v / vsrs, np.nan)
        return out

    def _cell_gram(self) -> np.ndarray:
        """Per fine cell, ``sum w z z'`` with ``z = [success, valid]`` (shape ``(m, 4 J^2)``)."""
        if self._gram is None:
            order = np.argsort(self.cell, kind="stable")
            bounds = np.concatenate(([0], np.cumsum(np.bincount(self.cell, minlength=self.m))))
            z = np.concatenate([self.success, self.valid], axis=1)[order]
            w = self.design.weights[order]
            gram = np.empty((self.m, z.shape[1], z.shape[1]))
            for c in range(self.m):
                blk = z[bounds[c] : bounds[c + 1]].astype(np.float64)
                gram[c] = blk.T @ (blk * w[bounds[c] : bounds[c + 1], None])
            self._gram = gram.reshape(self.m, -1)
        return self._gram

    def _composite_sumsq(
        self,
        name: str | None,
        cell_dom: np.ndarray,
        p0: np.ndarray,
        inv: np.ndarray,
        coef: np.ndarray,
    ) -> np.ndarray:
        """sum over domain rows of w_i q_i^2, q_i = sum_j coef_j (y_ij - p_j a_ij) / W_j."""
        d_n, j, k = coef.shape
        alpha = inv  # (D, J)
        beta = p0 * inv
        if self.m * 20 <= self.cell.shape[0]:
            # few cells: sum w z z' per cell once (z = [y, a]); then quadratic forms per domain
            gram = self._cell_gram()
            keep = cell_dom >= 0
            g_dom = np.zeros((d_n, 4 * j * j))
            np.add.at(g_dom, cell_dom[keep], gram[keep])
            g_dom = g_dom.reshape(d_n, 2 * j, 2 * j)
            v = np.concatenate([coef * alpha[:, :, None], -coef * beta[:, :, None]], axis=1)
            return np.einsum("dpk,dpq,dqk->dk", v, g_dom, v)
        w = self.design.weights
        dom = cell_dom[self.cell]
        if d_n == 1:
            order = np.flatnonzero(dom >= 0)
            counts = np.array([order.size])
        else:
            order = np.argsort(dom, kind="stable")
            order = order[np.searchsorted(dom[order], 0) :]
            counts = np.bincount(dom[order], minlength=d_n)
        ys = self.success[order]
        av = self.valid[order]
        ws = w[order]
        out = np.zeros((d_n, k))
        start = 0
        for d in range(d_n):
            stop = start + int(counts[d])
            if stop > start:
                q = (ys[start:stop] * alpha[d] - av[start:stop] * beta[d]) @ coef[d]
                out[d] = ws[start:stop] @ (q * q)
            start = stop
        return out


def _apply_coef(x: np.ndarray, coef: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """Row-wise ``x_c @ coef[dom_c]`` without materialising ``coef[dom]`` when avoidable."""
    if coef.shape[0] == 1 or bool(np.all(coef == coef[:1])):
        return x @ coef[0]
    out = np.empty((x.shape[0], coef.shape[2]))
    for k in range(coef.shape[2]):
        out[:, k] = np.einsum("cj,cj->c", x, coef[dom, :, k])
    return out


def _table(
    passes: list[tuple[str, _DomainPass]],
    names: list[str],
    ci: str,
    level: float,
    percent: bool,
) -> pd.DataFrame:
    frames = []
    for dvar, ps in passes:
        d_n, k = ps.est.shape
        est = ps.est.ravel()
        se = np.sqrt(ps.var.ravel())
        df = ps.df.ravel()
        lo, hi = _CI[ci](est, se, df, level)
        n = ps.n.ravel().astype(np.int64)
        flags = _flags(n, df, se, lo, hi, ps.partial.ravel())
        deff = ps.deff.ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = np.where(deff > 0, n / deff, np.nan)
        scale = 100.0 if percent else 1.0
        est_s = np.where(n > 0, est * scale, np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "domain_var": dvar,
                    "domain": np.repeat(ps.labels.astype(str), k),
                    "indicator": np.tile(np.array(names, dtype=object), d_n),
                    "estimate": est_s,
                    "se": np.where(n > 0, se * scale, np.nan),
                    "ci_low": lo * scale,
                    "ci_high": hi * scale,
                    "df": df,
                    "n": n,
                    "n_eff": n_eff,
                    "deff": deff,
                    "flag": flags,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _prepare(
    answers: pd.DataFrame | np.ndarray,
    valid_codes: Sequence[float],
    success_codes: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(answers, dtype=np.float64)
    valid = np.zeros(x.shape, dtype=bool)
    for c in valid_codes:
        valid |= x == c
    success = np.zeros(x.shape, dtype=bool)
    for c in success_codes:
        success |= x == c
    return valid, success & valid


def estimate_rates(
    answers: pd.DataFrame,
    design: Design,
    *,
    valid_codes: Sequence[float] = (1, 2, 3, 4, 5),
    success_codes: Sequence[float] = (4, 5),
    composites: Sequence[Composite] = (),
    by: Mapping[str, npt.ArrayLike] | None = None,
    ci: str = "logit",
    level: float = 0.95,
    percent: bool = True,
    include_overall: bool = True,
) -> pd.DataFrame:
    """Item rates and indices, overall and by domain, with design-based SEs and intervals.

    Item rate ``P_j = sum w 1[x_j in success] / sum w 1[x_j in valid]`` (codes outside
    ``valid_codes``, e.g. 9 or blank, leave the denominator); an index (:class:`Composite`) is
    the mean of its parts and its linearized variable the mean of theirs.

    Parameters
    ----------
    answers : DataFrame, shape (n, J)
        One column per item (its name is the indicator), numeric codes, NaN for blank.
    design : Design
        Sampling or calibrated weights (calibration SEs when ``design.calibration`` is set).
    valid_codes, success_codes : sequence of numbers
        Codes in the denominator; codes counted as a success (satisfied).
    composites : sequence of Composite
        Indices in dependency order (e.g. elements A..E, then ``SIPAS``).
    by : mapping of name to labels, optional
        Domain variables (NaN/None label = in no domain of that variable). A domain's SE uses
        the full design; its df counts the PSUs with at least one contributing respondent
        (a valid answer in the domain for an item, domain membership for an index) minus
        their strata.
    ci : {"logit", "wilson"}
    level : float
    percent : bool
        Estimates, SEs and interval ends in percent (default) or as proportions.
    include_overall : bool
        Add the overall rows (``domain_var = domain = "all"``).

    Returns
    -------
    DataFrame
        Columns :data:`OUTPUT_COLUMNS`; one row per domain and indicator.
    """
    if ci not in ("logit", "wilson"):
        raise ValueError("ci must be 'logit' or 'wilson'")
    names = [str(c) for c in answers.columns]
    valid, success = _prepare(answers, valid_codes, success_codes)
    eng = _RateEngine(valid, success, names, composites, design, dict(by or {}))
    passes: list[tuple[str, _DomainPass]] = []
    if include_overall:
        passes.append(("all", eng.run(None)))
    for dvar in by or {}:
        passes.append((dvar, eng.run(dvar)))
    return _table(passes, eng.all_names, ci, level, percent)


def estimate_shares(
    answers: pd.DataFrame,
    design: Design,
    *,
    valid_codes: Sequence[float],
    report: Sequence[tuple[str, Sequence[float]]],
    by: Mapping[str, npt.ArrayLike] | None = None,
    ci: str = "logit",
    level: float = 0.95,
    percent: bool = True,
) -> pd.DataFrame:
    """Expectation / perception shares: for every question and every reported code set, the
    weighted share of answers in the set among valid answers (method section 2).

    ``report`` is e.g. ``[("rat_mong_muon", [4]), ("mong_muon_tro_len", [3, 4])]`` or, for a
    full distribution, one entry per code (see :class:`analysis.questionnaire.ShareSpec`). The
    indicator is ``"<question>:<code>"``; everything else is as :func:`estimate_rates`.
    """
    frames = []
    for code, codes in report:
        tab = estimate_rates(
            answers,
            design,
            valid_codes=valid_codes,
            success_codes=codes,
            by=by,
            ci=ci,
            level=level,
            percent=percent,
        )
        tab["indicator"] = tab["indicator"] + f":{code}"
        frames.append(tab)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["domain_var", "domain"], kind="stable").reset_index(drop=True)


def compare_domains(
    answers: pd.DataFrame,
    design: Design,
    domain: npt.ArrayLike,
    a: str,
    b: str,
    *,
    valid_codes: Sequence[float] = (1, 2, 3, 4, 5),
    success_codes: Sequence[float] = (4, 5),
    composites: Sequence[Composite] = (),
    level: float = 0.95,
    percent: bool = True,
) -> list[Difference]:
    """Differences ``a - b`` between two domains (or two periods) for every indicator.

    The SE of the difference uses the covariance of the two domain estimates under the full
    design (linearized variable ``u_a - u_b``), as ``svycontrast(svyby(..., covmat = TRUE),
    c(1, -1))``. ``p`` is two-sided from t with ``df`` PSUs minus strata among PSUs that
    contribute to either estimate.
    """
    codes, labs = factorize_labels(domain)
    labels = np.where(codes >= 0, labs[np.maximum(codes, 0)], None)
    for lab in (a, b):
        if not (labels == lab).any():
            raise DesignError(f"domain {lab} has no respondents")
    pair = np.where((labels == a) | (labels == b), labels, None)
    names = [str(c) for c in answers.columns]
    valid, success = _prepare(answers, valid_codes, success_codes)
    eng = _RateEngine(valid, success, names, composites, design, {"pair": pair})
    ps = eng.run("pair")
    ia = int(np.flatnonzero(ps.labels == a)[0])
    ib = int(np.flatnonzero(ps.labels == b)[0])
    sign = np.where(ps.cell_dom == ia, 1.0, np.where(ps.cell_dom == ib, -1.0, 0.0))
    one = np.where(sign != 0, 0, -1)
    xw = ps.xw * sign[:, None]
    xd = None if ps.xd is None else ps.xd * sign[:, None]
    tot = domain_psu_totals(design, xw, eng.cell_psu, one, 1, xd, eng.cell_cal)
    var = stratified_variance(design, tot)[0]
    df = domain_degf(design, ps.contrib, eng.cell_psu, one, 1)[0]
    scale = 100.0 if percent else 1.0
    out = []
    for k, nm in enumerate(eng.all_names):
        diff = ps.est[ia, k] - ps.est[ib, k]
        se = float(np.sqrt(var[k]))
        lo, hi = ci_wald(diff, se, df[k], level)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = diff / se if se > 0 else np.nan
        pv = float(2 * stats.t.sf(abs(t), df[k])) if df[k] > 0 and np.isfinite(t) else np.nan
        out.append(
            Difference(
                nm,
                a,
                b,
                float(ps.est[ia, k] * scale),
                float(ps.est[ib, k] * scale),
                float(diff * scale),
                se * scale,
                float(lo) * scale,
                float(hi) * scale,
                int(df[k]),
                float(t),
                pv,
            )
        )
    return out
