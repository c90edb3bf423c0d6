"""Funnel plot: each place's rate against its effective sample size, with control limits
around the provincial rate, so that a place is singled out only when the data say so.

For a rate ``p0`` (the provincial estimate) and a place with effective sample size ``n_eff``
(``n / deff``, the binomial sample size with the same precision), the limits at coverage
``c`` are ``p0 ± z_{(1+c)/2} · sqrt(p0 (1 - p0) / n_eff)``, cut to [0, 1] (Spiegelhalter's
normal approximation; 95 % and 99.8 % are the usual "warning" and "alarm" limits).

References
----------
Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
*Statistics in Medicine* 24, 1185-1202 (section 3, the normal approximation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = ["FunnelPoint", "funnel_limits", "funnel_points"]

FloatArray = npt.NDArray[np.float64]


def funnel_limits(p0: float, n_eff: npt.ArrayLike, coverage: float) -> tuple[FloatArray, FloatArray]:
    """Lower and upper limits (proportions) at each ``n_eff`` for coverage ``coverage``."""
    if not 0 < p0 < 1:
        raise ValueError("the reference rate must lie strictly between 0 and 1")
    n = np.asarray(n_eff, dtype=np.float64)
    z = float(special.ndtri(0.5 + coverage / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(p0 * (1 - p0) / n)
    return np.clip(p0 - half, 0.0, 1.0), np.clip(p0 + half, 0.0, 1.0)


@dataclass(frozen=True)
class FunnelPoint:
    """A place on the funnel plot: ``position`` is ``below`` (under the lower limit),
    ``above`` or ``within`` at the outer coverage, ``warning`` between the two limits."""

    label: str
    rate: float
    n_eff: float
    position: str


def funnel_points(
    labels: Sequence[str],
    rates: npt.ArrayLike,
    n_eff: npt.ArrayLike,
    p0: float,
    coverages: tuple[float, float] = (0.95, 0.998),
) -> list[FunnelPoint]:
    """Classify each place (rates and ``p0`` as proportions): outside the outer limits
    (``below``/``above``), between the inner and outer limits (``warning``), or ``within``.
    Places without a rate or an effective size are left out."""
    r = np.asarray(rates, dtype=np.float64)
    n = np.asarray(n_eff, dtype=np.float64)
    inner_low, inner_high = funnel_limits(p0, n, coverages[0])
    outer_low, outer_high = funnel_limits(p0, n, coverages[1])
    out = []
    for i, label in enumerate(labels):
        if not (np.isfinite(r[i]) and np.isfinite(n[i]) and n[i] > 0):
            continue
        if r[i] < outer_low[i]:
            position = "below"
        elif r[i] > outer_high[i]:
            position = "above"
        elif r[i] < inner_low[i] or r[i] > inner_high[i]:
            position = "warning"
        else:
            position = "within"
        out.append(FunnelPoint(str(label), float(r[i]), float(n[i]), position))
    return out
