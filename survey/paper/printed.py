"""Printed material of a paper round: the pre-printed questionnaires of an interviewer's cases
and the interviewer's assignment sheet, as PDF.

Rendered with ReportLab (platypus for the flow of text and tables) and the DejaVu fonts
shipped in ``static/fonts``, as the QR posters are. Every page of a questionnaire carries its
serial twice: as text and as a QR code (the ``qrcode`` library's module matrix drawn as
vector squares), so a keyer can type or scan it from any loose sheet. The wording comes from
the questionnaire file (its Vietnamese labels); internal names — question codes, column names,
outcome keys — are never printed. Outcomes are written on paper as the numbers of
`PAPER_OUTCOMES`, each printed with its Vietnamese label and AAPOR disposition.

The documents are always in Vietnamese: they are handed to interviewers and citizens in Vietnam.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy.orm import Session

from survey.models import User
from survey.models.base import FIELD_GROUP_LABELS
from survey.models.paper import OUTCOMES
from survey.paper import queries
from survey.paper.fieldwork import log_pii_ids, may_see_personal_data
from survey.paper.keying_form import keyed_questions

#: The number an interviewer writes for each outcome (the order of `OUTCOMES`, fixed here so a
#: later change of the model's order never changes what printed forms mean).
PAPER_OUTCOMES: dict[int, str] = {
    1: "completed",
    2: "partial",
    3: "refused",
    4: "break_off",
    5: "not_reachable",
    6: "not_home",
    7: "language",
    8: "moved",
    9: "wrong_contact",
    10: "ineligible",
    11: "deceased",
}
assert set(PAPER_OUTCOMES.values()) == set(OUTCOMES), "every outcome needs its paper number"

#: Vietnamese names of the AAPOR dispositions printed beside the outcome codes.
DISPOSITION_LABELS = {
    "I": "phỏng vấn đầy đủ",
    "P": "phỏng vấn một phần",
    "R": "từ chối",
    "NC": "không tiếp xúc được",
    "O": "lý do khác",
    "UH": "chưa rõ đủ điều kiện",
    "UO": "chưa rõ đủ điều kiện",
    "NE": "không đủ điều kiện",
}

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
_REGULAR, _BOLD, _MONO = "SIPAS-Form-Sans", "SIPAS-Form-Sans-Bold", "SIPAS-Form-Mono-Bold"
_FONT_FILES = {_REGULAR: "DejaVuSans.ttf", _BOLD: "DejaVuSans-Bold.ttf", _MONO: "DejaVuSansMono-Bold.ttf"}
_fonts_lock = threading.Lock()
# ReportLab keeps per-document subsetting state on the shared TTFont objects: one document at a time.
_render_lock = threading.Lock()

_MARGIN = 1.5 * cm
_HEADER = 2.6 * cm  # room for the serial and its QR code at the top of every page
_QR_SIZE = 2.2 * cm
_GREY = colors.HexColor("#555555")
_LINE = colors.HexColor("#888888")

_TEXT = ParagraphStyle("text", fontName=_REGULAR, fontSize=9.5, leading=12)
_SMALL = ParagraphStyle("small", parent=_TEXT, fontSize=8, leading=10, textColor=_GREY)
_SMALL_BLACK = ParagraphStyle("small_black", parent=_TEXT, fontSize=8, leading=10)
_LABEL = ParagraphStyle("label", parent=_TEXT, fontName=_BOLD)
_TITLE = ParagraphStyle("title", parent=_TEXT, fontName=_BOLD, fontSize=12.5, leading=15.5, spaceAfter=4)
_SECTION = ParagraphStyle("section", parent=_TEXT, fontName=_BOLD, fontSize=10.5, leading=13, spaceBefore=8)


@dataclass(frozen=True)
class PrintedCase:
    """What is printed about one sampled case (None: left blank / not shown)."""

    case_id: int
    round_id: int
    serial: str
    dossier_code: str
    procedure: str | None  # "mã TTHC · tên" from the catalogue, the code alone, or None
    linh_vuc: str | None
    field_group: str  # Vietnamese label
    place: str
    result_date: date
    interviewer: str | None
    applicant: str | None = None  # personal data: only for who may see it
    phone: str | None = None
    address: str | None = None


#: Cases per printed file; an interviewer with more cases prints them in parts (`part`). A
#: sheet of 200 cases is a few landscape pages; 40 questionnaires are ≈ 120 pages, made in
#: seconds (ReportLab lays out every page: 200 questionnaires took two minutes on a loaded
#: 2-core machine, docs/benchmarks.md).
SHEET_PART = 200
FORMS_PART = 40


def printed_cases(
    session: Session, round_id: int, surveyor_id: int, *, personal_data: bool, part: int = 1, per_file: int = SHEET_PART
) -> list[PrintedCase]:
    """Part `part` (from 1, `per_file` cases each) of an interviewer's cases of a round still
    to interview, in the order of the assignment sheet, read with one query (place, procedure
    name and interviewer joined). The applicant's name, phone and address are included only
    when `personal_data` is true."""
    stmt = queries.printed_cases(round_id, surveyor_id).limit(per_file).offset((part - 1) * per_file)
    rows = session.execute(stmt).all()
    return [
        PrintedCase(
            case_id=r.case_id,
            round_id=round_id,
            serial=r.serial,
            dossier_code=r.dossier_code,
            procedure=(f"{r.procedure_code} · {r.procedure_name}" if r.procedure_name else r.procedure_code),
            linh_vuc=r.linh_vuc,
            field_group=FIELD_GROUP_LABELS.get(r.field_group, r.field_group),
            place=r.place,
            result_date=r.result_date,
            interviewer=r.interviewer,
            applicant=r.applicant_name if personal_data else None,
            phone=r.phone if personal_data else None,
            address=r.address if personal_data else None,
        )
        for r in rows
    ]


# --- fonts and small drawing helpers ---------------------------------------------------------


def _register_fonts() -> None:
    with _fonts_lock:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name, filename in _FONT_FILES.items():
            if name not in registered:
                path = FONT_DIR / filename
                if not path.is_file():
                    raise FileNotFoundError(f"bundled font missing: {path}")
                pdfmetrics.registerFont(TTFont(name, str(path)))


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vn_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


@functools.lru_cache(maxsize=256)
def _qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The QR symbol's modules (quiet zone included): computed once per serial, drawn on each
    of the form's pages."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code of `data` as vector squares in a `size`-wide square at (x, y) (lower
    left), the symbol inside a quiet zone of four modules (ISO/IEC 18004)."""
    matrix = _qr_matrix(data)
    module = size / len(matrix)
    canvas.saveState()
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    path = canvas.beginPath()
    for row, line in enumerate(matrix):
        for col, dark in enumerate(line):
            if dark:
                path.rect(x + col * module, y + size - (row + 1) * module, module, module)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


