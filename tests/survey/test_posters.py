"""QR images and poster PDFs (survey/posters.py), checked with independent readers:
zbar decodes the codes, pdfium renders the pages and extracts the text."""

from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from survey.posters import PosterSpec, posters_pdf, qr_png, qr_svg

needs_zbar = pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (Debian zbar-tools) not installed")

SPEC = PosterSpec(
    province="Bắc Ninh",
    place_name="Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
    counter_name="Quầy Đất đai",
    url="https://sipas.bacninh.gov.vn/q/AEAAAAAMAABQH4KHSQYKAQGZ",
    typed_address="sipas.bacninh.gov.vn/q/AEAA-AAAM-AABQ-H4KH-SQYK-AQGZ",
    field_groups=("Đất đai", "Xây dựng"),
)


def pages(pdf: bytes) -> list[tuple[float, float, str, object]]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(io.BytesIO(pdf))
    out = []
    try:
        for i in range(len(document)):
            page = document[i]
            width, height = page.get_size()
            text = unicodedata.normalize("NFC", page.get_textpage().get_text_range())
            out.append((width, height, text, page.render(scale=2).to_pil()))
            page.close()
    finally:
        document.close()
    return out


def zbar(image, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.png"
    image.save(path)
    return subprocess.run(
        ["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


@needs_zbar
def test_qr_png_decodes_to_the_url(tmp_path: Path) -> None:
    path = tmp_path / "qr.png"
    path.write_bytes(qr_png(SPEC.url))
    assert (
        subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, check=True).stdout.strip()
        == SPEC.url
    )


def test_qr_svg_is_an_svg_document() -> None:
    from xml.etree import ElementTree

    root = ElementTree.fromstring(qr_svg(SPEC.url))
    assert root.tag.endswith("svg")


@needs_zbar
@pytest.mark.parametrize(("size", "expected"), [("A4", (595.3, 841.9)), ("A5", (419.5, 595.3))])
def test_poster_pages_carry_the_text_and_a_readable_code(
    size: str, expected: tuple[float, float], tmp_path: Path
) -> None:
    other = PosterSpec(**{**SPEC.__dict__, "counter_name": "Quầy tổng hợp", "url": SPEC.url[:-1] + "A"})
    rendered = pages(posters_pdf([SPEC, other], size=size))
    assert len(rendered) == 2
    for (width, height, text, image), spec in zip(rendered, (SPEC, other), strict=True):
        assert (round(width, 1), round(height, 1)) == expected
        for fragment in (
            spec.place_name,
            spec.counter_name,
            spec.typed_address,
            "Nghị định 13/2023/NĐ-CP",
            "Đất đai, Xây dựng",
        ):
            assert fragment in text.replace("\r\n", " ").replace("\n", " ")
        assert zbar(image, tmp_path) == spec.url


@needs_zbar
def test_a_very_long_place_name_wraps_and_the_code_still_reads(tmp_path: Path) -> None:
    long_name = "Bộ phận tiếp nhận và trả kết quả " * 6
    spec = PosterSpec(**{**SPEC.__dict__, "place_name": long_name.strip()})
    [(_w, _h, _text, image)] = pages(posters_pdf([spec]))
    assert zbar(image, tmp_path) == SPEC.url


def test_same_input_gives_the_same_bytes() -> None:
    assert posters_pdf([SPEC]) == posters_pdf([SPEC])


def test_bad_requests_are_refused_clearly() -> None:
    with pytest.raises(ValueError):
        posters_pdf([])
    with pytest.raises(ValueError):
        posters_pdf([SPEC], size="Letter")
