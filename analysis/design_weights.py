"""Design weights of a stratified sample of dossiers and their nonresponse adjustment.

A paper round draws ``n_h`` dossiers by simple random sampling without replacement from the
``N_h`` dossiers of stratum ``h`` (place × field group). A drawn dossier has the design weight
``d = N_h / n_h``. Of the ``n_h``, ``r_h`` answer; the nonresponse adjustment within the
stratum multiplies by ``n_h / r_h``, so each respondent carries ``d · n_h / r_h = N_h / r_h``
(the weighting-class adjustment, respondents of a stratum standing for its nonrespondents).
The adjusted weights of a stratum add up to ``N_h``.

References
----------
Valliant, R., Dever, J. A. and Kreuter, F. (2018). *Practical Tools for Designing and
Weighting Survey Samples*, 2nd ed., Springer, pp. 321-326 (base weights, chapter 13) and
pp. 331-335 (nonresponse adjustment in weighting classes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["StratumWeights", "stratum_weights"]


@dataclass(frozen=True)
class StratumWeights:
    """Weights of the respondents of a stratified sample, in the order given.

    Attributes
    ----------
    design : ndarray
        ``N_h / n_h``: the inverse selection probability of the respondent's dossier.
    adjusted : ndarray
        ``N_h / r_h``: the design weight times the nonresponse adjustment ``n_h / r_h``.
    respondents : dict
        ``r_h`` by stratum label (only strata with a respondent appear).
    """

    design: npt.NDArray[np.float64]
    adjusted: npt.NDArray[np.float64]
    respondents: dict[str, int]


def stratum_weights(strata: npt.ArrayLike, population: npt.ArrayLike, sample_size: npt.ArrayLike) -> StratumWeights:
    """Design weights ``N_h / n_h`` and nonresponse-adjusted weights ``N_h / r_h``.

    Parameters
    ----------
    strata : array of labels, shape (r,)
        The stratum of each respondent; ``r_h`` is the number of respondents with label ``h``.
    population : array of numbers, shape (r,)
        ``N_h``: dossiers of the respondent's stratum in the frame (the fpc).
    sample_size : array of numbers, shape (r,)
        ``n_h``: dossiers drawn in the respondent's stratum (main sample plus reserves used).

    Returns
    -------
    StratumWeights

    Raises
    ------
    ValueError
        When the arrays differ in length, ``N_h`` or ``n_h`` is not positive, ``N_h < n_h``
        (more drawn than exist), or ``N_h`` or ``n_h`` differ within a stratum. (``r_h`` may
        exceed ``n_h`` when replacements from the reserve answered.)
    """
    labels = np.asarray(strata).astype(str)
    big_n = np.asarray(population, dtype=np.float64)
    small_n = np.asarray(sample_size, dtype=np.float64)
    if not (labels.shape == big_n.shape == small_n.shape) or labels.ndim != 1:
        raise ValueError("strata, population and sample_size must be 1-d arrays of one length")
    if labels.size and (not np.all(big_n > 0) or not np.all(small_n > 0)):
        raise ValueError("N_h and n_h must be positive")
    frame = pd.DataFrame({"h": labels, "N": big_n, "n": small_n})
    per = frame.groupby("h", sort=True).agg(r=("h", "size"), N_min=("N", "min"), N_max=("N", "max"))
    per = per.join(frame.groupby("h", sort=True)["n"].agg(n_min="min", n_max="max"))
    if (per["N_min"] != per["N_max"]).any() or (per["n_min"] != per["n_max"]).any():
        raise ValueError("N_h and n_h must be constant within a stratum")
    if (per["N_min"] < per["n_min"]).any():
        raise ValueError("a stratum has more drawn dossiers than dossiers in the frame (N_h < n_h)")
    r_h = frame["h"].map(per["r"]).to_numpy(dtype=np.float64)
    design = big_n / small_n
    adjusted = big_n / r_h  # = d · n_h / r_h
    respondents = {str(h): int(r) for h, r in per["r"].items()}
    return StratumWeights(design=design, adjusted=adjusted, respondents=respondents)
