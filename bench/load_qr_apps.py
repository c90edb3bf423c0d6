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

- ``floor_project_app`` and ``floor_fewest_app``: the least server work the project's
  guarantees need, whatever the framework (`Floor`): no Flask, Flask-WTF or SQLAlchemy — the
  standard library, itsdangerous and ``sqlite3`` on a copy of the project's migrated database
  (``LOAD_QR_DB``; the questionnaire id in ``LOAD_QR_QUESTIONNAIRE_ID``, the secret in
  ``LOAD_QR_SECRET``), serving the captured page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from itsdangerous import BadData, URLSafeTimedSerializer

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


def _db(*extra: str) -> sqlite3.Connection:
    """This thread's connection to ``LOAD_QR_DB``, made on first use with `extra` pragmas (a
    process serves one app, so one connection per thread)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["LOAD_QR_DB"], timeout=10, isolation_level=None)
        for pragma in ("busy_timeout=10000", "synchronous=NORMAL", *extra):
            conn.execute(f"PRAGMA {pragma}")
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
    return Path(path).read_text(encoding="utf-8") if path else ""


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
    if name in ("floor_project_app", "floor_fewest_app"):
        return Floor(fewest=name == "floor_fewest_app")
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


#: The project's statements, as few as its checks allow (`Floor`).
_COUNTER = (
    "SELECT c.place_id, c.active AND p.active, c.poster_serial,"
    " (SELECT group_concat(g.field_group) FROM counter_field_group g WHERE g.counter_id = c.id)"
    " FROM counter c JOIN place p ON p.id = c.place_id WHERE c.id = ?"
)
_INSERT = (
    "INSERT INTO response (questionnaire_id, channel, status, place_id, counter_id, field_group, dossier_code,"
    " receipt_code, idempotency_key, device_hash, resubmit_key, possible_duplicate, answers, coded, started_at,"
    " submitted_at, created_at) VALUES (?, 'qr', 'submitted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_BY_KEY = "SELECT receipt_code FROM response WHERE idempotency_key = ?"
_BY_RECEIPT = "SELECT 1 FROM response WHERE receipt_code = ?"
#: The rest of the project engine's SQLite set-up (`survey._sqlite_pragmas`), for the floors.
_PROJECT_PRAGMAS = ("foreign_keys=ON", "journal_mode=WAL")
_RESUBMITTED = "SELECT receipt_code FROM response WHERE resubmit_key = ? AND created_at >= ? ORDER BY id DESC LIMIT 1"
_SAME_DEVICE = "SELECT 1 FROM response WHERE device_hash = ? AND counter_id = ? AND created_at >= ? LIMIT 1"
_RADIO = re.compile(r'<input type="radio" name="([^"]+)" value="([^"]+)"( required)?')
_CSRF = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]*(")')
_DEVICE = re.compile(r"(?:^|;\s*)sipas_device=([0-9a-f]{32})")


class Floor:
    """The citizen's three requests with only the work the project's guarantees need, as a
    plain WSGI function: a lower bound of what any implementation of them costs.

    GET: the poster code's signature, the counter (open, not rotated), a signed form key naming
    the questionnaire version, a CSRF token bound to a device cookie handed out with the form.
    POST: both tokens, the per-device limit (in memory), each answer against the page's
    choices and the required ones present, the resubmit digest looked up (Back after the
    thank-you page), stored once per form key and per dossier code. Thank-you: the receipt.

    ``fewest=False`` makes the statements the project makes (the counter on the form and on
    the submit, the key looked up first, the same-device flag, the receipt looked up on the
    thank-you page); ``fewest=True`` the fewest a design keeping the guarantees could make
    (the counter cached in the process, the key folded into the insert with
    ``ON CONFLICT DO NOTHING``, the same-device flag left to later, the receipt not looked up).
    """

    def __init__(self, fewest: bool) -> None:
        from survey.qr.codes import read_code  # the project's own check of a poster code (stdlib only)

        self.read_code = read_code
        self.fewest = fewest
        self.secret = os.environ["LOAD_QR_SECRET"]
        self.qid = int(os.environ["LOAD_QR_QUESTIONNAIRE_ID"])
        self.forms = URLSafeTimedSerializer(self.secret, salt="sipas-qr-form")
        self.csrf = URLSafeTimedSerializer(self.secret, salt="wtf-csrf-token")
        marked = _CSRF.sub(lambda m: m.group(1) + "\0csrf\0" + m.group(2), _PAGE, count=1)
        marked = IDEM.sub(lambda m: m.group(1) + "\0idem\0" + m.group(2), marked, count=1)
        self.parts = marked.split("\0")  # literal, "csrf", literal, "idem", literal
        if self.parts[1::2] != ["csrf", "idem"]:
            raise ValueError("the captured page has no CSRF field before its form key (capture it with CSRF on)")
        self.choices: dict[str, set[str]] = {}
        self.required: set[str] = set()
        for name, value, required in _RADIO.findall(_PAGE):
            self.choices.setdefault(name, set()).add(value)
            if required:
                self.required.add(name)
        self.scale = [name for name in self.choices if self.choices[name] == set("123459")]  # the items
        self.counters: dict[int, tuple[Any, ...]] = {}
        self.sent: dict[str, int] = {}
        self.lock = threading.Lock()

    def _counter(self, code: str) -> tuple[int, tuple[Any, ...]] | None:
        found = self.read_code(self.secret, code)
        if found is None:
            return None
        row = self.counters.get(found.counter_id) if self.fewest else None
        if row is None:
            row = _db(*_PROJECT_PRAGMAS).execute(_COUNTER, (found.counter_id,)).fetchone()
            if row is None or not row[1] or row[2] != found.serial:
                return None
            self.counters[found.counter_id] = row
        return found.counter_id, row

    def __call__(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/cam-on/"):
            receipt = path.rsplit("/", 1)[1]
            if not self.fewest and _db(*_PROJECT_PRAGMAS).execute(_BY_RECEIPT, (receipt,)).fetchone() is None:
                return _html(start, "", "404 Not Found")
            return _html(start, _static_thanks(receipt))
        found = self._counter(path.rsplit("/", 1)[1])
        if found is None:
            return _html(start, "", "404 Not Found")
        cookie = _DEVICE.search(environ.get("HTTP_COOKIE", ""))
        if environ["REQUEST_METHOD"] != "POST":
            device = cookie[1] if cookie else secrets.token_hex(16)
            key = self.forms.dumps([uuid.uuid4().hex, self.qid])
            parts = self.parts
            page = f"{parts[0]}{self.csrf.dumps(device)}{parts[2]}{key}{parts[4]}".encode()
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))]
            if not cookie:
                headers.append(("Set-Cookie", f"sipas_device={device}; Path=/q/; HttpOnly; SameSite=Lax"))
            start("200 OK", headers)
            return [page]
        if cookie is None:
            return _html(start, "", "400 Bad Request")
        size = int(environ.get("CONTENT_LENGTH") or 0)
        receipt = self._submit(found, cookie[1], environ, environ["wsgi.input"].read(size).decode())
        if receipt is None:
            return _html(start, "", "400 Bad Request")
        start("302 Found", [("Location", f"/cam-on/{receipt}"), ("Content-Length", "0")])
        return [b""]

    def _submit(
        self, found: tuple[int, tuple[Any, ...]], device: str, environ: dict[str, Any], body: str
    ) -> str | None:
        form = {k: v[0] for k, v in parse_qs(body).items()}
        try:
            key, qid = self.forms.loads(form.get("idem", ""), max_age=86400)
            if qid != self.qid or self.csrf.loads(form.get("csrf_token", ""), max_age=86400) != device:
                return None
        except BadData:
            return None
        with self.lock:  # the per-device limit
            self.sent[device] = self.sent.get(device, 0) + 1
        answers: dict[str, str] = {}
        for name, value in form.items():
            if name in self.choices:
                if value not in self.choices[name]:
                    return None
                answers[name] = value
            elif name in ("ma_ho_so", "y_kien") and len(value) <= (40 if name == "ma_ho_so" else 2000):
                answers[name] = value.strip()
        if not self.required <= answers.keys():
            return None
        counter_id, (place_id, _open, _serial, groups) = found
        groups = groups.split(",") if groups else []
        field_group = groups[0] if len(groups) == 1 else answers.get("nhom_linh_vuc", "khac")
        dossier = answers.get("ma_ho_so", "").upper() or None
        digest = json.dumps([device, counter_id, qid, answers], sort_keys=True, ensure_ascii=False)
        resubmit = hmac.new(self.secret.encode(), digest.encode(), hashlib.sha256).hexdigest()
        address = f"{environ.get('REMOTE_ADDR', '')}|{environ.get('HTTP_USER_AGENT', '')}"
        now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        salt = hmac.new(self.secret.encode(), f"device-salt:{now[:10]}".encode(), hashlib.sha256).digest()
        device_hash = hashlib.sha256(salt + address.encode()).hexdigest()[:32]
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 1800))
        conn = _db(*_PROJECT_PRAGMAS)
        if not self.fewest:
            stored = conn.execute(_BY_KEY, (key,)).fetchone()
            if stored is not None:
                return str(stored[0])
        again = conn.execute(_RESUBMITTED, (resubmit, since)).fetchone()
        if again is not None:
            return str(again[0])
        duplicate = False
        if not self.fewest:
            duplicate = conn.execute(_SAME_DEVICE, (device_hash, counter_id, now[:10])).fetchone() is not None
        receipt = secrets.token_hex(5).upper()
        coded = "".join(answers.get(name, ".") for name in self.scale)
        values = (self.qid, place_id, counter_id, field_group, dossier, receipt, key, device_hash, resubmit)
        row = (*values, duplicate, json.dumps(answers, ensure_ascii=False), coded, now, now, now)
        try:
            conn.execute(_INSERT + (" ON CONFLICT (idempotency_key) DO NOTHING" if self.fewest else ""), row)
            inserted = True
        except sqlite3.IntegrityError:  # a double tap's twin stored it first, or the dossier was rated
            inserted = False
        if self.fewest or not inserted:
            stored = conn.execute(_BY_KEY, (key,)).fetchone()
            return None if stored is None else str(stored[0])
        return receipt
