"""Printable QR-code posters for survey entry points (counters, one-stop centres, communes).

A pure module: no Flask, no database. It turns a :class:`PosterSpec` into

* :func:`qr_png` / :func:`qr_svg` — the bare QR code (for the admin UI, stickers, own layouts);
* :func:`posters_pdf` — one A4 or A5 poster per spec, ready to print and put up next to a counter.

QR codes are made by the ``qrcode`` library with error-correction level Q (25 % of the symbol may be
dirty, glared or torn and it still scans), and on the poster the symbol is drawn as vector paths from
the library's module matrix so it stays sharp at any print size. The poster symbol (without its quiet
zone) is at least 9 cm wide on A4 and 6.5 cm on A5, so a phone reads it from about one metre.

Vietnamese text needs a Unicode TrueType font: the DejaVu fonts are shipped in ``static/fonts`` (see
``LICENSE-DejaVu.txt`` there) so nothing depends on the fonts installed on the server.
"""

from __future__ import annotations

import io
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import qrcode
import qrcode.constants
import qrcode.image.svg
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = ["PAGE_SIZES", "PDF_TITLE", "PosterSpec", "posters_pdf", "qr_png", "qr_svg"]

PDF_TITLE = "Áp phích mã QR khảo sát SIPAS"

#: Supported poster sizes, in PDF points (portrait).
PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": A4, "A5": A5}

#: Smallest printed width of the QR symbol (dark modules, quiet zone excluded) per page size.
MIN_QR_WIDTH: dict[str, float] = {"A4": 9.0 * cm, "A5": 6.5 * cm}

_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
_QUIET_ZONE = 4  # modules, as required by ISO/IEC 18004

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
_FONT_FILES = {
    "SIPAS-DejaVuSans": "DejaVuSans.ttf",
    "SIPAS-DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "SIPAS-DejaVuSansMono-Bold": "DejaVuSansMono-Bold.ttf",
}
_REGULAR, _BOLD, _MONO = _FONT_FILES

_DARK_RED = HexColor("#8B1A1A")
_BLACK = HexColor("#111111")
_GREY = HexColor("#444444")
_LIGHT_GREY = HexColor("#9A9A9A")

# Centrally-run cities are headed "THÀNH PHỐ …", every other provincial unit "TỈNH …".
_CENTRAL_CITIES = frozenset({"hà nội", "hồ chí minh", "hải phòng", "đà nẵng", "cần thơ", "huế"})

_TITLE = "Ông/Bà hài lòng với sự phục vụ hôm nay?"
_SUBTITLE = "Quét mã QR để đánh giá"
_SUBTITLE_TIMED = "Quét mã QR để đánh giá trong khoảng {minutes} phút"
_STEPS = (
    "Mở camera điện thoại và quét mã.",
    "Trả lời các câu hỏi.",
    "Bấm “Gửi phiếu” — không cần họ tên, số điện thoại.",
)
_ANSWER_TIMED = "Trả lời các câu hỏi (khoảng {minutes} phút)."


def _subtitle_and_steps(minutes: int | None) -> tuple[str, tuple[str, ...]]:
    """The time promised is the questionnaire's measured answering time (``answer_minutes`` in
    its file); a questionnaire without a measured time promises none."""
    if minutes is None:
        return _SUBTITLE, _STEPS
    return _SUBTITLE_TIMED.format(minutes=minutes), (_STEPS[0], _ANSWER_TIMED.format(minutes=minutes), _STEPS[2])


_FALLBACK_LABEL = "Hoặc nhập địa chỉ:"
_FIELDS_LABEL = "Lĩnh vực:"
_FOOTER = (
    "Khảo sát ẩn danh: phiếu không hỏi họ tên, số điện thoại hay giấy tờ tùy thân. "
    "Ý kiến của Ông/Bà chỉ được dùng để tổng hợp chỉ số hài lòng với dịch vụ công "
    "(hành chính, y tế, giáo dục — theo phiếu của quầy); "
    "dữ liệu cá nhân được bảo vệ theo Nghị định 13/2023/NĐ-CP."
)

