"""The dashboard of a weighting snapshot: what the page shows, taken from the stored estimates
(which `analysis` computed when the snapshot was made). No statistic is computed here; the
target verdicts come from :func:`analysis.targets.target_status` and the funnel plot's limits
from :mod:`analysis.funnel`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from analysis.funnel import funnel_limits, funnel_points
from analysis.questionnaire import index_spec
from analysis.targets import target_status
from analysis.trend import independent_change
from survey.models import Place, Questionnaire, WeightingSnapshot
from survey.models.base import FIELD_GROUP_LABELS, FIELD_GROUPS, LAND_CONSTRUCTION_INVESTMENT_LABEL
from survey.questionnaires.definition import text_of
from survey.reports.background import background_questions
from survey.reports.comments import CommentFilter, comments
from survey.reports.numbers import vn_number
from survey.reports.snapshots import estimates_frame
from survey.reports.targets import targets_for

LDX_TITLE = "Đất đai + Xây dựng + Đầu tư"


@dataclass(frozen=True)
class Verdict:
    year: str
    target: float
    state: str  # analysis.targets.TARGET_STATES, or "not_assessed" for a self-selected sample


@dataclass
class Row:
    key: str
    label: str
    estimate: float
    ci_low: float
    ci_high: float
    se: float
    n: int
    n_eff: float
    flag: str
    verdicts: list[Verdict] = field(default_factory=list)


def _row(record: dict[str, Any], label: str) -> Row:
    return Row(
        key=str(record["indicator"]),
        label=label,
        estimate=float(record["estimate"]),
        ci_low=float(record["ci_low"]),
        ci_high=float(record["ci_high"]),
        se=float(record["se"]),
        n=int(record["n"]),
        n_eff=float(record["n_eff"]),
        flag=str(record["flag"] or ""),
    )


def _verdicts(row: Row, domain: str, targets: dict[str, dict[str, float]], self_selected: bool) -> list[Verdict]:
    out = []
    for year, by_domain in sorted(targets.items()):
        target = by_domain.get(domain)
        if target is None and domain == LAND_CONSTRUCTION_INVESTMENT_LABEL:
            target = by_domain.get("dat_dai")
        if target is None:
            continue
        state = "not_assessed" if self_selected else target_status(row.ci_low, row.ci_high, float(target))
        out.append(Verdict(year, float(target), state))
    return out


@dataclass
class Dashboard:
    snapshot: WeightingSnapshot
    index_code: str
    self_selected: bool
    overall: list[Row]
    elements: list[Row]
    items: list[Row]
    groups: list[Row]
    places: list[Row]
    shares: dict[str, list[Row]]
    funnel: list[dict[str, Any]]
    funnel_p0: float
    share_titles: dict[str, str] = field(default_factory=dict)
    background: list[BackgroundTable] = field(default_factory=list)
    #: Counts from the questionnaire's index definition (never written into a sentence by hand).
    n_elements: int = 0
    n_items: int = 0
    aggregation: str = "items"
    #: The target years of this questionnaire's targets (the columns of the verdicts).
    years: list[str] = field(default_factory=list)


@dataclass
class BackgroundLevel:
    label: str
    index: Row
    elements: list[Row]  # in the order of the index definition


@dataclass
class BackgroundTable:
    """The index and element rates in each category of one background question."""

    code: str
    title: str
    element_codes: list[str]
    levels: list[BackgroundLevel]


def _background(snapshot: WeightingSnapshot, definition: dict[str, Any], spec: Any) -> list[BackgroundTable]:
    table = estimates_frame(snapshot, "background")
    if table.empty:
        return []
    by_key = {(str(r["domain_var"]), str(r["domain"]), str(r["indicator"])): r for r in table.to_dict("records")}
    element_codes = [code for code, _items in spec.elements]
    out = []
    for question in background_questions(definition):
        levels = []
        for code, label in question.options:
            index = by_key.get((question.code, code, spec.code))
            if index is None:
                continue
            elements = [
                _row(by_key[(question.code, code, e)], e) for e in element_codes if (question.code, code, e) in by_key
            ]
            levels.append(BackgroundLevel(label, _row(index, label), elements))
        if levels:
            out.append(BackgroundTable(question.code, question.text, element_codes, levels))
    return out


def _labels(definition: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    elements = {e["code"]: e["label"]["vi"] for e in definition.get("elements", [])}
    questions = {
        q["code"]: q.get("text", {}).get("vi", q["code"])
        for section in definition.get("sections", [])
        for q in section.get("questions", [])
    }
    return elements, questions


def _share_labels(definition: dict[str, Any]) -> dict[str, dict[str, str]]:
    """For every share question, the label of each reported code (named shares, or the scale's
    options for a full distribution)."""
    by_share: dict[str, dict[str, str]] = {}
    for share in definition.get("shares", []) or []:
        report = share.get("report")
        if report == "distribution":
            options = definition["scales"][share["scale"]]["options"]
            by_share[share["id"]] = {str(o["code"]): o["label"]["vi"] for o in options}
        else:
            by_share[share["id"]] = {str(r["code"]): r["label"]["vi"] for r in report}
    out = {}
    for section in definition.get("sections", []):
        for q in section.get("questions", []):
            if "share" in q:
                out[str(q["code"])] = by_share.get(str(q["share"]), {})
    return out


def snapshot_questionnaire(session: Session, snapshot: WeightingSnapshot) -> Questionnaire:
    """The newest questionnaire version a snapshot pooled (all share one index definition)."""
    return session.scalars(
        sa.select(Questionnaire).where(
            Questionnaire.slug == snapshot.questionnaire_slug, Questionnaire.version == max(snapshot.versions)
        )
    ).one()


def build_dashboard(session: Session, snapshot: WeightingSnapshot, targets: dict[str, dict[str, float]]) -> Dashboard:
    questionnaire = snapshot_questionnaire(session, snapshot)
    spec = index_spec(questionnaire.definition)
    element_labels, question_texts = _labels(questionnaire.definition)
    self_selected = snapshot.kind == "qr"
    rates = estimates_frame(snapshot, "rates")
    records = rates.to_dict("records")
    overall_part = {r["indicator"]: r for r in records if r["domain_var"] == "all"}
    by_indicator = targets_for(session, snapshot.questionnaire_slug, spec.code, targets)
    index_row = _row(overall_part[spec.code], spec.code)
    index_row.verdicts = _verdicts(index_row, "all", by_indicator.get(spec.code, {}), self_selected)
    sub_labels = {str(i["code"]): text_of(i["label"], "vi") for i in questionnaire.definition.get("indices", [])}
    overall = [index_row]
    for code, _elements in spec.subindices:
        if code in overall_part:
            sub = _row(overall_part[code], f"{code}. {sub_labels.get(code, '')}")
            sub.verdicts = _verdicts(sub, "all", by_indicator.get(code, {}), self_selected)
            overall.append(sub)
    elements = [_row(overall_part[e], f"{e}. {element_labels.get(e, '')}") for e, _ in spec.elements]
    for element in elements:
        element.verdicts = _verdicts(element, "all", by_indicator.get(element.key, {}), self_selected)
    items = [_row(overall_part[i], f"{i}. {question_texts.get(i, '')}") for i in spec.items]
    group_rows = []
    for r in records:
        if r["indicator"] != spec.code or r["domain_var"] not in ("field_group", "ldx"):
            continue
        domain = str(r["domain"])
        row = _row(
            r, LDX_TITLE if domain == LAND_CONSTRUCTION_INVESTMENT_LABEL else FIELD_GROUP_LABELS.get(domain, domain)
        )
        row.key = domain
        row.verdicts = _verdicts(row, str(r["domain"]), by_indicator.get(spec.code, {}), self_selected)
        group_rows.append(row)
    order = [*FIELD_GROUPS, LAND_CONSTRUCTION_INVESTMENT_LABEL]
    group_rows.sort(key=lambda row: order.index(row.key) if row.key in order else len(order))
    names = dict(session.execute(sa.select(Place.id, Place.name)).all())
    places = []
    for r in records:
        if r["indicator"] == spec.code and r["domain_var"] == "place":
            row = _row(r, names.get(int(r["domain"]), str(r["domain"])))
            row.key = str(r["domain"])
            places.append(row)
    places.sort(key=lambda row: (np.nan_to_num(row.estimate, nan=np.inf), row.label))
    shares: dict[str, list[Row]] = {}
    share_table = estimates_frame(snapshot, "shares")
    share_labels = _share_labels(questionnaire.definition)
    if not share_table.empty:
        for r in share_table[share_table["domain_var"] == "all"].to_dict("records"):
            question, code = str(r["indicator"]).split(":", 1)
            row = _row(r, share_labels.get(question, {}).get(code, code))
            row.key = str(r["indicator"])
            shares.setdefault(question, []).append(row)
    share_titles = {q: f"{q}. {question_texts.get(q, '')}" for q in shares}
    p0 = index_row.estimate / 100
    funnel = _funnel(places, p0)
    return Dashboard(
        snapshot,
        spec.code,
        self_selected,
        overall,
        elements,
        items,
        group_rows,
        places,
        shares,
        funnel,
        p0,
        share_titles,
        _background(snapshot, questionnaire.definition, spec),
        n_elements=len(spec.elements),
        n_items=len(spec.items),
        aggregation=spec.aggregation,
        years=sorted({year for by_year in by_indicator.values() for year in by_year}),
    )


def _funnel(places: list[Row], p0: float) -> list[dict[str, Any]]:
    if not 0 < p0 < 1:
        return []
    usable = [p for p in places if np.isfinite(p.estimate) and np.isfinite(p.n_eff) and p.n_eff > 0]
    points = funnel_points([p.key for p in usable], [p.estimate / 100 for p in usable], [p.n_eff for p in usable], p0)
    by_key = {p.key: p for p in usable}
    return [
        {"label": by_key[pt.label].label, "rate": pt.rate, "n_eff": pt.n_eff, "position": pt.position} for pt in points
    ]


def funnel_svg(points: list[dict[str, Any]], p0: float, *, width: int = 640, height: int = 360) -> str:
    """The funnel plot as an SVG document (server-side; no script, prints as it shows):
    rate (%) against effective sample size, the provincial rate, 95 % and 99.8 % limits."""
    if not points or not 0 < p0 < 1:
        return ""
    left, right, top, bottom = 56, 16, 16, 40
    n_max = max(p["n_eff"] for p in points) * 1.1
    rates = [p["rate"] for p in points]
    grid = np.linspace(max(1.0, n_max / 200), n_max, 120)
    low95, high95 = funnel_limits(p0, grid, 0.95)
    low998, high998 = funnel_limits(p0, grid, 0.998)
    y_min = max(0.0, min(min(rates), float(low998[len(grid) // 6])) - 0.02)
    y_max = min(1.0, max(max(rates), float(high998[len(grid) // 6])) + 0.02)

    def x(n: float) -> float:
        return left + (width - left - right) * n / n_max

    def y(p: float) -> float:
        p = min(max(p, y_min), y_max)
        return top + (height - top - bottom) * (1 - (p - y_min) / (y_max - y_min))

    def path(values: np.ndarray) -> str:
        return " ".join(
            f"{'M' if i == 0 else 'L'}{x(n):.1f},{y(v):.1f}" for i, (n, v) in enumerate(zip(grid, values, strict=True))
        )

    colours = {"below": "#b3261e", "above": "#1e6b34", "warning": "#a15c00", "within": "#33506b"}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart">',
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
        'fill="none" stroke="#999"/>',
        f'<line x1="{left}" x2="{width - right}" y1="{y(p0):.1f}" y2="{y(p0):.1f}" stroke="#000"/>',
    ]
    for values, dash in ((low95, "4 3"), (high95, "4 3"), (low998, ""), (high998, "")):
        parts.append(f'<path d="{path(values)}" fill="none" stroke="#555" stroke-dasharray="{dash}"/>')
    for tick in np.linspace(y_min, y_max, 5):
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{vn_number(tick * 100)}</text>"
        )
    for tick in np.linspace(0, n_max, 5):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11">'
            f"{vn_number(tick, 0)}</text>"
        )
    for point in points:
        colour = colours[point["position"]]
        parts.append(
            f'<circle cx="{x(point["n_eff"]):.1f}" cy="{y(point["rate"]):.1f}" r="4" fill="{colour}">'
            f"<title>{_escape(point['label'])}: {vn_number(point['rate'] * 100)} %</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_svg(rows: list[Row], *, width: int = 640) -> str:
    """Horizontal bars of estimates with their intervals (percent), one per row, labels left."""
    usable = [r for r in rows if np.isfinite(r.estimate)]
    if not usable:
        return ""
    left, right, bar = 200, 56, 22
    height = 24 + bar * len(usable)

    def x(p: float) -> float:
        return left + (width - left - right) * max(0.0, min(100.0, p)) / 100

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart">']
    for i, r in enumerate(usable):
        top = 12 + i * bar
        parts.append(
            f'<text x="{left - 6}" y="{top + 14}" text-anchor="end" font-size="11">{_escape(r.label[:34])}</text>'
            f'<rect x="{left}" y="{top + 3}" width="{x(r.estimate) - left:.1f}" height="{bar - 8}" fill="#7fa6c9"/>'
        )
        if np.isfinite(r.ci_low) and np.isfinite(r.ci_high):
            parts.append(
                f'<line x1="{x(r.ci_low):.1f}" x2="{x(r.ci_high):.1f}" '
                f'y1="{top + bar / 2:.1f}" y2="{top + bar / 2:.1f}" '
                f'stroke="#000" stroke-width="1.5"/>'
            )
        parts.append(f'<text x="{width - right + 4}" y="{top + 14}" font-size="11">{vn_number(r.estimate)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@dataclass
class Trend:
    a: WeightingSnapshot
    b: WeightingSnapshot
    table: pd.DataFrame  # analysis.trend.CHANGE_COLUMNS


def build_trend(a: WeightingSnapshot, b: WeightingSnapshot) -> Trend:
    """The change of every indicator from snapshot ``a`` to ``b`` (independent samples)."""
    if a.kind != b.kind:
        raise ValueError("a QR period is never compared with a paper round")
    table = independent_change(estimates_frame(a), estimates_frame(b))
    return Trend(a, b, table)


@dataclass(frozen=True)
class ChangeRow:
    """One headline row of a trend: both estimates and the change with its interval (points)."""

    label: str
    estimate_a: float
    estimate_b: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return bool(np.isfinite(self.p_value) and self.p_value < 0.05)


def trend_headline(session: Session, trend: Trend) -> list[ChangeRow]:
    """The rows the trend chart draws: the index and each element overall, then the index by
    field group and for land + construction + investment — numbers straight from
    :func:`analysis.trend.independent_change`."""
    questionnaire = snapshot_questionnaire(session, trend.b)
    spec = index_spec(questionnaire.definition)
    element_labels, _questions = _labels(questionnaire.definition)
    table = trend.table
    wanted: list[tuple[str, str, str, str]] = [("all", "all", spec.code, spec.code)]
    wanted += [("all", "all", code, f"{code}. {element_labels.get(code, '')}") for code, _items in spec.elements]
    wanted += [("field_group", g, spec.code, FIELD_GROUP_LABELS.get(g, g)) for g in FIELD_GROUPS]
    wanted.append(("ldx", LAND_CONSTRUCTION_INVESTMENT_LABEL, spec.code, LDX_TITLE))
    out = []
    for domain_var, domain, indicator, label in wanted:
        hit = table[
            (table["domain_var"] == domain_var)
            & (table["domain"].astype(str) == domain)
            & (table["indicator"] == indicator)
        ]
        if hit.empty:
            continue
        r = hit.iloc[0]
        out.append(
            ChangeRow(
                label=label,
                estimate_a=float(r["estimate_a"]),
                estimate_b=float(r["estimate_b"]),
                difference=float(r["difference"]),
                ci_low=float(r["ci_low"]),
                ci_high=float(r["ci_high"]),
                p_value=float(r["p_value"]),
            )
        )
    return out


def trend_svg(rows: list[ChangeRow], *, width: int = 640) -> str:
    """The change of each headline row (percentage points) with its 95 % interval, around a
    zero line: a server-side SVG that prints as it shows (black strokes, no script). Rows
    without a change (no data in one run) are listed with "–" and no mark."""
    if not any(np.isfinite(r.difference) for r in rows):
        return ""
    left, right, step = 220, 64, 24
    top_pad, axis = 12, 28
    height = top_pad + step * len(rows) + axis
    ends = [v for r in rows for v in (r.ci_low, r.ci_high, r.difference) if np.isfinite(v)]
    reach = max(5.0, *(abs(v) for v in ends)) * 1.1

    def x(d: float) -> float:
        return left + (width - left - right) * (d + reach) / (2 * reach)

    bottom = top_pad + step * len(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart">',
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top_pad - 4}" y2="{bottom}" stroke="#000"/>',
        f'<line x1="{left}" x2="{width - right}" y1="{bottom}" y2="{bottom}" stroke="#999"/>',
    ]
    for tick in np.linspace(-reach, reach, 5):
        parts.append(
            f'<text x="{x(float(tick)):.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11">'
            f"{vn_number(float(tick))}</text>"
        )
    for i, r in enumerate(rows):
        mid = top_pad + i * step + step / 2
        parts.append(
            f'<text x="{left - 6}" y="{mid + 4:.1f}" text-anchor="end" font-size="11">{_escape(r.label[:36])}</text>'
        )
        if np.isfinite(r.ci_low) and np.isfinite(r.ci_high):
            parts.append(
                f'<line x1="{x(r.ci_low):.1f}" x2="{x(r.ci_high):.1f}" y1="{mid:.1f}" y2="{mid:.1f}" '
                'stroke="#000" stroke-width="1.5"/>'
            )
        if np.isfinite(r.difference):
            fill = "#000" if r.significant else "#fff"
            parts.append(
                f'<circle cx="{x(r.difference):.1f}" cy="{mid:.1f}" r="4" fill="{fill}" stroke="#000">'
                f"<title>{_escape(r.label)}: {vn_number(r.difference)}</title></circle>"
            )
        parts.append(f'<text x="{width - right + 6}" y="{mid + 4:.1f}" font-size="11">{vn_number(r.difference)}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass
class AnnualReport:
    board: Dashboard
    previous: WeightingSnapshot | None
    change: pd.DataFrame | None  # the headline rows of the trend since the previous run
    comments: list[dict[str, Any]]
    comment_total: int


def build_annual_report(
    session: Session, snapshot: WeightingSnapshot, targets: dict[str, dict[str, float]], *, comments_shown: int = 20
) -> AnnualReport:
    """Everything the provincial report prints: the dashboard, the change since the previous
    run of the same kind (an earlier period), and what citizens wrote in the period."""
    board = build_dashboard(session, snapshot, targets)
    previous = session.scalars(
        sa.select(WeightingSnapshot)
        .where(
            WeightingSnapshot.kind == snapshot.kind,
            WeightingSnapshot.questionnaire_slug == snapshot.questionnaire_slug,  # never another questionnaire
            WeightingSnapshot.period_end < snapshot.period_start,
        )
        .order_by(WeightingSnapshot.period_end.desc(), WeightingSnapshot.id.desc())
        .limit(1)
    ).first()
    change = None
    if previous is not None:
        table = build_trend(previous, snapshot).table
        keep = (table["domain_var"].isin(["all", "field_group", "ldx"])) & (table["indicator"] == board.index_code)
        change = table[keep]
    written = comments(
        session,
        CommentFilter(start=snapshot.period_start, end=snapshot.period_end, channel=snapshot.kind),
    )
    return AnnualReport(board, previous, change, written.head(comments_shown).to_dict("records"), len(written))


def coverage_sentence(snapshot: WeightingSnapshot) -> str | None:
    """What a QR run left out, in numbers (None when it left nothing out, and for a paper run):
    the period's responses whose counter and field group have no dossier count in the chosen
    source (they get no weight), and the cells with dossiers but no response (those dossiers
    are represented by nobody). An analyst must be able to say both when defending the rate."""
    report = snapshot.report
    left_out = int(report.get("respondents_without_dossier_count") or 0)
    empty = int(report.get("cells_without_respondents") or 0)
    parts = []
    if left_out:
        used = snapshot.respondents
        parts.append(
            _(
                "%(n)s trong %(all)s phiếu QR của kỳ (%(p)s %%) không được tính: nơi tiếp nhận × nhóm lĩnh vực của "
                "các phiếu này không có số hồ sơ trong “%(source)s”.",
                n=vn_number(left_out, 0),
                all=vn_number(left_out + used, 0),
                p=vn_number(100 * left_out / (left_out + used), 1),
                source=report.get("frame_round", ""),
            )
        )
    if empty:
        parts.append(
            _(
                "%(c)s ô nơi tiếp nhận × nhóm lĩnh vực có số hồ sơ nhưng không có phiếu nào: %(d)s hồ sơ không "
                "được đại diện trong các ước lượng.",
                c=vn_number(empty, 0),
                d=vn_number(int(report.get("dossiers_not_represented") or 0), 0),
            )
        )
    return " ".join(parts) or None
