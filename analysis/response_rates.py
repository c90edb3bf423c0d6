"""AAPOR outcome rates of a round's fieldwork: response, cooperation, refusal and contact rates.

Method document section 3: every sampled case put in the field gets an interview outcome code;
each code maps to one AAPOR final disposition and the rates follow the AAPOR Standard
Definitions. The database counts the cases per outcome code (``GROUP BY outcome``);
:func:`disposition_counts` folds those counts into :class:`DispositionCounts` and
:func:`aapor_rates` computes the rates from them.

Dispositions (AAPOR codes)
--------------------------
``I`` complete interview; ``P`` partial interview; ``R`` refusal and break-off; ``NC``
non-contact; ``O`` other eligible non-interview (language, health, …); ``UH`` unknown whether
the unit is eligible/reachable (e.g. wrong address or phone, nothing learnt about the case);
``UO`` unknown eligibility, other (e.g. moved, whereabouts unknown); ``NE`` not eligible.
Cases of known eligibility: ``I + P + R + NC + O + NE``; eligible: ``I + P + R + NC + O``.

References
----------
The American Association for Public Opinion Research (2023). *Standard Definitions: Final
Dispositions of Case Codes and Outcome Rates for Surveys*, 10th ed. AAPOR (sections "Response
rates", "Cooperation rates", "Refusal rates", "Contact rates"; RR1-RR4, COOP1, REF1, CON1).
Smith, T. W. (2009). A revised review of methods to estimate the status of cases with unknown
eligibility. Report to the AAPOR Standard Definitions Committee (estimating ``e``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

__all__ = [
    "DISPOSITIONS",
    "AaporRates",
    "DispositionCounts",
    "aapor_rates",
    "disposition_counts",
    "proportional_eligibility",
]

DISPOSITIONS: tuple[str, ...] = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")
"""The AAPOR disposition codes, in the order of the fields of :class:`DispositionCounts`."""

_FIELD_OF = {
    "I": "complete",
    "P": "partial",
    "R": "refusal",
    "NC": "non_contact",
    "O": "other",
    "UH": "unknown_household",
    "UO": "unknown_other",
    "NE": "not_eligible",
}


def _is_count(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool | np.bool_) and int(x) >= 0


@dataclass(frozen=True)
class DispositionCounts:
    """Number of cases in each AAPOR final disposition (all non-negative integers).

    Attributes
    ----------
    complete : int
        ``I``, complete interviews.
    partial : int
        ``P``, partial interviews.
    refusal : int
        ``R``, refusals and break-offs.
    non_contact : int
        ``NC``, eligible cases never contacted.
    other : int
        ``O``, other eligible non-interviews (language, health, …).
    unknown_household : int
        ``UH``, unknown whether the case is eligible (wrong or unusable contact details, …).
    unknown_other : int
        ``UO``, unknown eligibility, other reasons (moved, whereabouts unknown, …).
    not_eligible : int
        ``NE``, not eligible (out of the target population, deceased, …).

    Raises
    ------
    ValueError
        When a count is not a non-negative integer (bools are refused); the message names it.
    """

    complete: int = 0
    partial: int = 0
    refusal: int = 0
    non_contact: int = 0
    other: int = 0
    unknown_household: int = 0
    unknown_other: int = 0
    not_eligible: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not _is_count(value):
                raise ValueError(f"{f.name} must be a non-negative integer count, got {value!r}")
            object.__setattr__(self, f.name, int(value))

    @property
    def eligible(self) -> int:
        """``I + P + R + NC + O``: cases known to be eligible."""
        return self.complete + self.partial + self.refusal + self.non_contact + self.other

    @property
    def unknown(self) -> int:
        """``UH + UO``: cases of unknown eligibility."""
        return self.unknown_household + self.unknown_other

    @property
    def total(self) -> int:
        """All cases, ``I + P + R + NC + O + UH + UO + NE``."""
        return self.eligible + self.unknown + self.not_eligible

    def as_dict(self) -> dict[str, int]:
        """The counts keyed by AAPOR code (``{"I": …, "P": …, …, "NE": …}``)."""
        return {code: int(getattr(self, name)) for code, name in _FIELD_OF.items()}


def disposition_counts(outcome_counts: Mapping[str, int], dispositions: Mapping[str, str]) -> DispositionCounts:
    """Fold case counts per outcome code into counts per AAPOR disposition.

    Parameters
    ----------
    outcome_counts : mapping of str to int
        Number of cases per interview outcome code, e.g. ``{"completed": 120, "refused": 14}``
        (what ``SELECT outcome, count(*) … GROUP BY outcome`` returns, without the ``NULL``
        outcome of cases still pending). Non-negative integers.
    dispositions : mapping of str to str
        The AAPOR disposition (one of :data:`DISPOSITIONS`) of every outcome code, e.g.
        ``{"completed": "I", "break_off": "R", "moved": "UO", …}``.

    Returns
    -------
    DispositionCounts
        The sums per disposition; dispositions without any code are 0. The inputs are not modified.

    Raises
    ------
    ValueError
        For an outcome code missing from ``dispositions`` (the message names it), a disposition
        that is not an AAPOR code, or a count that is not a non-negative integer.
    """
    bad_map = sorted(f"{code!r} -> {d!r}" for code, d in dispositions.items() if d not in _FIELD_OF)
    if bad_map:
        raise ValueError(f"unknown AAPOR disposition(s) {', '.join(bad_map)}; expected one of {DISPOSITIONS}")
    unknown = sorted(repr(code) for code in outcome_counts if code not in dispositions)
    if unknown:
        raise ValueError(f"outcome code(s) {', '.join(unknown)} have no AAPOR disposition")
    totals = dict.fromkeys(_FIELD_OF.values(), 0)
    for code, n in outcome_counts.items():
        if not _is_count(n):
            raise ValueError(f"count of outcome {code!r} must be a non-negative integer, got {n!r}")
        totals[_FIELD_OF[dispositions[code]]] += int(n)
    return DispositionCounts(**totals)


def proportional_eligibility(counts: DispositionCounts) -> float | None:
    """AAPOR's proportional-allocation estimate of ``e``, the eligible share among unknowns.

    ``e = (I + P + R + NC + O) / (I + P + R + NC + O + NE)``: the unknown cases are taken to be
    eligible in the same proportion as the cases whose eligibility was established (the
    "CASRO" or proportional allocation method; Smith 2009). Cases that cannot be reached are
    usually less often eligible than those that could be checked, so this ``e`` tends to be too
    high and RR3/RR4 too low (conservative).

    Returns
    -------
    float or None
        ``None`` when no case has known eligibility.
    """
    known = counts.eligible + counts.not_eligible
    return counts.eligible / known if known else None


@dataclass(frozen=True)
class AaporRates:
    """AAPOR outcome rates; a rate whose denominator is 0 is ``None``.

    Attributes
    ----------
    rr1, rr2, rr3, rr4 : float or None
        Response rates 1-4.
    coop1 : float or None
        Cooperation rate 1.
    ref1 : float or None
        Refusal rate 1.
    con1 : float or None
        Contact rate 1.
    e : float or None
        The eligible share of unknown-eligibility cases used by RR3/RR4 (given or estimated).
    counts : DispositionCounts
        The counts the rates were computed from, with ``pending`` already added to ``UH``.
    pending : int
        Cases in the field without an outcome yet, counted in ``UH``.
    interim : bool
        ``pending > 0``: the rates describe fieldwork in progress, not final dispositions.
    """

    rr1: float | None
    rr2: float | None
    rr3: float | None
    rr4: float | None
    coop1: float | None
    ref1: float | None
    con1: float | None
    e: float | None
    counts: DispositionCounts
    pending: int
    interim: bool


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def aapor_rates(counts: DispositionCounts, *, e: float | None = None, pending: int = 0) -> AaporRates:
    """AAPOR Standard Definitions (10th ed., 2023) outcome rates from disposition counts.

    With ``I, P, R, NC, O, UH, UO`` the counts of :class:`DispositionCounts` and
    ``D = (I + P) + (R + NC + O) + (UH + UO)``:

    * ``RR1 = I / D``;  ``RR2 = (I + P) / D``
    * ``RR3 = I / ((I + P) + (R + NC + O) + e (UH + UO))``;  ``RR4 = (I + P) / (same)``
    * ``COOP1 = I / ((I + P) + R + O)``
    * ``REF1 = R / D``
    * ``CON1 = ((I + P) + R + O) / D``

    ``NE`` enters none of the rates except through the default ``e``.

    Parameters
    ----------
    counts : DispositionCounts
        Final (or current) dispositions of the cases put in the field.
    e : float, optional
        Estimated share of eligible cases among those of unknown eligibility, in [0, 1]. By
        default :func:`proportional_eligibility` (AAPOR's proportional allocation, CASRO-like):
        ``(I + P + R + NC + O) / (I + P + R + NC + O + NE)``; then RR3/RR4 are ``None`` when no
        case has known eligibility. The value used is returned as ``AaporRates.e``.
    pending : int, default 0
        Cases put in the field that have no outcome yet. For an *interim* rate they are counted
        as unknown eligibility (added to ``UH``) so that the denominator covers every case in
        the field; ``AaporRates.interim`` is then ``True``.

    Returns
    -------
    AaporRates
        Rates as floats in [0, 1], ``None`` where the denominator is 0 (no case, or e.g. COOP1
        with no contacted eligible case). The input is not modified.

    Raises
    ------
    ValueError
        When ``counts`` is not a :class:`DispositionCounts`, ``e`` is not a finite number in
        [0, 1] or ``pending`` is not a non-negative integer.

    Examples
    --------
    >>> r = aapor_rates(DispositionCounts(complete=60, refusal=20, non_contact=20))
    >>> r.rr1, r.coop1, r.con1
    (0.6, 0.75, 0.8)
    """
    if not isinstance(counts, DispositionCounts):
        raise ValueError(f"counts must be a DispositionCounts, got {type(counts).__name__}")
    if not _is_count(pending):
        raise ValueError(f"pending must be a non-negative integer, got {pending!r}")
    if e is not None and (
        not isinstance(e, numbers.Real)
        or isinstance(e, bool | np.bool_)
        or not math.isfinite(float(e))
        or not 0 <= float(e) <= 1
    ):
        raise ValueError(f"e must be a finite number in [0, 1], got {e!r}")
    used = DispositionCounts(**{**_counts_by_field(counts), "unknown_household": counts.unknown_household + pending})
    share = float(e) if e is not None else proportional_eligibility(used)

    i, p, r, o = used.complete, used.partial, used.refusal, used.other
    denominator = used.eligible + used.unknown
    if share is None:
        rr3 = rr4 = None
    else:
        estimated = used.eligible + share * used.unknown
        rr3, rr4 = _ratio(i, estimated), _ratio(i + p, estimated)
    return AaporRates(
        rr1=_ratio(i, denominator),
        rr2=_ratio(i + p, denominator),
        rr3=rr3,
        rr4=rr4,
        coop1=_ratio(i, i + p + r + o),
        ref1=_ratio(r, denominator),
        con1=_ratio(i + p + r + o, denominator),
        e=share,
        counts=used,
        pending=int(pending),
        interim=pending > 0,
    )


def _counts_by_field(counts: DispositionCounts) -> dict[str, int]:
    return {f.name: int(getattr(counts, f.name)) for f in fields(counts)}
