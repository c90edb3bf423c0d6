"""The two reference apps of ``bench/load_qr.py``, served by gunicorn with the project's own
settings (``gunicorn.conf.py``): plain WSGI, no framework.

- ``static_app``: the project's questionnaire page, captured just before the run
  (``LOAD_QR_PAGE``, the thank-you page in ``LOAD_QR_THANKS``), with a fresh hidden key per
  request; a POST inserts one row and redirects to the thank-you page. The ceiling of what
  serving *this* page can cost.
- ``trivial_app``: a form of three radios, the same insert and redirect.
- ``flask_app``: the static app's three answers as a bare Flask app (no extension, no
  session, no database layer): what the framework alone costs on the same page, between the
  static app and the project.

They store into the SQLite file ``LOAD_QR_DB`` (WAL, like the project; `create_database`),
one row per key; a resent key is answered with the same receipt.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

_local = threading.local()
TRIVIAL_PAGE = (
    '<!doctype html><html lang="vi"><meta charset="utf-8"><title>Phiếu</title><form method="post">'
    '<input name="idem" type="hidden" value="{key}">'
    '<label><input type="radio" name="A1" value="1">1</label>'
    '<label><input type="radio" name="A1" value="2">2</label>'
    '<label><input type="radio" name="A1" value="3">3</label>'
    "<button>Gửi</button></form></html>"
)
THANKS = '<!doctype html><html lang="vi"><meta charset="utf-8"><p>Cảm ơn! <strong class="receipt">{receipt}</strong>'
IDEM = re.compile(r'(name="idem" type="hidden" value=")[^"]*(")')

Start = Callable[[str, list[tuple[str, str]]], Any]


def create_database(path: str) -> None:
    """The reference apps' SQLite file, in WAL mode, made before their server starts (workers
    switching a new file to WAL at once can meet "database is locked")."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS response (idem TEXT UNIQUE NOT NULL, receipt TEXT NOT NULL, body TEXT)")
    conn.close()


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["LOAD_QR_DB"], timeout=10, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA synchronous=NORMAL")
        _local.conn = conn
    return conn


def _store(environ: dict[str, Any]) -> str:
    size = int(environ.get("CONTENT_LENGTH") or 0)
    return _store_body(environ["wsgi.input"].read(size).decode())


def _store_body(body: str) -> str:
    key = parse_qs(body).get("idem", [""])[0]
    receipt = secrets.token_hex(5).upper()
    conn = _db()
    conn.execute("INSERT OR IGNORE INTO response (idem, receipt, body) VALUES (?, ?, ?)", (key, receipt, body))
    return str(conn.execute("SELECT receipt FROM response WHERE idem = ?", (key,)).fetchone()[0])


def _html(start: Start, text: str, status: str = "200 OK") -> Iterable[bytes]:
    data = text.encode()
    start(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data)))])
    return [data]


def _app(page: Callable[[], str], thanks: Callable[[str], str]) -> Callable[[dict[str, Any], Start], Iterable[bytes]]:
    def app(environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/cam-on/"):
            return _html(start, thanks(path.rsplit("/", 1)[1]))
        if environ["REQUEST_METHOD"] == "POST":
            receipt = _store(environ)
            start("302 Found", [("Location", f"/cam-on/{receipt}"), ("Content-Length", "0")])
            return [b""]
        return _html(start, page())

    return app


def _captured(name: str) -> str:
    path = os.environ.get(name)
    return open(path, encoding="utf-8").read() if path else ""


_PAGE = _captured("LOAD_QR_PAGE")
_THANKS = _captured("LOAD_QR_THANKS")


def _static_page() -> str:
    key = secrets.token_urlsafe(48)
    return IDEM.sub(lambda m: m.group(1) + key + m.group(2), _PAGE, count=1)


def _static_thanks(receipt: str) -> str:
    return re.sub(r'(class="receipt">)[^<]*', lambda m: m.group(1) + receipt, _THANKS, count=1)


static_app = _app(_static_page, _static_thanks)
trivial_app = _app(lambda: TRIVIAL_PAGE.format(key=secrets.token_urlsafe(48)), lambda r: THANKS.format(receipt=r))


def __getattr__(name: str) -> Any:  # gunicorn's "module:flask_app": Flask is imported only for it
    if name == "flask_app":
        return _bare_flask()
    raise AttributeError(name)


def _bare_flask() -> Any:
    from flask import Flask, redirect, request

    app = Flask("load_qr_bare")

    @app.get("/q/<code>")
    def page(code: str) -> str:
        return _static_page()

    @app.post("/q/<code>")
    def submit(code: str) -> Any:
        return redirect(f"/cam-on/{_store_body(request.get_data(as_text=True))}")

    @app.get("/cam-on/<receipt>")
    def thanks(receipt: str) -> str:
        return _static_thanks(receipt)

    return app
