"""QR posters: the codes scan back to the right URL, the PDF has the right pages, text and sizes."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest

from survey.qr.posters import PDF_TITLE, PosterSpec, posters_pdf, qr_png, qr_svg

URL = "https://sipas.bacninh.gov.vn/q/ABCD2EFGH3JKLM4NPQR5STUV"
TYPED = "sipas.bacninh.gov.vn/q/ABCD-2EFG-H3JK-LM4N-PQR5-STUV"
CM = 72 / 2.54

needs_zbar = pytest.mark.skipif(
    shutil.which("zbarimg") is None, reason="zbarimg (Debian package zbar-tools) not installed"
)


def make_spec(n: int = 0, **overrides) -> PosterSpec:
    token = f"ABCD2EFGH3JKLM4NPQR5STU{n}"
    fields = {
        "province": "Bắc Ninh",
        "place_name": "Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
        "counter_name": "Quầy Đất đai",
        "url": f"https://sipas.bacninh.gov.vn/q/{token}",
        "typed_address": f"sipas.bacninh.gov.vn/q/{token[:4]}-{token[4:8]}-{token[8:12]}-{token[12:]}",
        "field_groups": ("Đất đai", "Xây dựng"),
    }
    fields.update(overrides)
    return PosterSpec(**fields)


def zbar(path: Path) -> list[str]:
    """Decode every QR code in an image file with zbarimg; one URL per symbol."""
    result = subprocess.run(
        ["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, f"zbarimg found no QR code in {path}: {result.stderr}"
    return result.stdout.splitlines()


def render_pages(pdf: bytes, tmp_path: Path, scale: float = 2.5) -> list[Path]:
    doc = pdfium.PdfDocument(pdf)
    try:
        paths = []
        for index in range(len(doc)):
            page = doc[index]
            bitmap = page.render(scale=scale)
            path = tmp_path / f"page-{index + 1}.png"
            bitmap.to_pil().save(path)
            bitmap.close()
            page.close()
            paths.append(path)
        return paths
    finally:
        doc.close()


def page_texts(pdf: bytes) -> list[str]:
    """NFC-normalised text of each page, all whitespace (including line breaks) collapsed to single spaces."""
    doc = pdfium.PdfDocument(pdf)
    try:
        texts = []
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            page.close()
            texts.append(" ".join(unicodedata.normalize("NFC", text).split()))
        return texts
    finally:
        doc.close()


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc.get_page_size(index) for index in range(len(doc))]
    finally:
        doc.close()


def qr_symbol_widths(pdf: bytes) -> list[float]:
    """Width in points of the QR symbol on each page: the smallest large square path (the quiet-zone frame is bigger)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        widths = []
        for index in range(len(doc)):
            page = doc[index]
            squares = []
            for obj in page.get_objects():
                if obj.type == pdfium_raw.FPDF_PAGEOBJ_PATH:
                    left, bottom, right, top = obj.get_bounds()
                    if right - left > 3 * CM and abs((right - left) - (top - bottom)) < 1:
                        squares.append(right - left)
            page.close()
            widths.append(min(squares))
        return widths
    finally:
        doc.close()


# ---- bare QR codes -------------------------------------------------------------------------------------


@needs_zbar
def test_qr_png_decodes_to_the_url(tmp_path):
    png = qr_png(URL)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    assert zbar(path) == [URL]


@needs_zbar
def test_qr_png_small_boxes_and_border_still_decode(tmp_path):
    path = tmp_path / "qr-small.png"
    path.write_bytes(qr_png(URL, box_size=4, border=4))
    assert zbar(path) == [URL]


def test_qr_png_rejects_bad_arguments():
    with pytest.raises(ValueError):
        qr_png("")
    with pytest.raises(ValueError):
        qr_png(URL, box_size=0)
    with pytest.raises(ValueError):
        qr_png(URL, border=-1)


def test_qr_svg_is_a_standalone_svg_document():
    svg = qr_svg(URL)
    assert svg.startswith(b"<?xml")
    root = ET.fromstring(svg)
    assert root.tag in ("svg", "{http://www.w3.org/2000/svg}svg")
    assert root.get("viewBox")
    paths = [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "path"]
    assert len(paths) == 1 and paths[0].get("d")


# ---- posters -------------------------------------------------------------------------------------------


@needs_zbar
def test_three_a4_posters_scan_in_order(tmp_path):
    specs = [make_spec(n) for n in range(3)]
    pdf = posters_pdf(specs)
    assert pdf.startswith(b"%PDF-")
    sizes = page_sizes(pdf)
    assert len(sizes) == 3
    for width, height in sizes:
        assert width == pytest.approx(595, abs=1) and height == pytest.approx(842, abs=1)
    pages = render_pages(pdf, tmp_path)
    assert [zbar(path) for path in pages] == [[spec.url] for spec in specs]


