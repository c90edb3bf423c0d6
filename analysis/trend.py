"""Change between two independent samples (two rounds, two QR periods).

Two snapshots are independent samples: different rounds draw different dossiers, different
QR periods have different respondents. The change of an indicator ``d = b - a`` then has
variance ``V(a) + V(b)`` (no covariance term), and its degrees of freedom are those of the two
designs stacked as one design with the strata of both (PSUs minus strata: ``df_a + df_b``).
This is what R's ``survey`` gives for the contrast of the two period domains of the stacked
design (``svyby(..., covmat = TRUE)`` then ``svycontrast(c(-1, 1))``, p-value from
``pt(-|t|, degf(design))``); ``tests/analysis/r/trend.R`` holds the code and numbers.

Rows whose two estimates do not both exist (no data in one snapshot) get NaN.

References
----------
Kish, L. (1965). *Survey Sampling*, Wiley, pp. 582-583 (differences of independent samples).
Lumley, T. (2010). *Complex Surveys*, Wiley, pp. 33-35 (``svycontrast``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

__all__ = ["CHANGE_COLUMNS", "independent_change"]

CHANGE_COLUMNS = [
    "domain_var",
    "domain",
    "indicator",
    "estimate_a",
    "estimate_b",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "t",
    "p_value",
]


def _col(table: pd.DataFrame, name: str) -> npt.NDArray[np.float64]:
    return pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=np.float64)


def independent_change(a: pd.DataFrame, b: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Change from table ``a`` (earlier) to table ``b`` (later) for every domain and indicator
    found in both.

    Parameters
    ----------
    a, b : DataFrame
        Estimates tables (columns ``domain_var, domain, indicator, estimate, se, df`` as
        :data:`analysis.output.OUTPUT_COLUMNS`), each from its own independent sample.
    level : float
        Confidence level of the Wald-t interval ``d ± t_{df} · se``.

    Returns
    -------
    DataFrame
        :data:`CHANGE_COLUMNS`: ``difference = estimate_b - estimate_a``,
        ``se = sqrt(se_a² + se_b²)``, ``df = df_a + df_b``, two-sided ``p_value``.
    """
    keys = ["domain_var", "domain", "indicator"]
    merged = a[[*keys, "estimate", "se", "df"]].merge(
        b[[*keys, "estimate", "se", "df"]], on=keys, suffixes=("_a", "_b"), how="inner"
    )
    est_a, est_b = _col(merged, "estimate_a"), _col(merged, "estimate_b")
    se_a, se_b = _col(merged, "se_a"), _col(merged, "se_b")
    df = _col(merged, "df_a") + _col(merged, "df_b")
    difference = est_b - est_a
    se = np.sqrt(se_a * se_a + se_b * se_b)
    usable = np.isfinite(difference) & np.isfinite(se) & (df > 0)
    safe_df = np.where(usable, df, 1.0)
    quantile = special.stdtrit(safe_df, 0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(usable & (se > 0), difference / np.where(se > 0, se, 1.0), np.nan)
    p_value = np.where(np.isfinite(t), 2 * special.stdtr(safe_df, -np.abs(np.nan_to_num(t))), np.nan)
    out = merged[keys].copy()
    out["estimate_a"] = est_a
    out["estimate_b"] = est_b
    out["difference"] = difference
    out["se"] = np.where(usable, se, np.nan)
    out["ci_low"] = np.where(usable, difference - quantile * se, np.nan)
    out["ci_high"] = np.where(usable, difference + quantile * se, np.nan)
    out["df"] = np.where(np.isfinite(df), df, 0).astype(np.int64)
    out["t"] = t
    out["p_value"] = p_value
    return out[CHANGE_COLUMNS]
