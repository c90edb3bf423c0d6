"""``Response.coded``: the codes of a questionnaire's scale questions as one string of
digits (``.`` for no answer) in the order of ``Questionnaire.coded_layout``."""

from __future__ import annotations

import numpy as np


def decode_coded(coded: list[str] | np.ndarray, width: int) -> np.ndarray:
    """Decode ``coded`` strings of `width` characters into a float matrix (NaN = no answer).

    Raises `ValueError` if a string has the wrong length or a character that is neither a
    digit nor ``.``."""
    n = len(coded)
    if n == 0:
        return np.empty((0, width))
    # each string (not only their total: a longer and a shorter one would make up for each other)
    bad = next((i for i, c in enumerate(coded) if len(c) != width), None)
    if bad is not None:
        raise ValueError(f"response #{bad}: coded answers have {len(coded[bad])} characters, expected {width}")
    joined = "".join(coded)
    return decode_coded_bytes(np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(n, width))


def _lookup() -> np.ndarray:
    """Byte -> code: digits to 0-9, ``.`` to NaN, anything else to -1."""
    lookup = np.full(256, -1.0)
    lookup[ord("0") : ord("9") + 1] = np.arange(10)
    lookup[ord(".")] = np.nan
    return lookup


def _checked(values: np.ndarray) -> np.ndarray:
    if (values < 0).any():
        raise ValueError("coded answers contain a character that is neither a digit nor '.'")
    return values


def decode_coded_bytes(raw: np.ndarray) -> np.ndarray:
    """Decode an ``(n, width)`` matrix of the characters of ``coded`` strings (ASCII bytes)
    into a float matrix (NaN = no answer); `ValueError` for a byte that is neither a digit
    nor ``.``."""
    return _checked(_LOOKUP[raw])


def coded_bytes_valid(raw: np.ndarray) -> bool:
    """Whether every byte of `raw` (characters of ``coded`` strings, any shape) is a digit or
    ``.``: what :func:`decode_checked_bytes` needs."""
    return not _BAD_BYTE[raw].any()


def decode_checked_bytes(raw: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The codes (float, NaN = no answer) of characters of ``coded`` strings already checked
    by :func:`coded_bytes_valid`, in the shape of `raw` (e.g. one question's characters);
    written into `out` if given."""
    return np.take(_LOOKUP, raw, out=out, mode="clip")  # a byte is below 256: nothing clipped


_LOOKUP = _lookup()
_BAD_BYTE = _LOOKUP < 0  # neither a digit nor "." (NaN, the "." code, is not below 0)


def encode_coded(answers: dict[str, object], layout: list[str]) -> str:
    """The ``coded`` string for `answers` (codes of the scale questions in `layout` order)."""
    out = []
    for code in layout:
        value = answers.get(code)
        if value is None or value == "":
            out.append(".")
        else:
            digit = int(value)
            if not 0 <= digit <= 9:
                raise ValueError(f"{code}: code {digit} is not a single digit")
            out.append(str(digit))
    return "".join(out)