class _SerialMark(Flowable):
    """Zero-size marker at the start of a form: the pages after it carry this serial."""

    def __init__(self, serial: str) -> None:
        super().__init__()
        self.serial = serial
        self.width = self.height = 0

    def draw(self) -> None:
        doc = self.canv._doctemplate  # type: ignore[attr-defined]
        doc.serial, doc.form_page = self.serial, 0


class _Document(BaseDocTemplate):
    serial: str = ""
    form_page: int = 0


def _document(buffer: io.BytesIO, *, pagesize: tuple[float, float], title: str, on_page_end: Any) -> _Document:
    doc = _Document(
        buffer,
        pagesize=pagesize,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=title,
        author="SIPAS",
        creator="SIPAS",
        subject="Khảo sát Chỉ số hài lòng về sự phục vụ hành chính (SIPAS)",
        invariant=1,
    )
    width, height = pagesize
    frame = Frame(_MARGIN, _MARGIN, width - 2 * _MARGIN, height - 2 * _MARGIN - _HEADER, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=on_page_end)])
    return doc


def _outcome_legend() -> list[tuple[str, str]]:
    return [
        (str(n), f"{OUTCOMES[key][1]} ({DISPOSITION_LABELS[OUTCOMES[key][0]]}, AAPOR {OUTCOMES[key][0]})")
        for n, key in PAPER_OUTCOMES.items()
    ]


def _legend_table(width: float, columns: int = 2) -> Table:
    items = _outcome_legend()
    per_column = -(-len(items) // columns)
    rows = []
    for i in range(per_column):
        row: list[Any] = []
        for c in range(columns):
            k = c * per_column + i
            if k < len(items):
                row += [Paragraph(f"<b>{items[k][0]}</b>", _LABEL), Paragraph(_esc(items[k][1]), _SMALL)]
            else:
                row += ["", ""]
        rows.append(row)
    col = width / columns
    table = Table(rows, colWidths=[1.0 * cm, col - 1.0 * cm] * columns)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), _REGULAR)]))
    return table


