"""The annual report of a weighting snapshot as a PDF (ReportLab's Platypus, the library the
QR posters already use, with the DejaVu fonts shipped in ``survey/static/fonts``).

It prints what the printable HTML report prints — the same :class:`~survey.reports.dashboard.
AnnualReport`, the same numbers in the Vietnamese format — laid out like a provincial SIPAS
report: purpose and method, sample and AAPOR outcomes, weighting, results overall / by field
group / by element and item / by respondent background, targets, places, change since the
last round, what citizens wrote, and an appendix with the formulas and the snapshot number.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import format_datetime
from flask_babel import gettext as _
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from survey.models import WeightingSnapshot
from survey.models.base import FIELD_GROUP_LABELS
from survey.models.paper import OUTCOMES
from survey.reports.dashboard import AnnualReport, Row, build_annual_report, coverage_sentence, vn_number

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
REGULAR = "SIPAS-Report-DejaVuSans"
BOLD = "SIPAS-Report-DejaVuSans-Bold"
_FONT_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}

_fonts_lock = threading.Lock()
# ReportLab keeps font-subsetting state per document on the shared TTFont objects: one PDF at a time.
_render_lock = threading.Lock()


def _register_fonts() -> None:
    with _fonts_lock:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name, filename in _FONT_FILES.items():
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
        pdfmetrics.registerFontFamily(BOLD, normal=BOLD, bold=BOLD, italic=BOLD, boldItalic=BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=13, spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=15, leading=19, spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4),
        "h3": ParagraphStyle("h3", parent=body, fontName=BOLD, fontSize=10, leading=13, spaceBefore=6),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10, spaceAfter=0),
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5),
    }


FLAG_TEXT = {
    "n<30": "dưới 30 người trả lời",
    "wide_ci": "khoảng tin cậy rộng",
    "df<=0": "không tính được khoảng tin cậy",
    "no_data": "không có dữ liệu",
    "se=0": "sai số bằng 0",
    "partial": "thiếu một số câu",
}
VERDICT_TEXT = {
    "met": "đạt",
    "not_met": "chưa đạt",
    "inconclusive": "chưa kết luận",
    "not_assessed": "không đánh giá (mẫu tự chọn)",
    "no_data": "–",
}


def _flags(flag: str) -> str:
    return "; ".join(_(FLAG_TEXT.get(f, f)) for f in flag.split(";") if f)


class _Builder:
    def __init__(self) -> None:
        self.styles = _styles()
        self.story: list[Any] = []

    def p(self, text: str, style: str = "body") -> None:
        self.story.append(Paragraph(escape(text), self.styles[style]))

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float] | None = None
    ) -> None:
        cell = self.styles["cell"]
        data = [[Paragraph(f"<b>{escape(h)}</b>", cell) for h in header]]
        data += [[Paragraph(escape(str(v)), cell) for v in row] for row in rows]
        table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        self.story.append(table)
        self.story.append(Spacer(1, 6))

    def estimates(self, rows: Sequence[Row], years: Sequence[str] = ()) -> None:
        header = [
            "",
            _("Ước lượng (%)"),
            _("KTC 95%"),
            "SE",
            "n",
            _("n hiệu dụng"),
            *(_("Mục tiêu %(year)s", year=y) for y in years),
            _("Cảnh báo"),
        ]
        body = []
        for r in rows:
            verdicts = []
            for y in years:
                found = [v for v in r.verdicts if v.year == y]
                verdicts.append(
                    " ".join(f"≥ {vn_number(v.target, 0)} %: {_(VERDICT_TEXT.get(v.state, v.state))}" for v in found)
                )
            body.append(
                [
                    r.label,
                    vn_number(r.estimate),
                    f"{vn_number(r.ci_low)}–{vn_number(r.ci_high)}",
                    vn_number(r.se, 2),
                    vn_number(r.n, 0),
                    vn_number(r.n_eff, 0),
                    *verdicts,
                    _flags(r.flag),
                ]
            )
        label_width = 5.2 * cm if not years else 4.2 * cm
        rest = (A4[0] - 3.6 * cm - label_width) / (len(header) - 1)
        self.table(header, body, [label_width, *([rest] * (len(header) - 1))])


def _bars(rows: Sequence[Row], width: float = 16 * cm) -> Drawing | None:
    """Horizontal bars of the estimates with their intervals (black on white: prints as shown)."""
    usable = [r for r in rows if r.estimate == r.estimate]
    if not usable:
        return None
    left, right, step = 5.5 * cm, 1.4 * cm, 14.0
    height = step * len(usable) + 18
    drawing = Drawing(width, height)

    def x(value: float) -> float:
        return left + (width - left - right) * max(0.0, min(100.0, value)) / 100

    for i, r in enumerate(usable):
        y = height - 10 - (i + 1) * step
        drawing.add(String(left - 4, y + 3, r.label[:38], fontName=REGULAR, fontSize=7, textAnchor="end"))
        drawing.add(
            Rect(left, y + 1, x(r.estimate) - left, step - 5, fillColor=colors.Color(0.6, 0.7, 0.8), strokeWidth=0)
        )
        if r.ci_low == r.ci_low and r.ci_high == r.ci_high:
            drawing.add(Line(x(r.ci_low), y + step / 2 - 1.5, x(r.ci_high), y + step / 2 - 1.5, strokeWidth=0.8))
        drawing.add(String(width - right + 3, y + 3, vn_number(r.estimate), fontName=REGULAR, fontSize=7))
    for tick in (0, 25, 50, 75, 100):
        drawing.add(String(x(tick), 2, str(tick), fontName=REGULAR, fontSize=6.5, textAnchor="middle"))
    return drawing


def annual_pdf(
    report: AnnualReport,
    *,
    province: str,
    years: Sequence[str],
    outcome_labels: dict[str, str],
) -> bytes:
    """The annual report of ``report`` as PDF bytes (A4, Vietnamese)."""
    with _render_lock:
        _register_fonts()
        return _annual_pdf(report, province=province, years=years, outcome_labels=outcome_labels)


def _annual_pdf(
    report: AnnualReport,
    *,
    province: str,
    years: Sequence[str],
    outcome_labels: dict[str, str],
) -> bytes:
    board = report.board
    s = board.snapshot
    b = _Builder()
    b.p(
        _(
            "Báo cáo kết quả khảo sát Chỉ số hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan "
            "hành chính nhà nước (SIPAS) — %(label)s",
            label=s.label,
        ),
        "title",
    )
    b.p(province)

    b.p(_("1. Mục đích và phương pháp"), "h2")
    b.p(method_sentence(board))
    if board.self_selected:
        b.p(
            _(
                "Số liệu kênh QR: người dân tự chọn trả lời tại quầy, không phải mẫu xác suất; quyền số hậu phân "
                "tầng theo số hồ sơ. Không dùng để kết luận đạt mục tiêu."
            )
        )
    else:
        b.p(
            _(
                "Mẫu xác suất: hồ sơ đã trả kết quả trong kỳ, phân tầng theo nơi tiếp nhận × nhóm lĩnh vực, chọn "
                "ngẫu nhiên không hoàn lại trong từng tầng; phỏng vấn do Bưu điện tỉnh thực hiện, phiếu được nhập "
                "hai lần độc lập."
            )
        )

    b.p(_("2. Mẫu và kết quả phỏng vấn"), "h2")
    b.p(_("Số phiếu dùng để tính: %(n)s.", n=vn_number(s.respondents, 0)))
    coverage = coverage_sentence(s)
    if coverage:
        b.p(coverage)
    aapor = s.report.get("aapor")
    if aapor:
        b.p(
            _(
                "Số hồ sơ đưa vào phỏng vấn: %(c)s; tỷ lệ trả lời AAPOR RR1: %(rr1)s %%; tỷ lệ hợp tác COOP1: "
                "%(coop)s %%; tỷ lệ từ chối REF1: %(ref)s %%; tỷ lệ liên lạc được CON1: %(con)s %%.",
                c=vn_number(s.report.get("cases_in_field"), 0),
                rr1=vn_number((aapor.get("rr1") or 0) * 100),
                coop=vn_number((aapor.get("coop1") or 0) * 100),
                ref=vn_number((aapor.get("ref1") or 0) * 100),
                con=vn_number((aapor.get("con1") or 0) * 100),
            )
        )
    outcomes = s.report.get("outcomes") or {}
    if outcomes:
        b.table(
            [_("Kết quả phỏng vấn"), _("Số hồ sơ")],
            [[outcome_labels.get(code, code), vn_number(n, 0)] for code, n in sorted(outcomes.items())],
        )

    b.p(_("3. Quyền số"), "h2")
    b.p(
        _(
            "Cỡ mẫu hiệu dụng Kish: %(neff)s; hiệu ứng thiết kế do quyền số: %(deff)s; quyền số nhỏ nhất %(lo)s, "
            "trung vị %(med)s, lớn nhất %(hi)s; số quyền số bị cắt: %(t)s.",
            neff=vn_number(s.report.get("kish_n_eff")),
            deff=vn_number(s.report.get("deff_w"), 3),
            lo=vn_number(s.report.get("weight_min"), 2),
            med=vn_number(s.report.get("weight_median"), 2),
            hi=vn_number(s.report.get("weight_max"), 2),
            t=vn_number(s.report.get("trimmed"), 0),
        )
    )

    b.p(_("4. Kết quả chung và so với mục tiêu"), "h2")
    b.estimates(board.overall, years)
    b.p(_("5. Theo nhóm lĩnh vực"), "h2")
    b.estimates(board.groups, years)
    b.p(_("6. Theo yếu tố và tiêu chí"), "h2")
    chart = _bars(board.elements)
    if chart is not None:
        b.story.append(chart)
    b.estimates(board.elements)
    b.estimates(board.items)
    b.p(_("7. Theo đặc điểm người trả lời"), "h2")
    if board.background:
        for bt in board.background:
            b.p(bt.title, "h3")
            header = ["", f"{board.index_code} (%)", _("KTC 95%"), "n", *bt.element_codes, _("Cảnh báo")]
            rows = [
                [
                    level.label,
                    vn_number(level.index.estimate),
                    f"{vn_number(level.index.ci_low)}–{vn_number(level.index.ci_high)}",
                    vn_number(level.index.n, 0),
                    *(vn_number(e.estimate) + ("*" if e.flag else "") for e in level.elements),
                    _flags(level.index.flag),
                ]
                for level in bt.levels
            ]
            b.table(header, rows)
        b.p(_("Dấu *: ô ít người trả lời hoặc không ổn định, đọc thận trọng."), "small")
    else:
        b.p(_("Lần tính này không có số liệu theo đặc điểm người trả lời."))
    b.p(_("8. Các nơi tiếp nhận"), "h2")
    b.estimates(board.places)

    b.p(_("9. Thay đổi so với kỳ trước"), "h2")
    if report.change is not None and report.previous is not None:
        b.p(
            _(
                "So với lần tính #%(n)s (%(label)s), hai mẫu độc lập.",
                n=report.previous.id,
                label=report.previous.label,
            )
        )
        b.table(
            [_("Miền"), _("Kỳ trước"), _("Kỳ này"), _("Chênh lệch (điểm %)"), _("KTC 95%"), "p"],
            [
                [
                    _("Chung") if r["domain"] == "all" else FIELD_GROUP_LABELS.get(str(r["domain"]), str(r["domain"])),
                    vn_number(r["estimate_a"]),
                    vn_number(r["estimate_b"]),
                    vn_number(r["difference"]),
                    f"{vn_number(r['ci_low'])}–{vn_number(r['ci_high'])}",
                    vn_number(r["p_value"], 3),
                ]
                for r in report.change.to_dict("records")
            ],
        )
    else:
        b.p(_("Chưa có lần tính của kỳ trước để so sánh."))

    b.p(_("10. Ý kiến của người dân"), "h2")
    b.p(
        _(
            "%(n)s ý kiến trong kỳ; %(k)s ý kiến gần nhất:",
            n=vn_number(report.comment_total, 0),
            k=len(report.comments),
        )
    )
    for c in report.comments:
        group = FIELD_GROUP_LABELS.get(str(c.get("field_group")), str(c.get("field_group")))
        b.p(f"• {c.get('text', '')} ({c.get('place', '')}, {group})", "small")

    b.p(_("Phụ lục: công thức và lần tính"), "h2")
    b.p(formula_sentence(board))
    b.p(
        _(
            "Lần tính quyền số số %(n)s, lúc %(at)s; mã băm dữ liệu vào %(h)s; tham số %(p)s; phần mềm %(sw)s.",
            n=s.id,
            at=format_datetime(s.created_at, "dd/MM/yyyy HH:mm"),  # the configured time zone, not UTC
            h=s.inputs_hash,
            p=json.dumps(s.parameters, sort_keys=True, ensure_ascii=False),  # JSONB reorders keys
            sw=json.dumps(s.software, sort_keys=True),
        ),
        "small",
    )

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.6 * cm,
        title=f"SIPAS — {s.label}",
        author=province,
        subject=f"#{s.id}",
        invariant=True,  # no time stamp or random id: the page and `flask report build` give the same bytes
    )
    doc.build(b.story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()


def annual_report_pdf(
    session: Session, snapshot: WeightingSnapshot, *, targets: dict[str, dict[str, float]], province: str
) -> tuple[bytes, str]:
    """The PDF of a snapshot's annual report and its file name (the page and
    ``flask report build`` write the same file)."""
    report = build_annual_report(session, snapshot, targets)
    body = annual_pdf(
        report,
        province=province,
        years=report.board.years,
        outcome_labels={code: label for code, (_d, label) in OUTCOMES.items()},
    )
    return body, f"sipas-quyen-so-{snapshot.id}-bao-cao-nam.pdf"


def _page_number(canvas: Any, doc: Any) -> None:
    canvas.saveState()
    canvas.setFont(REGULAR, 8)
    canvas.drawRightString(A4[0] - 1.8 * cm, 1.0 * cm, str(doc.page))
    canvas.restoreState()


def method_sentence(board: Any) -> str:
    """How the index is made, with the counts read from the questionnaire's index definition."""
    s = board.snapshot
    if board.aggregation == "elements":
        rule = _("chỉ số %(code)s là trung bình %(k)d chỉ số yếu tố.", code=board.index_code, k=board.n_elements)
    else:
        rule = _("chỉ số %(code)s là trung bình %(m)d tiêu chí.", code=board.index_code, m=board.n_items)
    return _(
        "Khảo sát đo mức độ hài lòng của người dân, tổ chức đã giải quyết thủ tục hành chính, theo %(k)d yếu tố "
        "và %(m)d tiêu chí của phiếu hỏi %(slug)s (phiên bản %(v)s). Tỷ lệ hài lòng của một tiêu chí là tỷ lệ có "
        "trọng số của câu trả lời “Hài lòng” hoặc “Rất hài lòng” trên số câu trả lời hợp lệ; chỉ số yếu tố là "
        "trung bình các tiêu chí của yếu tố; %(rule)s",
        k=board.n_elements,
        m=board.n_items,
        slug=s.questionnaire_slug,
        v=", ".join(map(str, s.versions)),
        rule=rule,
    )


def formula_sentence(board: Any) -> str:
    if board.aggregation == "elements":
        rule = _("Chỉ số %(code)s: trung bình %(k)d chỉ số yếu tố.", code=board.index_code, k=board.n_elements)
    else:
        rule = _("Chỉ số %(code)s: trung bình %(m)d tiêu chí.", code=board.index_code, m=board.n_items)
    return _(
        "Tỷ lệ hài lòng tiêu chí j: P_j = 100 · Σ w_i·1[x_ij ≥ 4] / Σ w_i·1[x_ij ∈ 1..5]. Chỉ số yếu tố: trung "
        "bình P_j của các tiêu chí trong yếu tố. %(rule)s Sai số chuẩn: tuyến tính hoá Taylor theo thiết kế; "
        "khoảng tin cậy 95 %% dạng logit; kết luận đạt/chưa đạt theo cả khoảng tin cậy.",
        rule=rule,
    )
