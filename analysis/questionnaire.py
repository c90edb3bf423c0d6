"""The few questionnaire keys the analysis needs, read from a questionnaire YAML file.

The web app validates questionnaires with its own loader; this module only reads ``elements``,
the questions that carry ``element:`` (the index items, in file order), the index scale's
option codes (``missing: true`` codes are "not applicable"), ``index.satisfied``,
``index.aggregation`` and ``shares``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # imported when used: the command loads the questionnaire before the engine
    from analysis.rates import Composite

__all__ = ["IndexSpec", "QuestionnaireError", "ShareSpec", "index_spec", "load_index_spec"]

AGGREGATIONS = ("items", "elements")
#: PyYAML's safe loader, in C (libyaml) where PyYAML was built with it: ten times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class QuestionnaireError(ValueError):
    """The questionnaire file lacks a key the analysis needs (one-line message)."""


@dataclass(frozen=True)
class ShareSpec:
    """Expectation/perception shares: ``report`` is ``((code, (codes...)), ...)`` for named
    shares, or every option of the scale for ``distribution``."""

    id: str
    items: tuple[str, ...]
    valid_codes: tuple[int, ...]
    report: tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True)
class IndexSpec:
    """Index definition: items, elements, valid and satisfied codes, aggregation rule."""

    code: str
    items: tuple[str, ...]
    elements: tuple[tuple[str, tuple[str, ...]], ...]
    valid_codes: tuple[int, ...]
    missing_codes: tuple[int, ...]
    satisfied_codes: tuple[int, ...]
    aggregation: str
    shares: tuple[ShareSpec, ...] = ()
    #: Further indices (``indices:`` in the file): ``((code, (element codes...)), ...)``, each
    #: over the items of its elements with the rule of the overall index.
    subindices: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def indicators(self) -> tuple[str, ...]:
        """Every composite indicator, as a report lists them: the overall index, the further
        indices, the elements."""
        return (self.code, *(c for c, _ in self.subindices), *(e for e, _ in self.elements))

    def composites(self, aggregation: str | None = None) -> list[Composite]:
        from analysis.rates import Composite

        """Element indices, then the overall index (``items``: mean of all item rates;
        ``elements``: mean of the element indices)."""
        rule = aggregation or self.aggregation
        if rule not in AGGREGATIONS:
            raise QuestionnaireError(f"aggregation must be one of {', '.join(AGGREGATIONS)}")
        comps = [Composite(e, items) for e, items in self.elements]
        by_element = dict(self.elements)
        for code, element_codes in self.subindices:
            if rule == "items":
                sub_parts = tuple(i for e in element_codes for i in by_element.get(e, ()))
            else:
                sub_parts = tuple(e for e in element_codes if e in by_element)
            comps.append(Composite(code, sub_parts))
        parts = self.items if rule == "items" else tuple(e for e, _ in self.elements)
        return [*comps, Composite(self.code, parts)]


def _req(d: dict[str, Any], key: str, where: str) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise QuestionnaireError(f"questionnaire has no {where}{key}")
    return d[key]


def index_spec(doc: dict[str, Any]) -> IndexSpec:
    """Build an :class:`IndexSpec` from a parsed questionnaire document."""
    index = _req(doc, "index", "")
    scales = _req(doc, "scales", "")
    scale_name = _req(index, "scale", "index.")
    scale = _req(scales, scale_name, "scales.")
    options = _req(scale, "options", f"scales.{scale_name}.")
    valid = tuple(int(o["code"]) for o in options if not o.get("missing"))
    missing = tuple(int(o["code"]) for o in options if o.get("missing"))
    satisfied = tuple(int(c) for c in _req(index, "satisfied", "index."))
    if not set(satisfied) <= set(valid):
        raise QuestionnaireError("index.satisfied codes are not all valid codes of the scale")
    element_codes = [str(e["code"]) for e in _req(doc, "elements", "")]
    items: dict[str, list[str]] = {e: [] for e in element_codes}
    order: list[str] = []
    share_items: dict[str, list[str]] = {}
    for section in _req(doc, "sections", ""):
        for q in section.get("questions", []):
            if "element" in q:
                el = str(q["element"])
                if el not in items:
                    raise QuestionnaireError(f"question {q['code']} names unknown element {el}")
                items[el].append(str(q["code"]))
                order.append(str(q["code"]))
            if "share" in q:
                share_items.setdefault(str(q["share"]), []).append(str(q["code"]))
    if not order:
        raise QuestionnaireError("questionnaire has no question with an element")
    shares = []
    for sh in doc.get("shares", []) or []:
        sid = str(sh["id"])
        sc = _req(scales, sh["scale"], "scales.")
        codes = tuple(int(o["code"]) for o in sc["options"] if not o.get("missing"))
        rep = sh.get("report")
        report: tuple[tuple[str, tuple[int, ...]], ...]
        if rep == "distribution":
            report = tuple((str(c), (c,)) for c in codes)
        else:
            report = tuple((str(r["code"]), tuple(int(c) for c in r["codes"])) for r in rep)
        shares.append(ShareSpec(sid, tuple(share_items.get(sid, [])), codes, report))
    subindices = []
    for sub in doc.get("indices", []) or []:
        sub_elements = tuple(str(c) for c in sub.get("elements", []))
        unknown = [c for c in sub_elements if c not in items]
        if unknown:
            raise QuestionnaireError(f"index {sub.get('code')} names unknown element {unknown[0]}")
        subindices.append((str(sub["code"]), tuple(c for c in sub_elements if items[c])))
    aggregation = str(index.get("aggregation", "items"))
    if aggregation not in AGGREGATIONS:
        raise QuestionnaireError(f"index.aggregation must be one of {', '.join(AGGREGATIONS)}")
    return IndexSpec(
        code=str(index.get("code", "INDEX")),
        items=tuple(order),
        elements=tuple((e, tuple(items[e])) for e in element_codes if items[e]),
        valid_codes=valid,
        missing_codes=missing,
        satisfied_codes=satisfied,
        aggregation=aggregation,
        shares=tuple(shares),
        subindices=tuple(subindices),
    )


def load_index_spec(path: str | Path) -> IndexSpec:
    """Read a questionnaire YAML file (safe loading, libyaml's C parser when installed) and
    return its :class:`IndexSpec`."""
    try:
        doc = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except OSError as exc:
        raise QuestionnaireError(f"cannot read questionnaire {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        msg = " ".join(str(exc).split())
        raise QuestionnaireError(f"questionnaire {path} is not valid YAML: {msg}") from None
    return index_spec(doc)
