"""Crash test: SIGKILL gunicorn mid-load, restart it, check that every acknowledged response
is stored exactly once and the database is sound; measure the outage.

    .venv/bin/python bench/crash.py [--seconds 20] [--clients 8] [--database-url URL]

Starts gunicorn with the shipped ``gunicorn.conf.py`` (2 workers, loopback only) on a fresh
database with the demo counters, runs `clients` citizens in threads (each: open the form,
submit, follow to the receipt) for `seconds`, kills the whole gunicorn process group with
SIGKILL halfway, restarts it at once, and keeps the load going. Then:

- acknowledged: submits answered ``302 → /cam-on/<receipt>``; each must be stored once, with
  that receipt (the idempotency key is read from the signed form token);
- in flight: submits whose answer was lost in the crash (stored or not: the citizen saw an
  error and may send again — the same form is then recognised);
- SQLite ``PRAGMA integrity_check`` (or, on PostgreSQL, no idempotency key twice);
- outage: from SIGKILL to the first answered ``/readyz`` of the new process.

Only 127.0.0.1; the run is bounded by `seconds`.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "c" * 48
ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


@dataclass
class Tally:
    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key -> receipt
    in_flight: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(workdir: Path, database_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_")}
    env.update(
        SIPAS_INSTANCE_PATH=str(workdir),
        SIPAS_SECRET_KEY=SECRET,
        SIPAS_DATABASE_URL=database_url,
        SIPAS_QR_RATE_LIMIT="100000 per minute",  # a load test raises the limits
        SIPAS_QR_ADDRESS_RATE_LIMIT="100000 per minute",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        PYTHONPATH=str(ROOT),
    )
    return env


def prepare(database_url: str, env: dict[str, str]) -> list[str]:
    """Migrate, load the demo places and counters; the counters' QR addresses."""
    flask = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
    for args in (["db", "upgrade"], ["questionnaires", "publish"]):
        subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    code = (
        "import wsgi, sqlalchemy as sa\n"
        "from survey.demo import load\nfrom survey.extensions import db\n"
        "from survey.models import Counter\nfrom survey.qr.counters import counter_code\n"
        "with wsgi.app.app_context():\n"
        "    load(db.session, wsgi.app.extensions['sipas_questionnaires'], qr_responses=False)\n"
        "    db.session.commit()\n"
        "    counters = db.session.scalars(sa.select(Counter).where(Counter.active).limit(20)).all()\n"
        "    print(' '.join(counter_code(wsgi.app.config['SECRET_KEY'], c) for c in counters))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return out.stdout.split()


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with log.open("ab") as sink:
        return subprocess.Popen(
            [gunicorn], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_ready(base: str, limit: float = 60.0) -> float:
    """Seconds until /readyz answers 200."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=1) as reply:
                if reply.status == 200:
                    return time.monotonic() - began
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.02)
    raise RuntimeError("the server did not become ready")


def citizen(base: str, codes: list[str], stop: threading.Event, tally: Tally, number: int) -> None:
    from survey.qr.submit import read_form_token

    i = 0
    while not stop.is_set():
        i += 1
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect
        )
        url = f"{base}/q/{codes[(number + i) % len(codes)]}"
        try:
            page = opener.open(url, timeout=10).read().decode()
        except (OSError, http.client.HTTPException):  # URLError is an OSError
            time.sleep(0.05)  # down: a citizen reloads
            continue
        idem = re.search(r'name="idem" type="hidden" value="([^"]+)"', page)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if idem is None:
            continue
        data = dict.fromkeys(ITEMS, str(1 + (i + number) % 5))
        data.update(
            loai_nguoi_tra_loi="ca_nhan",
            tuoi="35-49",
            nhom_linh_vuc="dat_dai",
            y_kien=f"người {number}-{i}",
            idem=idem[1],
        )
        if csrf:
            data["csrf_token"] = csrf[1]
        token = read_form_token(SECRET, idem[1])
        assert token is not None
        body = urllib.parse.urlencode(data).encode()
        try:
            opener.open(url, data=body, timeout=30)
            status, location = 200, ""
        except urllib.error.HTTPError as reply:
            status, location = reply.code, reply.headers.get("Location", "")
        except (OSError, http.client.HTTPException):
            with tally.lock:
                tally.in_flight += 1
            continue
        with tally.lock:
            if status == 302 and "/cam-on/" in location:
                tally.acknowledged[token.key] = location.rsplit("/", 1)[1].split("?")[0]
            else:
                tally.refused[status] = tally.refused.get(status, 0) + 1


def verify(database_url: str, tally: Tally) -> dict[str, object]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT idempotency_key, receipt_code FROM response")).all()
        twice = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT idempotency_key FROM response GROUP BY idempotency_key HAVING count(*) > 1) d"
            )
        ).scalar_one()
    engine.dispose()
    stored: dict[str, list[str]] = {}
    for key, receipt in rows:
        stored.setdefault(key, []).append(receipt)
    missing = [k for k in tally.acknowledged if k not in stored]
    wrong = [k for k, r in tally.acknowledged.items() if k in stored and stored[k] != [r]]
    result: dict[str, object] = {
        "acknowledged": len(tally.acknowledged),
        "stored": len(rows),
        "acknowledged_missing": len(missing),
        "acknowledged_wrong_or_twice": len(wrong),
        "keys_stored_twice": twice,
        "in_flight_at_crash": tally.in_flight,
        "stored_not_acknowledged": len(rows) - len(tally.acknowledged) + len(missing),
        "other_answers": tally.refused,
    }
    if database_url.startswith("sqlite"):
        path = database_url.split("sqlite:///", 1)[1]
        with sqlite3.connect(path) as conn:
            result["integrity_check"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return result


def run(seconds: float = 20.0, clients: int = 8, database_url: str | None = None) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="sipas-crash-"))
    database_url = database_url or f"sqlite:///{workdir / 'crash.db'}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(workdir, database_url, port)
    codes = prepare(database_url, env)
    log = workdir / "gunicorn.log"
    began = time.monotonic()
    server = start(env, log)
    first_start = wait_ready(base)
    tally, stop = Tally(), threading.Event()
    threads = [threading.Thread(target=citizen, args=(base, codes, stop, tally, n)) for n in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds / 2)
    acknowledged_before = len(tally.acknowledged)
    os.killpg(server.pid, signal.SIGKILL)
    killed = time.monotonic()
    server.wait()
    server = start(env, log)
    wait_ready(base)
    outage = time.monotonic() - killed
    time.sleep(seconds / 2)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    result = verify(database_url, tally)
    result.update(
        first_start_s=round(first_start, 2),
        outage_after_sigkill_s=round(outage, 2),
        acknowledged_before_kill=acknowledged_before,
        load_seconds=seconds,
        clients=clients,
        total_s=round(time.monotonic() - began, 1),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()
    result = run(args.seconds, args.clients, args.database_url)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = (
        result["acknowledged_missing"] == 0
        and result["acknowledged_wrong_or_twice"] == 0
        and result["keys_stored_twice"] == 0
        and result.get("integrity_check", "ok") == "ok"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
