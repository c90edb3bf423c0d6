"""Admin pages for places and counters, QR images and printable posters."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.models import AuditLog, Counter, Place
from survey.qr.counters import counter_url

pytestmark = pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (Debian zbar-tools) not installed")


def decode_pdf(pdf: bytes, tmp_path: Path) -> list[str]:
    """Decode the QR code on every page of `pdf` with zbar, an independent decoder."""
    import pypdfium2 as pdfium

    urls = []
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        for i in range(len(document)):
            page = document[i]
            image = page.render(scale=2).to_pil()
            path = tmp_path / f"page{i}.png"
            image.save(path)
            page.close()
            out = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, check=True)
            urls.append(out.stdout.strip())
    finally:
        document.close()
    return urls


def decode_png(png: bytes, tmp_path: Path) -> str:
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    return subprocess.run(
        ["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def admin_client(client, demo):
    from survey.demo import DEMO_PASSWORD

    client.post("/dang-nhap", data={"username": "admin", "password": DEMO_PASSWORD})
    return client


def test_counter_poster_decodes_to_the_counter_url_and_that_url_opens_the_form(
    app, admin_client, db, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://sipas.bacninh.gov.vn")
    counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.code == "P001")).one()
    pdf = admin_client.get(f"/admin/quay/{counter.id}/ap-phich.pdf?kho=A5")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    [url] = decode_pdf(pdf.data, tmp_path)
    assert url == counter_url("https://sipas.bacninh.gov.vn", app.config["SECRET_KEY"], counter)
    path = url.removeprefix("https://sipas.bacninh.gov.vn")
    form = admin_client.get(path)
    assert form.status_code == 200 and "Phường Kinh Bắc · Bộ phận Một cửa" in form.get_data(as_text=True)


def test_place_and_province_posters_have_a_page_per_active_counter(
    app, admin_client, db, tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://sipas.bacninh.gov.vn")
    centre = db.session.scalars(sa.select(Place).where(Place.kind == "tinh")).one()
    centre.counters[1].active = False
    db.session.commit()
    pdf = admin_client.get(f"/admin/noi-tiep-nhan/{centre.id}/ap-phich.pdf")
    urls = decode_pdf(pdf.data, tmp_path)
    expected = [
        counter_url("https://sipas.bacninh.gov.vn", app.config["SECRET_KEY"], c) for c in centre.counters if c.active
    ]
    assert urls == expected and len(urls) == 4
    import pypdfium2 as pdfium

    everything = pdfium.PdfDocument(io.BytesIO(admin_client.get("/admin/ap-phich.pdf").data))
    assert len(everything) == 103  # 104 demo counters, one paused
    everything.close()


def test_qr_png_and_svg(app, admin_client, db, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://sipas.bacninh.gov.vn")
    counter = db.session.scalars(sa.select(Counter)).first()
    png = admin_client.get(f"/admin/quay/{counter.id}/qr.png")
    assert png.mimetype == "image/png"
    assert decode_png(png.data, tmp_path) == counter_url(
        "https://sipas.bacninh.gov.vn", app.config["SECRET_KEY"], counter
    )
    svg = admin_client.get(f"/admin/quay/{counter.id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_posters_refuse_to_print_without_public_url_outside_development(app, admin_client, db, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "ENV", "production")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    counter = db.session.scalars(sa.select(Counter)).first()
    result = admin_client.get(f"/admin/quay/{counter.id}/ap-phich.pdf", headers={"Referer": "/admin/"})
    assert result.status_code == 302
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert "Chưa đặt SIPAS_PUBLIC_BASE_URL" in page


def test_rotating_a_code_invalidates_old_posters_and_is_audited(app, admin_client, db, monkeypatch) -> None:
    counter = db.session.scalars(sa.select(Counter)).first()
    old_url = counter_url("", app.config["SECRET_KEY"], counter)
    assert admin_client.get(old_url).status_code == 200
    result = admin_client.post(f"/admin/quay/{counter.id}/doi-ma")
    assert result.status_code == 302
    db.session.refresh(counter)
    assert counter.poster_serial == 2
    assert admin_client.get(old_url).status_code == 410
    assert admin_client.get(counter_url("", app.config["SECRET_KEY"], counter)).status_code == 200
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "counter", AuditLog.action == "update")
    ).one()
    assert audit.changes == {"poster_serial": [1, 2]}
    assert audit.user_id is not None


def test_create_and_edit_place_and_counter(admin_client, db) -> None:
    result = admin_client.post(
        "/admin/noi-tiep-nhan/moi", data={"code": "x200", "name": "Xã Mới", "kind": "xa", "active": "y"}
    )
    assert result.status_code == 302
    place = db.session.scalars(sa.select(Place).where(Place.code == "X200")).one()
    duplicate = admin_client.post("/admin/noi-tiep-nhan/moi", data={"code": "X200", "name": "Trùng", "kind": "xa"})
    assert "Mã X200 đã được dùng" in duplicate.get_data(as_text=True)
    result = admin_client.post(
        f"/admin/noi-tiep-nhan/{place.id}/quay/moi",
        data={"code": "q1", "name": "Quầy 1", "field_groups": ["dat_dai", "xay_dung"], "active": "y"},
    )
    assert result.status_code == 302
    counter = db.session.scalars(sa.select(Counter).where(Counter.place_id == place.id)).one()
    assert counter.field_groups == ["dat_dai", "xay_dung"]
    none = admin_client.post(f"/admin/quay/{counter.id}", data={"code": "Q1", "name": "Quầy 1"})
    assert "Chọn ít nhất một nhóm lĩnh vực." in none.get_data(as_text=True)
    admin_client.post(f"/admin/quay/{counter.id}", data={"code": "Q1", "name": "Quầy Một", "field_groups": ["khac"]})
    db.session.expire_all()
    assert counter.field_groups == ["khac"] and counter.name == "Quầy Một" and not counter.active
    entities = {(a.entity, a.action) for a in db.session.scalars(sa.select(AuditLog))}
    assert {
        ("place", "create"),
        ("counter", "create"),
        ("counter", "update"),
        ("counter_field_group", "delete"),
    } <= entities


def test_other_roles_cannot_manage_counters(client, db, demo, login_as) -> None:
    counter = db.session.scalars(sa.select(Counter)).first()
    for role in ("analyst", "supervisor", "surveyor"):
        login_as(role)
        assert client.get(f"/admin/quay/{counter.id}").status_code == 403
        assert client.post(f"/admin/quay/{counter.id}/doi-ma").status_code == 403
        client.post("/dang-xuat")


def test_cli_writes_the_province_posters(app, runner, db, demo, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://sipas.bacninh.gov.vn")
    out = tmp_path / "posters.pdf"
    result = runner.invoke(args=["qr", "posters", "--place", "ttpvhcc", "--size", "a5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Đã ghi 5 áp phích khổ A5" in result.output
    assert len(decode_pdf(out.read_bytes(), tmp_path)) == 5
    missing = runner.invoke(args=["qr", "posters", "--place", "KHONGCO", "--out", str(out)])
    assert missing.exit_code == 1 and "không có nơi tiếp nhận mã 'KHONGCO'" in missing.output
    monkeypatch.setitem(app.config, "ENV", "production")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    refused = runner.invoke(args=["qr", "posters", "--out", str(tmp_path / "x.pdf")])
    assert refused.exit_code == 1 and "SIPAS_PUBLIC_BASE_URL" in refused.output
    assert not (tmp_path / "x.pdf").exists()
