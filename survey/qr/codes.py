"""Signed counter codes behind the QR posters.

A code is 15 bytes — key id (1), counter id (4), poster serial (2), and the first 8 bytes of
an HMAC-SHA256 of those 7 bytes under a key derived from the instance secret — written in
RFC 4648 base32: 24 characters, short enough to type from the poster
(``ABCD-EFGH-…``: case, spaces and dashes are ignored; 0/1/8 are read as O/I/B).

Rotating a counter's code bumps its poster serial: old posters then verify as *rotated*,
so the citizen is told politely to use the current poster. A forged, truncated or garbled
code verifies as nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

KEY_ID = 1
_PAYLOAD = struct.Struct(">BIH")
_MAC_BYTES = 8
CODE_LENGTH = 24
_TYPO = str.maketrans({"0": "O", "1": "I", "8": "B", "-": None, " ": None, ".": None})


@dataclass(frozen=True)
class CounterCode:
    key_id: int
    counter_id: int
    serial: int


def _key(secret: str, key_id: int) -> bytes:
    return hmac.new(secret.encode(), f"sipas-counter-code:{key_id}".encode(), hashlib.sha256).digest()


def make_code(secret: str, counter_id: int, serial: int, *, key_id: int = KEY_ID) -> str:
    payload = _PAYLOAD.pack(key_id, counter_id, serial)
    mac = hmac.new(_key(secret, key_id), payload, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.b32encode(payload + mac).decode("ascii")


def normalise(text: str) -> str:
    return text.upper().translate(_TYPO)


def read_code(secret: str, text: str) -> CounterCode | None:
    """The counter code in `text` if its signature is valid, else None (never raises)."""
    code = normalise(text)
    if len(code) != CODE_LENGTH:
        return None
    try:
        raw = base64.b32decode(code)
    except (binascii.Error, ValueError):
        return None
    payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    key_id, counter_id, serial = _PAYLOAD.unpack(payload)
    if key_id != KEY_ID:
        return None
    expected = hmac.new(_key(secret, key_id), payload, hashlib.sha256).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        return None
    return CounterCode(key_id, counter_id, serial)


def grouped(code: str) -> str:
    """``ABCDEFGH…`` → ``ABCD-EFGH-…`` for printing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
