"""Reading a parsed questionnaire definition (the dict of a questionnaire file): wording in
a language, which questions a channel asks, which question fills a response column."""

from __future__ import annotations

from typing import Any


def text_of(block: dict[str, str] | None, lang: str) -> str:
    if not block:
        return ""
    return block.get(lang) or block["vi"]


def field_code(definition: dict[str, Any], field: str) -> str | None:
    """Code of the question that fills a response column (``field: dossier_code`` …)."""
    for section in definition["sections"]:
        for q in section["questions"]:
            if q.get("field") == field:
                return str(q["code"])
    return None


def asked(question: dict[str, Any], channel: str) -> bool:
    return channel in question.get("channels", ("qr", "paper"))
