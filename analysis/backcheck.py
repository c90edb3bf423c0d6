"""The back-check (phúc tra) sample: a share of each interviewer's interviews, re-contacted to
confirm that they took place.

Selection uses *permanent random numbers*: every unit gets a number uniform on [0, 1) that
depends only on the seed and the unit's stable code (a dossier code, never a database id),
and each interviewer's ``k`` units with the smallest numbers are taken. Taking the ``k``
smallest of independent uniforms is simple random sampling without replacement of size ``k``
(Ohlsson, E. (1995), "Coordination of samples using permanent random numbers", in Cox et al.,
*Business Survey Methods*, Wiley, ch. 9, pp. 153–169). Because a unit's number does not depend
on the other units, the sample is the same whatever the order of the rows, and a later draw
(more interviews completed) keeps the units already taken and adds the next smallest.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

_SCALE = float(2**64)


class BackCheckError(ValueError):
    """Invalid back-check parameters."""


def permanent_random_number(seed: int, code: str) -> float:
    """A number uniform on [0, 1) fixed by ``(seed, code)`` (BLAKE2b of both, first 64 bits)."""
    digest = hashlib.blake2b(f"phuc-tra|{seed}|{code}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def back_check_size(interviews: int, share: float, minimum: int = 1) -> int:
    """How many of an interviewer's ``interviews`` to check: ``ceil(share · interviews)``
    (the share taken as the decimal written, so 10 % of 30 is 3), at least ``minimum``, never
    more than there are."""
    if interviews < 0:
        raise BackCheckError(f"interviews must be ≥ 0, got {interviews}")
    if not 0 < share <= 1:
        raise BackCheckError(f"share must be in (0, 1], got {share}")
    if minimum < 0:
        raise BackCheckError(f"minimum must be ≥ 0, got {minimum}")
    return min(interviews, max(minimum, math.ceil(Fraction(str(share)) * interviews)))


@dataclass(frozen=True)
class BackCheckDraw:
    """Per interviewer: the codes newly drawn (in order of their random numbers) and the
    target size over all their interviews."""

    drawn: dict[str, list[str]]
    target: dict[str, int]


def draw_back_check(
    interviews: Mapping[str, Iterable[str]],
    *,
    share: float,
    seed: int,
    minimum: int = 1,
    already: Mapping[str, Collection[str]] | None = None,
) -> BackCheckDraw:
    """Draw the back-check sample of every interviewer.

    Parameters
    ----------
    interviews : mapping
        Interviewer key (a stable code such as a user name) → the codes of that interviewer's
        interviews (dossier codes).
    share, minimum : float, int
        Each interviewer's target is :func:`back_check_size` of their interview count.
    seed : int
        Non-negative; with the codes it fixes the sample.
    already : mapping, optional
        Codes drawn by an earlier draw; they count towards the target and are not drawn again.

    Returns
    -------
    BackCheckDraw
        The codes to add per interviewer (possibly none) and each interviewer's target.
    """
    if seed < 0:
        raise BackCheckError(f"seed must be a non-negative integer, got {seed}")
    already = already or {}
    drawn: dict[str, list[str]] = {}
    target: dict[str, int] = {}
    for key in sorted(interviews):
        codes = sorted(set(interviews[key]))
        taken = set(already.get(key, ())) & set(codes)
        size = back_check_size(len(codes), share, minimum)
        target[key] = size
        ranked = sorted((c for c in codes if c not in taken), key=lambda c: (permanent_random_number(seed, c), c))
        drawn[key] = ranked[: max(0, size - len(taken))]
    return BackCheckDraw(drawn, target)


@dataclass(frozen=True)
class BackCheckSummary:
    """One interviewer's back-check results: drawn, checked (a result recorded), reached,
    confirmed, discrepancies, and the confirmed share of those reached (None when none)."""

    drawn: int
    checked: int
    reached: int
    confirmed: int
    discrepancies: int

    @property
    def confirmed_share(self) -> float | None:
        return self.confirmed / self.reached if self.reached else None


def summarise(drawn: int, results: Iterable[str | None]) -> BackCheckSummary:
    """Count results (``confirmed``, ``discrepancy``, ``unreachable``, None = not checked)."""
    values = list(results)
    confirmed = sum(1 for r in values if r == "confirmed")
    discrepancies = sum(1 for r in values if r == "discrepancy")
    checked = sum(1 for r in values if r is not None)
    return BackCheckSummary(drawn, checked, confirmed + discrepancies, confirmed, discrepancies)