# --- the pre-printed questionnaires ----------------------------------------------------------

FORM_TITLE = "Phiếu khảo sát giấy SIPAS"


def forms_pdf(cases: Sequence[PrintedCase], definition: dict[str, Any], *, round_name: str) -> bytes:
    """One pre-printed questionnaire per case (each starting on a new page), the serial as text
    and QR code at the top of every page, the case's details pre-filled from the frame, boxes
    for the interviewer, the interview date and the outcome code."""
    if not cases:
        raise ValueError("forms_pdf() needs at least one case: there is nothing to print")
    _register_fonts()
    width = A4[0] - 2 * _MARGIN

    def page_end(canvas: Canvas, doc: _Document) -> None:
        doc.form_page += 1
        top = A4[1] - _MARGIN
        draw_qr(canvas, doc.serial, A4[0] - _MARGIN - _QR_SIZE, top - _QR_SIZE, _QR_SIZE)
        canvas.setFont(_REGULAR, 8)
        canvas.setFillColor(_GREY)
        canvas.drawString(_MARGIN, top - 9, f"{FORM_TITLE} · {round_name}")
        canvas.setFillColor(colors.black)
        canvas.setFont(_BOLD, 10)
        canvas.drawString(_MARGIN, top - 26, "Số phiếu:")
        canvas.setFont(_MONO, 18)
        canvas.drawString(_MARGIN + 2.0 * cm, top - 28, doc.serial)
        canvas.setFont(_REGULAR, 8)
        canvas.drawString(_MARGIN, top - 44, f"Trang {doc.form_page} của phiếu {doc.serial}")
        canvas.setStrokeColor(_LINE)
        canvas.line(_MARGIN, top - _HEADER + 0.3 * cm, A4[0] - _MARGIN, top - _HEADER + 0.3 * cm)

    story: list[Flowable] = []
    sections = keyed_questions(definition)
    title = definition.get("title", {}).get("vi", FORM_TITLE)
    for i, case in enumerate(cases):
        if i:
            story.append(PageBreak())
        story.append(_SerialMark(case.serial))
        story.append(Paragraph(_esc(title), _TITLE))
        story.append(_case_box(case, width))
        story.append(Spacer(0, 6))
        story.append(_interviewer_box(case, width))
        story += _questions(sections, definition, case, width)
    buffer = io.BytesIO()
    with _render_lock:
        doc = _document(buffer, pagesize=A4, title=f"{FORM_TITLE} · {round_name}", on_page_end=page_end)
        doc.build(story)
    return buffer.getvalue()


def _box(rows: list[list[Any]], widths: list[float], *, heading: str) -> Table:
    table = Table([[Paragraph(_esc(heading), _LABEL), ""], *rows], colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("SPAN", (0, 0), (-1, 0)),
                ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 1), (-1, -2), 0.3, _LINE),
            ]
        )
    )
    return table


def _case_box(case: PrintedCase, width: float) -> Table:
    procedure = case.procedure or "–"
    if case.linh_vuc:
        procedure = f"{procedure} (lĩnh vực {case.linh_vuc})" if case.procedure else f"Lĩnh vực {case.linh_vuc}"
    rows = [
        ("Mã hồ sơ", case.dossier_code),
        ("Thủ tục hành chính", procedure),
        ("Nhóm lĩnh vực", case.field_group),
        ("Nơi tiếp nhận", case.place),
        ("Ngày trả kết quả", _vn_date(case.result_date)),
    ]
    if case.applicant:
        rows.append(("Người làm thủ tục", case.applicant))
    return _box(
        [[Paragraph(_esc(k), _TEXT), Paragraph(_esc(v), _LABEL)] for k, v in rows],
        [4.2 * cm, width - 4.2 * cm],
        heading="Thông tin hồ sơ (in sẵn từ danh sách hồ sơ)",
    )


def _interviewer_box(case: PrintedCase, width: float) -> KeepTogether:
    blank = "." * 60
    rows = [
        [Paragraph("Điều tra viên", _TEXT), Paragraph(_esc(case.interviewer or blank), _LABEL)],
        [Paragraph("Ngày phỏng vấn", _TEXT), Paragraph("....... / ....... / 20.......", _TEXT)],
        [Paragraph("Mã kết quả liên hệ", _TEXT), Paragraph(f"[{'&nbsp;' * 6}]  (ghi một số ở bảng dưới)", _TEXT)],
    ]
    box = _box(rows, [4.2 * cm, width - 4.2 * cm], heading="Dành cho điều tra viên")
    return KeepTogether([box, Spacer(0, 3), _legend_table(width), Spacer(0, 4)])


