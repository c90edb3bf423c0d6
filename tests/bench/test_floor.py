"""The load test's floor apps (`bench/load_qr_apps.Floor`) keep the guarantees they stand for:
a floor that skipped one would make the figures in docs/benchmarks.md a floor of nothing."""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from werkzeug.test import Client

from survey.models import Counter, Response
from survey.qr.counters import counter_code
from survey.qr.submit import read_form_token

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]
IDEM = re.compile(r'name="idem" type="hidden" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def floor_module(app, db, demo, client, database_url, tmp_path, monkeypatch) -> Iterator[tuple[ModuleType, str]]:
    """`bench/load_qr_apps.py` loaded afresh on the test database (SQLite: `conftest.py`), with
    the project's page for a demo counter captured with CSRF on (as `bench/load_qr.py` captures
    it); the counter's path."""
    counter = db.session.scalars(sa.select(Counter).where(Counter.active).order_by(Counter.id)).first()
    path = f"/q/{counter_code(app.config['SECRET_KEY'], counter)}"
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get(path).get_data(as_text=True)
    token = read_form_token(app.config["SECRET_KEY"], IDEM.search(page)[1])  # type: ignore[index]
    assert token is not None and CSRF.search(page)
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    (tmp_path / "thanks.html").write_text('<p>Cảm ơn! <strong class="receipt">X</strong>', encoding="utf-8")
    monkeypatch.setenv("LOAD_QR_PAGE", str(tmp_path / "page.html"))
    monkeypatch.setenv("LOAD_QR_THANKS", str(tmp_path / "thanks.html"))
    monkeypatch.setenv("LOAD_QR_DB", sa.make_url(database_url).database or "")
    monkeypatch.setenv("LOAD_QR_SECRET", app.config["SECRET_KEY"])
    monkeypatch.setenv("LOAD_QR_QUESTIONNAIRE_ID", str(token.questionnaire_id))
    spec = importlib.util.spec_from_file_location("load_qr_apps_under_test", ROOT / "bench" / "load_qr_apps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module, path
    conn = getattr(module._local, "conn", None)
    if conn is not None:
        conn.close()


def _form(phone: Client, path: str) -> dict[str, str]:
    page = phone.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    return {"idem": IDEM.search(text)[1], "csrf_token": CSRF.search(text)[1]}  # type: ignore[index]


def _answers(value: str = "4") -> dict[str, str]:
    return {**dict.fromkeys(ITEMS, value), "loai_nguoi_tra_loi": "ca_nhan", "tuoi": "35-49", "nhom_linh_vuc": "dat_dai"}


def _stored(db) -> list[Response]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Response).order_by(Response.id)))


@pytest.mark.parametrize("name", ["floor_project_app", "floor_fewest_app"])
def test_a_floor_stores_each_form_once_and_refuses_what_the_project_refuses(floor_module, db, name):
    module, path = floor_module
    phone = Client(getattr(module, name))
    form = _form(phone, path)
    sent = phone.post(path, data={**form, **_answers()})
    assert sent.status_code == 302
    receipt = sent.headers["Location"].rsplit("/", 1)[1]
    assert receipt in phone.get(sent.headers["Location"]).get_data(as_text=True)
    assert phone.post(path, data={**form, **_answers()}).headers["Location"] == sent.headers["Location"]  # double tap
    again = phone.post(path, data={**_form(phone, path), **_answers()})  # Back, a fresh form, the same answers
    assert again.headers["Location"] == sent.headers["Location"]
    rows = _stored(db)
    assert [(r.receipt_code, r.channel, r.coded) for r in rows] == [(receipt, "qr", "4" * 16)]
    assert rows[0].answers["A1"] == "4" and rows[0].field_group == "dat_dai"

    fresh = _form(phone, path)
    refused = {
        "a forged form key": {**fresh, "idem": fresh["idem"][:-2] + "xx", **_answers()},
        "a CSRF token of another device": {
            **fresh,
            **_answers(),
            "csrf_token": _form(Client(getattr(module, name)), path)["csrf_token"],
        },
        "an answer the page does not offer": {**fresh, **_answers(), "A1": "7"},
        "a required answer missing": {**fresh, **{k: v for k, v in _answers().items() if k != "A1"}},
    }
    for why, data in refused.items():
        assert phone.post(path, data=data).status_code == 400, why
    assert Client(getattr(module, name)).post(path, data={**fresh, **_answers("3")}).status_code == 400  # no cookie
    assert len(_stored(db)) == 1
    assert phone.post(path, data={**fresh, **_answers("3")}).status_code == 302  # the next citizen
    assert phone.get("/q/AAAABBBBCCCCDDDDEEEEFFFF").status_code == 404
    assert len(_stored(db)) == 2


def test_a_floor_checks_a_closed_counter_on_each_request_as_the_project_does(floor_module, db):
    module, path = floor_module
    phone = Client(module.floor_project_app)
    assert phone.get(path).status_code == 200
    with sqlite3.connect(db.engine.url.database) as conn:
        conn.execute("UPDATE counter SET active = 0")
    assert phone.get(path).status_code == 404
