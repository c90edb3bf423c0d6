"""Pre-printed form serials: the round, a sequence number and a Luhn check digit, so that a
mistyped serial is caught at entry."""

from __future__ import annotations


def luhn_digit(digits: str) -> str:
    """Luhn check digit, so that a mistyped form serial is caught at entry."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def form_serial(round_id: int, sequence: int) -> str:
    body = f"{round_id}{sequence:06d}"
    return body + luhn_digit(body)


def serial_is_valid(serial: str) -> bool:
    return serial.isdigit() and len(serial) >= 8 and luhn_digit(serial[:-1]) == serial[-1]


def normalise_serial(text: str) -> str:
    """The digits of a serial as typed or scanned (spaces and dashes dropped)."""
    return "".join(ch for ch in text if ch.isdigit())