def _prefilled(question: Any, definition: dict[str, Any], case: PrintedCase) -> str | None:
    """The answer known from the frame for a question the paper still asks (the procedure
    code, the result date): printed in its box so the keyer copies it."""
    for section in definition["sections"]:
        for q in section["questions"]:
            if q["code"] == question.code:
                if q.get("field") == "procedure_code":
                    return case.procedure.split(" · ")[0] if case.procedure else None
                if q["type"] == "date" and q.get("code") == "ngay_tra_ket_qua":
                    return _vn_date(case.result_date)
    return None


def _questions(sections: list[Any], definition: dict[str, Any], case: PrintedCase, width: float) -> list[Flowable]:
    """The questions in the paper's order, numbered 1, 2, 3… (never by internal code); a scale
    question has its codes as boxes to tick, a closed question its numbered options."""
    story: list[Flowable] = []
    number = 0
    for section, items in sections:
        story.append(CondPageBreak(3 * cm))
        story.append(Paragraph(_esc(section["title"]["vi"]), _SECTION))
        if section.get("help"):
            story.append(Paragraph(_esc(section["help"]["vi"]), _SMALL))
        scale_rows: list[list[Any]] = []
        scale_legend = ""
        for question in items:
            number += 1
            label = Paragraph(f"{number}. {_esc(question.label)}", _TEXT)
            if question.type == "scale":
                codes = list(question.keys)
                scale_legend = question.legend
                scale_rows.append([label, *[f"□ {c}" for c in codes]])
                continue
            if scale_rows:
                story += _scale_table(scale_rows, scale_legend, width)
                scale_rows = []
            if question.type == "choice":
                options = "&nbsp;&nbsp;&nbsp; ".join(
                    "□&nbsp;" + _esc(part).replace(" ", "&nbsp;") for part in question.legend.split(" · ")
                )
                story.append(KeepTogether([label, Paragraph(options, _TEXT), Spacer(0, 3)]))
            else:
                value = _prefilled(question, definition, case)
                lines = 3 if question.type == "text" else 1
                filler = _esc(value) if value else "." * 110
                rest = "<br/>" + "<br/>".join("." * 110 for _ in range(lines - 1)) if lines > 1 else ""
                story.append(KeepTogether([label, Paragraph(filler + rest, _TEXT), Spacer(0, 3)]))
        if scale_rows:
            story += _scale_table(scale_rows, scale_legend, width)
    return story


def _scale_table(rows: list[list[Any]], legend: str, width: float) -> list[Flowable]:
    n = len(rows[0]) - 1
    box = 1.05 * cm
    table = Table(rows, colWidths=[width - n * box] + [box] * n, repeatRows=0)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _REGULAR),
                ("FONTSIZE", (1, 0), (-1, -1), 9),
                ("ALIGN", (1, 0), (-1, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, _LINE),
            ]
        )
    )
    # The legend of the codes above the boxes, kept with the first rows when the table splits.
    return [CondPageBreak(3 * cm), Paragraph(_esc(legend), _SMALL), Spacer(0, 2), table]


# --- the assignment sheet --------------------------------------------------------------------

SHEET_TITLE = "Bảng phân công phỏng vấn"
_SHEET_CHUNK = 10  # rows per table of the sheet


