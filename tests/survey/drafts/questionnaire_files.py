"""Questionnaire files for the publishing tests, made from the shipped form: ``edited(fn)``
returns the bytes of a copy changed by ``fn`` (its data dict)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SHIPPED = Path(__file__).resolve().parents[3] / "questionnaires" / "sipas-dich-vu" / "v1.yaml"


def shipped() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text("utf-8"))


def question(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(q for s in data["sections"] for q in s["questions"] if q["code"] == code)


def edited(change: Callable[[dict[str, Any]], Any] | None = None, *, version: int = 2) -> bytes:
    data = copy.deepcopy(shipped())
    data["version"] = version
    if change is not None:
        change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


def v2(data: dict[str, Any]) -> None:
    """A second version: A1 reworded in English only, A2 removed, a new item A4, gioi_tinh
    re-coded as gioi, one option of dan_toc relabelled, the satisfied codes now 5 only."""
    question(data, "A1")["text"]["en"] = "Signs to the reception desk are clear"
    section = next(s for s in data["sections"] if any(q["code"] == "A2" for q in s["questions"]))
    section["questions"] = [q for q in section["questions"] if q["code"] != "A2"]
    section["questions"].append(
        {
            "code": "A4",
            "type": "scale",
            "scale": "hai_long",
            "element": "A",
            "required": True,
            "text": {"vi": "Nơi chờ sạch sẽ, thoáng mát", "en": "The waiting area is clean and airy"},
        }
    )
    question(data, "gioi_tinh")["code"] = "gioi"
    question(data, "gioi")["options"][1]["label"]["vi"] = "Nữ giới"
    data["index"]["satisfied"] = [5]