# --------------------------------------------------------------------------------------------------
# Public data type
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterSpec:
    """Everything printed on one poster."""

    province: str  # e.g. "Bắc Ninh"
    place_name: str  # e.g. "Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh" or "Phường Kinh Bắc"
    counter_name: str  # e.g. "Quầy Đất đai"
    url: str  # the full URL encoded in the QR code
    typed_address: str  # what a citizen can type instead, e.g. "sipas.bacninh.gov.vn/q/ABCD-2EFG-…"
    field_groups: tuple[str, ...] = ()  # Vietnamese labels of the field groups served, may be empty
    minutes: int | None = None  # the questionnaire's measured answering time, printed when known

    def __post_init__(self) -> None:
        for name in ("province", "place_name", "counter_name", "url", "typed_address"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"PosterSpec.{name} must be a non-empty string, got {value!r}")
        groups = self.field_groups
        if isinstance(groups, str) or not all(isinstance(g, str) for g in groups):
            raise ValueError(f"PosterSpec.field_groups must be a sequence of strings, got {groups!r}")
        if not isinstance(groups, tuple):
            object.__setattr__(self, "field_groups", tuple(groups))


# --------------------------------------------------------------------------------------------------
# Bare QR codes
# --------------------------------------------------------------------------------------------------


def _qr(url: str, *, box_size: int = 10, border: int = _QUIET_ZONE, image_factory=None) -> qrcode.QRCode:
    if not isinstance(url, str) or not url:
        raise ValueError("the QR code URL must be a non-empty string")
    if box_size < 1:
        raise ValueError(f"box_size must be at least 1, got {box_size}")
    if border < 0:
        raise ValueError(f"border must be 0 or more, got {border}")
    qr = qrcode.QRCode(
        error_correction=_ERROR_CORRECTION, box_size=box_size, border=border, image_factory=image_factory
    )
    qr.add_data(url)
    qr.make(fit=True)
    return qr


def qr_png(url: str, *, box_size: int = 10, border: int = 4) -> bytes:
    """The QR code for ``url`` as PNG bytes (black on white, ``box_size`` pixels per module)."""
    image = _qr(url, box_size=box_size, border=border).make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    """The QR code for ``url`` as a standalone SVG document (one ``<path>``, white background, 1 mm per module)."""
    image = _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------------------------------

_fonts_lock = threading.Lock()
_fonts_ready = False

# ReportLab keeps per-document font subsetting state on the shared TTFont objects; rendering posters is
# rare and quick, so one lock around the whole rendering is the simple way to stay safe in threaded workers.
_render_lock = threading.Lock()


def _register_fonts() -> None:
    """Register the bundled DejaVu fonts with ReportLab once per process."""
    global _fonts_ready
    if _fonts_ready:
        return
    with _fonts_lock:
        if _fonts_ready:
            return
        for name, filename in _FONT_FILES.items():
            path = FONT_DIR / filename
            if not path.is_file():
                raise FileNotFoundError(f"bundled font missing: {path}")
            pdfmetrics.registerFont(TTFont(name, str(path)))
        _fonts_ready = True


def _width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


def _has_glyphs(font: str, text: str) -> bool:
    face = pdfmetrics.getFont(font).face
    return all(ord(ch) in face.charToGlyph for ch in text if not ch.isspace())


# --------------------------------------------------------------------------------------------------
# Text layout helpers
# --------------------------------------------------------------------------------------------------


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _province_heading(province: str) -> str:
    name = _nfc(province)
    lowered = name.casefold()
    for prefix in ("tỉnh ", "thành phố ", "tp. ", "tp "):
        if lowered.startswith(prefix):
            rest = name[len(prefix) :].strip()
            kind = "TỈNH" if prefix == "tỉnh " else "THÀNH PHỐ"
            return _nfc(f"{kind} {rest.upper()}")
    kind = "THÀNH PHỐ" if lowered in _CENTRAL_CITIES else "TỈNH"
    return _nfc(f"{kind} {name.upper()}")


