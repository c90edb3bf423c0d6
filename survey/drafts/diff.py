"""What changed between two questionnaire definitions (the previous published version and
a draft): questions added, removed, re-coded, reworded (per language), their options, the
scales, and the index definition (elements, items, scale, satisfied codes, aggregation)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: The kinds of change, in the order the table shows them.
KINDS = ("added", "removed", "recoded", "reworded", "type", "options", "index")


@dataclass(frozen=True)
class Change:
    kind: str  # one of KINDS
    code: str  # question code (or "index", "elements.<code>", "scales.<name>")
    lang: str  # the language of a wording change, else ""
    old: str
    new: str


def _questions(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["code"]: q for s in definition["sections"] for q in s["questions"]}


def _text(block: dict[str, str] | None, lang: str) -> str:
    return (block or {}).get(lang, "")


def _options(options: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {str(o["code"]): o["label"] for o in options}


def _option_changes(code: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> Iterator[Change]:
    before, after = _options(old), _options(new)
    for key in [k for k in before if k not in after]:
        yield Change("options", code, "", f"{key}: {_text(before[key], 'vi')}", "")
    for key in [k for k in after if k not in before]:
        yield Change("options", code, "", "", f"{key}: {_text(after[key], 'vi')}")
    for key in [k for k in after if k in before]:
        for lang in sorted(before[key].keys() | after[key].keys()):
            if _text(before[key], lang) != _text(after[key], lang):
                yield Change(
                    "options", code, lang, f"{key}: {_text(before[key], lang)}", f"{key}: {_text(after[key], lang)}"
                )
    if list(before) != list(after) and before.keys() == after.keys():
        yield Change("options", code, "", " · ".join(before), " · ".join(after))


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every difference from `old` to `new`, grouped by kind (`KINDS` order), then by code."""
    changes: list[Change] = []
    before, after = _questions(old), _questions(new)
    removed = [c for c in before if c not in after]
    added = [c for c in after if c not in before]
    # A question whose wording stayed but whose code changed is a re-coding, not a removal and an addition.
    for code in list(removed):
        text = before[code]["text"]
        match = next((c for c in added if after[c]["text"] == text and after[c]["type"] == before[code]["type"]), None)
        if match is not None:
            changes.append(Change("recoded", match, "", code, match))
            removed.remove(code)
            added.remove(match)
            before = {**before, match: before[code]}
    changes += [Change("added", c, "", "", _text(after[c]["text"], "vi")) for c in added]
    changes += [Change("removed", c, "", _text(before[c]["text"], "vi"), "") for c in removed]
    for code in [c for c in after if c in before]:
        q0, q1 = before[code], after[code]
        for lang in sorted(q0["text"].keys() | q1["text"].keys()):
            if _text(q0["text"], lang) != _text(q1["text"], lang):
                changes.append(Change("reworded", code, lang, _text(q0["text"], lang), _text(q1["text"], lang)))
        if q0["type"] != q1["type"]:
            changes.append(Change("type", code, "", q0["type"], q1["type"]))
        if q0.get("scale") != q1.get("scale"):
            changes.append(
                Change("options", code, "", f"thang {q0.get('scale') or '—'}", f"thang {q1.get('scale') or '—'}")
            )
        changes += _option_changes(code, q0.get("options", []), q1.get("options", []))
        if q0.get("element") != q1.get("element"):
            changes.append(Change("index", code, "", q0.get("element") or "—", q1.get("element") or "—"))
    scales0, scales1 = old.get("scales", {}), new.get("scales", {})
    for name in sorted(scales0.keys() & scales1.keys()):
        changes += _option_changes(f"scales.{name}", scales0[name]["options"], scales1[name]["options"])
    changes += _index_changes(old, new)
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(changes, key=lambda c: order[c.kind])  # stable: file order within a kind


def _index_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    elements0 = {e["code"]: e["label"] for e in old.get("elements", [])}
    elements1 = {e["code"]: e["label"] for e in new.get("elements", [])}
    for code in [c for c in elements0 if c not in elements1]:
        yield Change("index", f"elements.{code}", "", _text(elements0[code], "vi"), "")
    for code in [c for c in elements1 if c not in elements0]:
        yield Change("index", f"elements.{code}", "", "", _text(elements1[code], "vi"))
    for code in [c for c in elements1 if c in elements0]:
        for lang in sorted(elements0[code].keys() | elements1[code].keys()):
            if _text(elements0[code], lang) != _text(elements1[code], lang):
                yield Change(
                    "index", f"elements.{code}", lang, _text(elements0[code], lang), _text(elements1[code], lang)
                )
    index0, index1 = old.get("index") or {}, new.get("index") or {}
    for key in ("code", "scale", "satisfied", "aggregation"):
        if index0.get(key) != index1.get(key):
            yield Change("index", f"index.{key}", "", _show(index0.get(key)), _show(index1.get(key)))


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
