"""Numbers the Vietnamese way, for pages, PDFs and the ``so`` template filter (light: no
pandas, so the web process registers the filter without importing the reports)."""

from __future__ import annotations

import math
from typing import Any


def vn_number(value: Any, decimals: int = 1) -> str:
    """A number the Vietnamese way: thousands dot, decimal comma (``12.345,6``); ``–`` for
    a missing value."""
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        return "–"
    text = f"{number:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