def _break_word(word: str, font: str, size: float, max_width: float) -> list[str]:
    """Split a single word that is wider than the line into line-sized pieces."""
    pieces, current = [], ""
    for ch in word:
        if current and _width(current + ch, font, size) > max_width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def _ellipsize(line: str, font: str, size: float, max_width: float) -> str:
    line = line.rstrip()
    while line and _width(line + "…", font, size) > max_width:
        line = line[:-1].rstrip()
    return line + "…"


def _wrap(text: str, font: str, size: float, max_width: float, max_lines: int | None = None) -> list[str]:
    """Greedy word wrap; words wider than a line are broken; overflow beyond ``max_lines`` is ellipsized."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _width(candidate, font, size) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if _width(word, font, size) <= max_width:
            current = word
        else:
            *full, current = _break_word(word, font, size, max_width)
            lines.extend(full)
    if current:
        lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _ellipsize(lines[max_lines - 1], font, size, max_width)]
    return lines or [""]


@dataclass
class _Block:
    """A centred run of lines in one font, with its own leading."""

    lines: list[str]
    font: str
    size: float
    color: Color
    leading: float

    @property
    def height(self) -> float:
        return self.leading * len(self.lines)


def _block(text, font, size, color, max_width, *, max_lines=None, leading=1.22, min_size=None) -> _Block:
    """Wrap ``text``; if ``min_size`` is given, first shrink the font (down to it) to keep fewer lines."""
    if min_size is not None:
        target = len(_wrap(text, font, min_size, max_width))
        while size > min_size and len(_wrap(text, font, size, max_width)) > target:
            size = max(min_size, size - 1)
    lines = _wrap(text, font, size, max_width, max_lines)
    return _Block(lines, font, size, color, size * leading)


def _wrap_address(address: str, font: str, size: float, max_width: float) -> list[str]:
    """Wrap an address after '/', '-' or '.' (never truncate it, never insert characters)."""
    tokens = [t for t in re.split(r"(?<=[/.\-])", address) if t]
    lines: list[str] = []
    current = ""
    for token in tokens:
        if _width(current + token, font, size) <= max_width:
            current += token
            continue
        if current:
            lines.append(current)
        *full, current = _break_word(token, font, size, max_width)
        lines.extend(full)
    if current:
        lines.append(current)
    return lines


def _fit_size(text: str, font: str, size: float, min_size: float, max_width: float) -> float:
    """The largest size ≤ ``size`` (in 0.5 pt steps, not below ``min_size``) at which ``text`` fits in one line."""
    while size > min_size and _width(text, font, size) > max_width:
        size = max(min_size, size - 0.5)
    return size


# --------------------------------------------------------------------------------------------------
# Poster rendering
# --------------------------------------------------------------------------------------------------


class _Poster:
    """Lays out and draws one poster on the current page of ``canvas``."""

    def __init__(self, canvas: Canvas, spec: PosterSpec, size: str, *, compact: float) -> None:
        self.c = canvas
        self.spec = spec
        self.page_w, self.page_h = PAGE_SIZES[size]
        self.s = self.page_w / A4[0]  # A5 is A4 scaled by 1/√2
        self.min_qr = MIN_QR_WIDTH[size]
        self.max_qr = (10.5 if size == "A4" else 7.4) * cm
        self.compact = compact  # 1.0 = normal type; smaller shrinks the variable-length text to make room
        self.margin = 40 * self.s
        self.text_w = self.page_w - 2 * self.margin

    # ---- layout -----------------------------------------------------------------------------------

    def layout(self) -> bool:
        """Build the text blocks and size the QR code; False if the QR code would be too small."""
        s, k, w = self.s, self.compact, self.text_w
        spec = self.spec
        self.qr = _qr(spec.url, border=0)
        self.modules = self.qr.modules_count

        self.province = _block(_province_heading(spec.province), _BOLD, 13 * s, _DARK_RED, w, max_lines=2)
        self.place = _block(
            _nfc(spec.place_name), _BOLD, 16 * s * k, _BLACK, w, max_lines=max(2, round(5 * k)), min_size=13 * s * k
        )
        self.counter = _block(
            _nfc(spec.counter_name), _BOLD, 30 * s * k, _DARK_RED, w, max_lines=2, min_size=20 * s * k, leading=1.15
        )
        self.title = _block(_TITLE, _BOLD, 20 * s, _BLACK, w, max_lines=2, min_size=15 * s)
        subtitle, steps = _subtitle_and_steps(spec.minutes)
        self.subtitle = _block(subtitle, _REGULAR, 14 * s, _GREY, w, max_lines=2, min_size=11 * s)

        # Numbered steps: a dark-red disc with the number, text wrapped with a hanging indent.
        self.step_size = 12.5 * s
        self.step_leading = self.step_size * 1.5
        self.step_indent = self.step_size * 2.0
        step_w = min(w, 430 * s) - self.step_indent
        self.steps = [_wrap(step, _REGULAR, self.step_size, step_w, 2) for step in steps]
        self.steps_w = self.step_indent + max(
            _width(line, _REGULAR, self.step_size) for st in self.steps for line in st
        )
        steps_h = sum(len(st) for st in self.steps) * self.step_leading

        # Typed address: monospace, as large as fits on one line, otherwise wrapped.
        address = _nfc(spec.typed_address)
        self.addr_font = _MONO if _has_glyphs(_MONO, address) else _BOLD
        box_pad = 10 * s
        addr_size = _fit_size(address, self.addr_font, 18 * s, 10 * s, w - 2 * box_pad)
        lines = _wrap_address(address, self.addr_font, addr_size, w - 2 * box_pad)
        self.address = _Block(lines, self.addr_font, addr_size, _BLACK, addr_size * 1.3)
        self.addr_box_w = max(_width(line, self.addr_font, addr_size) for line in self.address.lines) + 2 * box_pad
        self.addr_box_h = self.address.height + box_pad
        self.fallback = _block(_FALLBACK_LABEL, _REGULAR, 12 * s, _GREY, w)

        groups = [_nfc(g) for g in spec.field_groups if g.strip()]
        self.fields = None
        if groups:
            text = f"{_FIELDS_LABEL} {', '.join(groups)}"
            self.fields = _block(text, _REGULAR, 12 * s * k, _BLACK, w, max_lines=2)

        self.footer = _block(_FOOTER, _REGULAR, 8 * s, _GREY, w, max_lines=4, leading=1.3)

        # Fixed gaps between blocks (the QR code gets the rest of the height).
        g = 10 * s
        header_h = self.province.height + 2 + self.place.height + 2 * g
        middle_h = self.counter.height + g + self.title.height + 3 + self.subtitle.height
        below_h = (
            steps_h
            + g * 1.2
            + self.fallback.height
            + 2
            + self.addr_box_h
            + (g * 0.8 + self.fields.height if self.fields else 0)
        )
        footer_h = self.footer.height + 1.8 * g
        self.top = self.page_h - self.margin - 4 * s
        self.bottom = self.margin
        fixed = header_h + middle_h + below_h + footer_h
        # Around the QR code: its quiet zone on each side plus a gap above/below it.
        free = self.top - self.bottom - fixed - 2 * g

        def qr_total(symbol: float) -> float:
            return symbol * (self.modules + 2 * _QUIET_ZONE) / self.modules

        symbol = min(self.max_qr, self.text_w * self.modules / (self.modules + 2 * _QUIET_ZONE))
        while symbol > self.min_qr and qr_total(symbol) > free:
            symbol -= 1
        if qr_total(symbol) > free or symbol < self.min_qr:
            return False
        self.qr_symbol = symbol
        self.qr_total = qr_total(symbol)
        slack = free - self.qr_total
        # Spread leftover height: a little between header parts, most around the QR code.
        self.gap = g
        self.extra = slack / 5
        self.header_h, self.middle_h, self.below_h = header_h, middle_h, below_h
        return True

    # ---- drawing ----------------------------------------------------------------------------------

    def _lines(self, block: _Block, y_top: float) -> float:
        """Draw ``block`` centred with its first line's top at ``y_top``; return the y below it."""
        c = self.c
        c.setFont(block.font, block.size)
        c.setFillColor(block.color)
        y = y_top
        for line in block.lines:
            baseline = y - block.leading + (block.leading - block.size) / 2 + block.size * 0.22
            c.drawCentredString(self.page_w / 2, baseline, line)
            y -= block.leading
        return y

    def _frame(self) -> None:
        c, s = self.c, self.s
        inset = 18 * s
        c.setStrokeColor(_DARK_RED)
        c.setLineWidth(2.2 * s)
        c.rect(inset, inset, self.page_w - 2 * inset, self.page_h - 2 * inset)
        c.setLineWidth(0.6 * s)
        c.rect(inset + 4 * s, inset + 4 * s, self.page_w - 2 * inset - 8 * s, self.page_h - 2 * inset - 8 * s)

    def _rule(self, y: float, width: float, color: Color = _DARK_RED, line_width: float = 1.2) -> None:
        c = self.c
        c.setStrokeColor(color)
        c.setLineWidth(line_width * self.s)
        c.line((self.page_w - width) / 2, y, (self.page_w + width) / 2, y)

    def _qr_code(self, y_top: float) -> float:
        """Draw the QR code (vector modules) with its quiet zone, top edge at ``y_top``; return the y below it."""
        c, s = self.c, self.s
        n = self.modules
        module = self.qr_symbol / n
        total = self.qr_total
        x0 = (self.page_w - total) / 2
        y0 = y_top - total
        # Thin dark-red frame at the outer edge of the quiet zone marks where to aim the camera.
        c.setFillColor(white)
        c.setStrokeColor(_DARK_RED)
        c.setLineWidth(1.0 * s)
        c.roundRect(x0, y0, total, total, 6 * s, stroke=1, fill=1)
        # One path, one rectangle per horizontal run of dark modules: no seams between modules.
        left = x0 + _QUIET_ZONE * module
        top = y_top - _QUIET_ZONE * module
        path = c.beginPath()
        for row, cells in enumerate(self.qr.modules):
            col = 0
            while col < n:
                if not cells[col]:
                    col += 1
                    continue
                start = col
                while col < n and cells[col]:
                    col += 1
                path.rect(left + start * module, top - (row + 1) * module, (col - start) * module, module)
        c.setFillColor(_BLACK)
        c.drawPath(path, stroke=0, fill=1)
        return y0

    def _steps(self, y_top: float) -> float:
        c = self.c
        size, leading, indent = self.step_size, self.step_leading, self.step_indent
        x = (self.page_w - self.steps_w) / 2
        y = y_top
        radius = size * 0.68
        for number, lines in enumerate(self.steps, start=1):
            baseline = y - leading + (leading - size) / 2 + size * 0.22
            cx, cy = x + radius, baseline + size * 0.36
            c.setFillColor(_DARK_RED)
            c.circle(cx, cy, radius, stroke=0, fill=1)
            c.setFillColor(white)
            c.setFont(_BOLD, size * 0.9)
            c.drawCentredString(cx, cy - size * 0.32, str(number))
            c.setFillColor(_BLACK)
            c.setFont(_REGULAR, size)
            for line in lines:
                baseline = y - leading + (leading - size) / 2 + size * 0.22
                c.drawString(x + indent, baseline, line)
                y -= leading
        return y

    def _address(self, y_top: float) -> float:
        c, s = self.c, self.s
        box_w, box_h = self.addr_box_w, self.addr_box_h
        x0 = (self.page_w - box_w) / 2
        c.setStrokeColor(_LIGHT_GREY)
        c.setLineWidth(0.8 * s)
        c.roundRect(x0, y_top - box_h, box_w, box_h, 5 * s, stroke=1, fill=0)
        self._lines(self.address, y_top - (box_h - self.address.height) / 2)
        return y_top - box_h

    def _fields(self, y_top: float) -> float:
        block = self.fields
        assert block is not None
        if len(block.lines) == 1 and block.lines[0].startswith(_FIELDS_LABEL):
            # One line: bold label, regular list.
            c = self.c
            label, rest = _FIELDS_LABEL + " ", block.lines[0][len(_FIELDS_LABEL) + 1 :]
            lw, rw = _width(label, _BOLD, block.size), _width(rest, _REGULAR, block.size)
            x = (self.page_w - lw - rw) / 2
            baseline = y_top - block.leading + (block.leading - block.size) / 2 + block.size * 0.22
            c.setFillColor(_DARK_RED)
            c.setFont(_BOLD, block.size)
            c.drawString(x, baseline, label)
            c.setFillColor(_BLACK)
            c.setFont(_REGULAR, block.size)
            c.drawString(x + lw, baseline, rest)
            return y_top - block.leading
        return self._lines(block, y_top)

    def draw(self) -> None:
        g, e, s = self.gap, self.extra, self.s
        self._frame()
        y = self.top
        y = self._lines(self.province, y) - 2
        y = self._lines(self.place, y)
        y -= g + e * 0.5
        self._rule(y, 70 * s)
        y -= g + e * 0.5
        y = self._lines(self.counter, y) - g
        y = self._lines(self.title, y) - 3
        y = self._lines(self.subtitle, y)
        y -= g + e * 1.5
        y = self._qr_code(y)
        y -= g + e * 1.5
        y = self._steps(y) - g * 1.2
        y = self._lines(self.fallback, y) - 2
        y = self._address(y)
        if self.fields is not None:
            y = self._fields(y - g * 0.8)
        # Footer sits on the bottom margin, with a thin rule above it.
        footer_top = self.bottom + self.footer.height
        self._rule(footer_top + g * 0.8, self.text_w * 0.6, _LIGHT_GREY, 0.6)
        self._lines(self.footer, footer_top)
        if y < footer_top + 1.8 * g - 0.5:  # pragma: no cover - guarded by layout()
            raise AssertionError("poster layout overflow")