@needs_zbar
def test_a5_posters_scan_in_order(tmp_path):
    specs = [make_spec(7, field_groups=()), make_spec(8, counter_name="Quầy tổng hợp")]
    pdf = posters_pdf(specs, size="A5")
    sizes = page_sizes(pdf)
    assert len(sizes) == 2
    for width, height in sizes:
        assert width == pytest.approx(420, abs=1) and height == pytest.approx(595, abs=1)
    pages = render_pages(pdf, tmp_path, scale=3)
    assert [zbar(path) for path in pages] == [[spec.url] for spec in specs]


def test_poster_text_is_vietnamese_and_complete():
    spec = make_spec(1, minutes=2)
    [text] = page_texts(posters_pdf([spec]))
    assert "TỈNH BẮC NINH" in text
    assert spec.place_name in text
    assert spec.counter_name in text
    assert spec.typed_address in text
    assert "Ông/Bà hài lòng với sự phục vụ hôm nay?" in text
    assert "Quét mã QR để đánh giá trong khoảng 2 phút" in text
    assert "Mở camera điện thoại và quét mã." in text
    assert "Trả lời các câu hỏi (khoảng 2 phút)." in text
    assert "không cần họ tên, số điện thoại" in text
    assert "Hoặc nhập địa chỉ:" in text
    assert "Lĩnh vực: Đất đai, Xây dựng" in text
    assert "Nghị định 13/2023/NĐ-CP" in text


def test_a_poster_without_a_measured_time_promises_none():
    [text] = page_texts(posters_pdf([make_spec(1)]))
    assert "Quét mã QR để đánh giá" in text and "phút" not in text
    assert "Trả lời các câu hỏi." in text


def test_decomposed_input_is_printed_as_nfc():
    spec = make_spec(place_name=unicodedata.normalize("NFD", "Phường Kinh Bắc"))
    [text] = page_texts(posters_pdf([spec]))
    assert "Phường Kinh Bắc" in text


def test_no_field_groups_line_when_empty():
    [text] = page_texts(posters_pdf([make_spec(field_groups=())]))
    assert "Lĩnh vực" not in text


def test_central_city_heading():
    [text] = page_texts(posters_pdf([make_spec(province="Hà Nội")]))
    assert "THÀNH PHỐ HÀ NỘI" in text and "TỈNH HÀ NỘI" not in text


def test_qr_is_large_enough_to_scan_from_a_metre():
    long_name = make_spec(place_name="Ủy ban nhân dân " * 20)
    for size, minimum in (("A4", 9 * CM), ("A5", 6.5 * CM)):
        for width in qr_symbol_widths(posters_pdf([make_spec(), long_name], size=size)):
            assert width >= minimum - 0.5, (size, width / CM)


@needs_zbar
@pytest.mark.parametrize("size", ["A4", "A5"])
def test_very_long_place_name_wraps_and_still_scans(tmp_path, size):
    base = "Bộ phận Tiếp nhận và Trả kết quả giải quyết thủ tục hành chính Ủy ban nhân dân phường Kinh Bắc "
    place = (base * 3)[:200].strip()
    assert len(place) >= 195
    spec = make_spec(2, place_name=place)
    pdf = posters_pdf([spec], size=size)
    [text] = page_texts(pdf)
    assert place in text  # wrapped over several lines, but nothing cut off
    assert spec.counter_name in text and spec.typed_address in text
    [page] = render_pages(pdf, tmp_path, scale=3 if size == "A5" else 2.5)
    assert zbar(page) == [spec.url]


def test_pdf_is_deterministic_and_titled():
    specs = [make_spec(n) for n in range(2)]
    first = posters_pdf(specs)
    assert first == posters_pdf(specs)
    doc = pdfium.PdfDocument(first)
    try:
        assert doc.get_metadata_dict()["Title"] == PDF_TITLE
    finally:
        doc.close()


def test_empty_list_and_unknown_size_are_rejected():
    with pytest.raises(ValueError, match="at least one"):
        posters_pdf([])
    with pytest.raises(ValueError, match="size"):
        posters_pdf([make_spec()], size="Letter")


def test_spec_requires_the_essentials():
    with pytest.raises(ValueError, match="counter_name"):
        make_spec(counter_name="  ")
    with pytest.raises(ValueError, match="field_groups"):
        make_spec(field_groups="Đất đai")
    assert make_spec(field_groups=["Đất đai"]).field_groups == ("Đất đai",)
