"""The results table: one row per domain and indicator, with SE, interval, df, n and flags.

Small cells and very wide intervals are flagged, never hidden (method section 5):

* ``no_data``: no respondent contributes to the cell;
* ``df<=0``: no design degrees of freedom left, the interval is undefined (empty);
* ``n<30``: fewer than :data:`MIN_N` contributing respondents;
* ``wide_ci``: interval at least :data:`WIDE_CI` wide (proportions only);
* ``se=0``: a zero linearization SE (e.g. every answer a success);
* ``partial``: an index that misses some of its items in this domain.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from analysis.intervals import CI_METHODS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MIN_N",
    "OUTPUT_COLUMNS",
    "WIDE_CI",
    "TableBlock",
    "cell_flags",
    "results_columns",
    "results_csv",
    "results_table",
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
"""Columns of every results table, in order (see ``docs/analysis-cli.md``)."""

MIN_N = 30
"""Cells with fewer contributing respondents are flagged ``n<30``."""
WIDE_CI = 0.30
"""Intervals at least this wide (30 percentage points) are flagged ``wide_ci``."""


def cell_flags(
    n: npt.NDArray[np.integer] | npt.NDArray[np.floating],
    df: npt.NDArray[np.integer] | npt.NDArray[np.floating],
    se: npt.NDArray[np.floating],
    ci_low: npt.NDArray[np.floating],
    ci_high: npt.NDArray[np.floating],
    partial: npt.NDArray[np.bool_] | None = None,
) -> list[str]:
    """``;``-separated warnings of every cell (empty string when none).

    Parameters
    ----------
    n : array, shape (c,)
        Contributing respondents per cell.
    df : array, shape (c,)
        Design degrees of freedom per cell.
    se, ci_low, ci_high : arrays, shape (c,)
        Standard error and interval ends, on the proportion scale (0..1).
    partial : bool array, shape (c,), optional
        Index cells missing some of their items.
    """
    out = []
    for i in range(n.shape[0]):
        flags = []
        if n[i] == 0:
            flags.append("no_data")
        if df[i] <= 0:
            flags.append("df<=0")
        if 0 < n[i] < MIN_N:
            flags.append("n<30")
        if np.isfinite(ci_low[i]) and ci_high[i] - ci_low[i] >= WIDE_CI:
            flags.append("wide_ci")
        if n[i] > 0 and se[i] == 0:
            flags.append("se=0")
        if partial is not None and partial[i]:
            flags.append("partial")
        out.append(";".join(flags))
    return out


@dataclass(frozen=True, eq=False)
class TableBlock:
    """The estimates of every indicator in every domain of one domain variable.

    Arrays have shape ``(D, K)``: ``D`` domains (``labels``), ``K`` indicators, all proportions.
    """

    domain_var: str
    labels: npt.NDArray[np.object_]
    estimate: npt.NDArray[np.float64]
    variance: npt.NDArray[np.float64]
    df: npt.NDArray[np.int64]
    n: npt.NDArray[np.float64]
    deff: npt.NDArray[np.float64]
    partial: npt.NDArray[np.bool_]


def results_columns(
    blocks: Sequence[TableBlock],
    indicators: Sequence[str],
    *,
    ci: str,
    level: float,
    percent: bool,
) -> dict[str, np.ndarray]:
    """The blocks stacked, column by column (:data:`OUTPUT_COLUMNS`), without pandas.

    Intervals come from :data:`analysis.intervals.CI_METHODS` ``[ci]`` with the cell's df;
    ``n_eff = n / deff``; estimates, SEs and interval ends are scaled by 100 when ``percent``.
    A cell without respondents shows NaN estimate and SE.
    """
    parts: dict[str, list[np.ndarray]] = {name: [] for name in OUTPUT_COLUMNS}
    for block in blocks:
        n_domains, n_indicators = block.estimate.shape
        estimate = block.estimate.ravel()
        se = np.sqrt(block.variance.ravel())
        df = block.df.ravel()
        ci_low, ci_high = CI_METHODS[ci](estimate, se, df, level)
        n = block.n.ravel().astype(np.int64)
        flags = cell_flags(n, df, se, ci_low, ci_high, block.partial.ravel())
        deff = block.deff.ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = np.where(deff > 0, n / deff, np.nan)
        scale = 100.0 if percent else 1.0
        columns = {
            "domain_var": np.full(n_domains * n_indicators, block.domain_var, dtype=object),
            "domain": np.repeat(block.labels.astype(str).astype(object), n_indicators),
            "indicator": np.tile(np.array(indicators, dtype=object), n_domains),
            "estimate": np.where(n > 0, estimate * scale, np.nan),
            "se": np.where(n > 0, se * scale, np.nan),
            "ci_low": ci_low * scale,
            "ci_high": ci_high * scale,
            "df": df.astype(np.int64),
            "n": n,
            "n_eff": n_eff,
            "deff": deff,
            "flag": np.array(flags, dtype=object),
        }
        for name, values in columns.items():
            parts[name].append(values)
    empty = {"df": np.int64, "n": np.int64, **{name: object for name in ("domain_var", "domain", "indicator", "flag")}}
    return {
        name: np.concatenate(values) if values else np.zeros(0, dtype=empty.get(name, np.float64))
        for name, values in parts.items()
    }


def results_table(
    blocks: Sequence[TableBlock],
    indicators: Sequence[str],
    *,
    ci: str,
    level: float,
    percent: bool,
) -> pd.DataFrame:
    """Stack the blocks into a table with columns :data:`OUTPUT_COLUMNS` (see
    :func:`results_columns`)."""
    import pandas as pd

    return pd.DataFrame(results_columns(blocks, indicators, ci=ci, level=level, percent=percent))


def results_csv(columns: dict[str, np.ndarray]) -> str:
    """The table as CSV text, header first, numbers ``%.10g``, NaN empty, ``\\n`` line ends:
    byte for byte what ``DataFrame.to_csv(index=False, float_format="%.10g",
    lineterminator="\\n")`` writes (tested), without pandas."""
    names = list(columns)
    formatted = []
    for name in names:
        values = columns[name]
        if values.dtype.kind == "f":
            formatted.append(["" if v != v else f"{v:.10g}" for v in values.tolist()])
        else:
            formatted.append([str(v) for v in values.tolist()])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*formatted, strict=True))
    return buffer.getvalue()