def _draw_poster(canvas: Canvas, spec: PosterSpec, size: str) -> None:
    compact = 1.0
    while True:
        poster = _Poster(canvas, spec, size, compact=compact)
        if poster.layout():
            poster.draw()
            return
        if compact <= 0.6:
            raise ValueError(
                f"poster text for {spec.counter_name!r} is too long to fit on {size} with a readable QR code"
            )
        compact = round(compact - 0.1, 2)


def posters_pdf(specs: Sequence[PosterSpec], *, size: str = "A4") -> bytes:
    """Render one poster per spec (in order) into a single PDF; ``size`` is "A4" or "A5" (portrait).

    The output is deterministic: the same specs give byte-identical PDFs.
    """
    key = size.upper() if isinstance(size, str) else size
    if key not in PAGE_SIZES:
        raise ValueError(f"unknown poster size {size!r}; expected one of {', '.join(PAGE_SIZES)}")
    specs = list(specs)
    if not specs:
        raise ValueError("posters_pdf() needs at least one PosterSpec: there is nothing to print")
    for spec in specs:
        if not isinstance(spec, PosterSpec):
            raise TypeError(f"expected PosterSpec, got {type(spec).__name__}")

    _register_fonts()
    buffer = io.BytesIO()
    with _render_lock:
        canvas = Canvas(buffer, pagesize=PAGE_SIZES[key], invariant=1, pageCompression=1)
        canvas.setTitle(PDF_TITLE)
        canvas.setSubject("Khảo sát sự hài lòng của người dân với dịch vụ công")
        canvas.setAuthor("SIPAS")
        canvas.setCreator("SIPAS")
        canvas.setKeywords(["SIPAS", "QR", "khảo sát"])
        for spec in specs:
            _draw_poster(canvas, spec, key)
            canvas.showPage()
        canvas.save()
    return buffer.getvalue()