def assignment_sheet_pdf(cases: Sequence[PrintedCase], *, round_name: str, interviewer: str) -> bytes:
    """The interviewer's list (landscape A4, the header row repeated on every page): serial,
    place, procedure, result date, dossier code, the citizen's contact details where they may
    be shown, and blank boxes for the outcome code and the interview date; the outcome codes
    to write are printed under the list."""
    _register_fonts()
    pagesize = landscape(A4)
    width = pagesize[0] - 2 * _MARGIN
    personal = any(c.applicant or c.phone or c.address for c in cases)

    def page_end(canvas: Canvas, doc: _Document) -> None:
        top = pagesize[1] - _MARGIN
        canvas.setFont(_BOLD, 12)
        canvas.drawString(_MARGIN, top - 12, f"{SHEET_TITLE}: {interviewer}")
        canvas.setFont(_REGULAR, 9)
        canvas.drawString(_MARGIN, top - 28, f"{round_name} · {len(cases)} trường hợp")
        canvas.drawRightString(pagesize[0] - _MARGIN, top - 12, f"Trang {doc.page}")

    header = ["#", "Số phiếu", "Nơi tiếp nhận", "Thủ tục hành chính", "Ngày trả kết quả", "Mã hồ sơ"]
    widths = [0.8, 2.2, 3.2, 5.0, 2.1, 2.6]
    if personal:
        header += ["Người làm thủ tục", "Điện thoại / địa chỉ"]
        widths += [3.0, 0.0]  # the rest of the width
    header += ["Mã kết quả", "Ngày phỏng vấn"]
    widths += [1.5, 2.0]
    widths_cm = [w * cm for w in widths]
    if personal:
        widths_cm[7] = width - sum(widths_cm)
    else:
        widths_cm[3] += width - sum(widths_cm)
    rows: list[list[Any]] = [[Paragraph(h, _LABEL) for h in header]]
    for i, case in enumerate(cases, start=1):
        row: list[Any] = [
            str(i),
            case.serial,
            Paragraph(_esc(case.place), _TEXT),
            Paragraph(_esc(case.procedure or (f"Lĩnh vực {case.linh_vuc}" if case.linh_vuc else "–")), _TEXT),
            _vn_date(case.result_date),
            Paragraph(_esc(case.dossier_code), _SMALL_BLACK),
        ]
        if personal:
            contact = "<br/>".join(_esc(v) for v in (case.phone, case.address) if v)
            row += [Paragraph(_esc(case.applicant or ""), _TEXT), Paragraph(contact, _TEXT)]
        rows.append([*row, "", ""])
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), _REGULAR),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("FONTNAME", (1, 1), (1, -1), _MONO),
            ("GRID", (0, 0), (-1, -1), 0.4, _LINE),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    # Tables of a few rows, each with the header: ReportLab splits one long table page by page
    # at a cost that grows with its length (minutes for a few thousand rows).
    tables: list[Flowable] = []
    for start in range(1, len(rows), _SHEET_CHUNK):
        table = Table([rows[0], *rows[start : start + _SHEET_CHUNK]], colWidths=widths_cm, repeatRows=1)
        table.setStyle(style)
        tables.append(table)
    story: list[Flowable] = [
        *tables,
        Spacer(0, 8),
        KeepTogether(
            [Paragraph("Mã kết quả liên hệ (ghi một số vào cột “Mã kết quả”)", _LABEL), _legend_table(width, 3)]
        ),
    ]
    if not cases:
        story = [Paragraph("Chưa có trường hợp nào được giao.", _TEXT)]
    buffer = io.BytesIO()
    with _render_lock:
        doc = _document(buffer, pagesize=pagesize, title=f"{SHEET_TITLE} · {interviewer}", on_page_end=page_end)
        doc.build(story)
    return buffer.getvalue()


def printable_cases(
    session: Session, user: User, round_id: int, surveyor_id: int, purpose: str, part: int, per_file: int
) -> list[PrintedCase]:
    """A part of the cases an interviewer is to print, with personal data only when `user` may
    see it (`fieldwork.may_see_personal_data`); a view of personal data is logged (one row)."""
    personal = may_see_personal_data(user, surveyor_id)
    cases = printed_cases(session, round_id, surveyor_id, personal_data=personal, part=part, per_file=per_file)
    if personal and any(c.applicant or c.phone or c.address for c in cases):
        log_pii_ids(session, user, round_id, [c.case_id for c in cases], purpose)
    return cases


@dataclass(frozen=True)
class PrintPart:
    """One file to print: its number, the first and last row of the sheet it covers."""

    number: int
    first: int
    last: int


def print_parts(n_cases: int) -> dict[str, list[PrintPart]]:
    """The files an interviewer's `n_cases` cases print in: sheets and questionnaires."""
    return {
        kind: [
            PrintPart(k + 1, start + 1, min(start + size, n_cases)) for k, start in enumerate(range(0, n_cases, size))
        ]
        for kind, size in (("sheet", SHEET_PART), ("forms", FORMS_PART))
    }


__all__ = [
    "FORMS_PART",
    "PAPER_OUTCOMES",
    "SHEET_PART",
    "PrintPart",
    "PrintedCase",
    "assignment_sheet_pdf",
    "draw_qr",
    "forms_pdf",
    "print_parts",
    "printable_cases",
    "printed_cases",
]
