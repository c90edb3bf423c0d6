"""Per-respondent summaries used to filter what people wrote (not estimates)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["respondent_rate"]


def respondent_rate(
    codes: npt.ArrayLike, valid_codes: Sequence[float] = (1, 2, 3, 4, 5), success_codes: Sequence[float] = (4, 5)
) -> npt.NDArray[np.float64]:
    """Share of a respondent's valid item answers that are a success (satisfied), per row of
    ``codes`` (shape ``(n, J)``, NaN for blank); NaN for a respondent with no valid answer.
    Unweighted: it describes one person's answers, it estimates nothing."""
    x = np.asarray(codes, dtype=np.float64)
    valid = np.isin(x, np.asarray(valid_codes, dtype=np.float64))
    success = valid & np.isin(x, np.asarray(success_codes, dtype=np.float64))
    answered = valid.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate: npt.NDArray[np.float64] = np.where(answered > 0, success.sum(axis=1) / answered, np.nan)
    return rate
