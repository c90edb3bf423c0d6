"""Citizen load test: the QR questionnaire as phones use it, against two references, in one run.

    .venv/bin/python bench/load_qr.py [--citizens 16] [--seconds 20] [--warmup 3]
                                      [--max-transactions 20000] [--json results.json]
                                      [--postgres URL] [--limits-storage URI]

One transaction is what a citizen does: GET the form, POST the answers, GET the thank-you
page (each transaction a new phone: no cookies, a new connection, kept alive for its three
requests). `--citizens` threads do transactions back to back. The same client, in the same
run, drives these servers, one after the other, each under gunicorn with the project's
``gunicorn.conf.py`` (``WEB_CONCURRENCY=2`` × 4 threads, loopback only):

(a) the project (SQLite in a new folder unless ``--postgres``, the demo counters; limits
    raised for the load);
(b) a static app serving the project's own questionnaire page captured just before the run,
    with a fresh hidden key per request, one insert and a redirect (``bench/load_qr_apps.py``);
(c) a trivial form of three radios, the same insert and redirect;
(d) the static app's three answers as a bare Flask app (no extension, session or ORM): the
    framework's own cost on the same page;
(e) on SQLite, two floors: the least server work the project's guarantees need, with no
    framework at all (``load_qr_apps.Floor``), on a copy of the project's database made
    before its run — with the statements the project makes, and with the fewest any design
    could make. They say how close to the static app *any* implementation can come.

Reported for each: transactions per second over `--seconds` (after `--warmup`), latency of a
whole transaction (p50/p95/p99), errors, the server's CPU milliseconds per transaction (all
of gunicorn's processes, from ``/proc``, inside the counting window: the server's own work,
which throughput alone hides when client and server share the two cores; PostgreSQL's own
processes are not in it), and afterwards the rows in its database: every acknowledged submit
(302 to its receipt) must be stored exactly once, and nothing else. Also
the page's bytes (raw, gzip as the app sends it, elements and radios), the CPU seconds to
import the app, and the seconds from starting gunicorn to the first answered form.

``--postgres URL`` runs the project as docs/operations.md sets production up — on a new
PostgreSQL database made on that server for the run and dropped after it — and
``--limits-storage redis://127.0.0.1:6379/0`` keeps its limit counters in Redis; the
references stay on SQLite.

Bounded: at most `--max-transactions` per server and `--warmup + --seconds` of load each; the
servers are stopped at the end (also on Ctrl-C). Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import os
import re
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from load_qr_apps import create_database

ROOT = Path(__file__).resolve().parent.parent
SECRET = "l" * 48
ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]
IDEM = re.compile(r'name="idem" type="hidden" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
HOST = "127.0.0.1"
#: The least server work the guarantees need, without a framework (`load_qr_apps.Floor`).
FLOORS = (
    ("floor_fewest", "bench.load_qr_apps:floor_fewest_app"),
    ("floor_project", "bench.load_qr_apps:floor_project_app"),
)


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    counted: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    acknowledged: list[str] = field(default_factory=list)  # receipts of every 302 (warm-up included)
    lock: threading.Lock = field(default_factory=threading.Lock)
    window: float = 0.0
    first_answer: float | None = None
    ended_in_window: int = 0  # transactions that went through and ended inside the window
    server_cpu: float | None = None  # CPU seconds of the server's processes inside the window

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def project_env(workdir: Path, database_url: str | None = None, limits_storage: str | None = None) -> dict[str, str]:
    """The project's settings: SQLite in `workdir` unless `database_url`; the limit counters
    in `limits_storage` (e.g. Redis, as docs/operations.md sets production up), else the
    default (per worker, in memory). The limits are raised for the load either way."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIPAS_", "LOAD_QR_"))}
    if limits_storage:
        env.update(SIPAS_RATELIMIT_STORAGE_URI=limits_storage)
    env.update(
        SIPAS_INSTANCE_PATH=str(workdir),
        SIPAS_SECRET_KEY=SECRET,
        SIPAS_DATABASE_URL=database_url or f"sqlite:///{workdir / 'sipas.db'}",
        SIPAS_QR_RATE_LIMIT="1000000 per minute",  # a load test raises the limits (docs/operations.md)
        SIPAS_QR_ADDRESS_RATE_LIMIT="1000000 per minute",
        WEB_CONCURRENCY="2",
        PYTHONPATH=str(ROOT),
    )
    return env


def prepare(env: dict[str, str]) -> list[str]:
    """Migrate, publish, load the demo places and counters; the active counters' codes."""
    flask = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
    for args in (["db", "upgrade"], ["questionnaires", "publish"]):
        subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
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
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=300
    )
    return out.stdout.split()


def import_cpu_seconds(env: dict[str, str]) -> float:
    """User + system CPU of ``import wsgi`` in a fresh interpreter, as gunicorn's master does it
    (``SIPAS_WEB_ONLY=true`` from ``gunicorn.conf.py``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    web = {**env, "SIPAS_WEB_ONLY": "true"}
    subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=web, check=True, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class Server:
    """gunicorn with the project's gunicorn.conf.py, in its own process group."""

    def __init__(self, env: dict[str, str], app: str | None, log: Path) -> None:
        self.port = free_port()
        self.env = {**env, "GUNICORN_BIND": f"{HOST}:{self.port}"}
        self.args = [str(Path(sys.executable).with_name("gunicorn")), *([app] if app else [])]
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, probe: str, limit: float = 90.0) -> float:
        """Start; seconds until `probe` is first answered with 200."""
        began = time.monotonic()
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        while time.monotonic() - began < limit:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn stopped; see {self.log}")
            try:
                if request(connect(self.port, 2), "GET", probe)[0] == 200:
                    return time.monotonic() - began
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.01)
        raise RuntimeError(f"no answer within {limit:.0f} s; see {self.log}")

    def cpu_seconds(self) -> float:
        """User + system CPU of gunicorn's processes so far: the master, its live workers, and
        the workers it has reaped (recycled after ``max_requests``), from ``/proc``."""
        assert self.proc is not None
        total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a worker that ended meanwhile: its time is in the master's cutime now
                continue
            pid, ppid = int(entry.name), int(fields[1])
            if pid == self.proc.pid:
                total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
            elif ppid == self.proc.pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def connect(port: int, timeout: float = 30.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(HOST, port, timeout=timeout)


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    sent = dict(headers or {})
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=sent)
    reply = conn.getresponse()
    data = reply.read()
    if cookies is not None:
        for line in reply.headers.get_all("Set-Cookie") or []:
            name, _, value = line.split(";", 1)[0].partition("=")
            cookies[name.strip()] = value.strip()
    return reply.status, reply.headers, data


def answers(number: int, i: int) -> dict[str, str]:
    data = dict.fromkeys(ITEMS, str(1 + (i + number) % 5))
    data.update(loai_nguoi_tra_loi="ca_nhan", tuoi="35-49", nhom_linh_vuc="dat_dai", y_kien=f"người {number}-{i}")
    return data


def transaction(port: int, path: str, number: int, i: int, run: Run) -> bool:
    """One citizen: form, submit, thank-you page. True if it went through."""
    conn = connect(port)
    cookies: dict[str, str] = {}
    try:
        status, _, page = request(conn, "GET", path, cookies=cookies)
        text = page.decode()
        idem = IDEM.search(text)
        if status != 200 or idem is None:
            run.error(f"form {status}")
            return False
        data = {**answers(number, i), "idem": idem[1]}
        csrf = CSRF.search(text)
        if csrf:
            data["csrf_token"] = csrf[1]
        status, headers, _ = request(conn, "POST", path, urllib.parse.urlencode(data).encode(), cookies)
        location = urllib.parse.urlsplit(headers.get("Location", "")).path
        if status != 302 or "/cam-on/" not in location:
            run.error(f"submit {status}")
            return False
        receipt = location.rsplit("/", 1)[1]
        with run.lock:
            run.acknowledged.append(receipt)
        status, _, thanks = request(conn, "GET", location, cookies=cookies)
        if status != 200 or receipt.encode() not in thanks:
            run.error(f"thanks {status}")
            return False
        return True
    except (OSError, http.client.HTTPException) as exc:
        run.error(type(exc).__name__)
        return False
    finally:
        conn.close()


def load(server: Server, paths: list[str], run: Run, citizens: int, warmup: float, seconds: float, cap: int) -> None:
    port = server.port
    start = time.monotonic()
    counting_from, until = start + warmup, start + warmup + seconds

    done = threading.Event()  # the citizens stopped (the window's end, or the cap reached)

    def sample_cpu() -> None:  # the server's CPU seconds inside the counting window
        if done.wait(max(0.0, counting_from - time.monotonic())):
            return
        first = server.cpu_seconds()
        done.wait(max(0.0, until - time.monotonic()))
        run.server_cpu = server.cpu_seconds() - first

    def citizen(number: int) -> None:
        i = 0
        while time.monotonic() < until:
            with run.lock:
                if run.counted >= cap:
                    return
            i += 1
            began = time.monotonic()
            ok = transaction(port, paths[(number + i) % len(paths)], number, i, run)
            ended = time.monotonic()
            if ok and counting_from <= ended <= until:
                with run.lock:
                    run.ended_in_window += 1
            if ok and counting_from <= began and ended <= until:
                with run.lock:
                    run.latencies.append(ended - began)
                    run.counted += 1

    threads = [threading.Thread(target=citizen, args=(n,), daemon=True) for n in range(citizens)]
    sampler = threading.Thread(target=sample_cpu, daemon=True)
    sampler.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=warmup + seconds + 120)
    run.window = min(time.monotonic(), until) - counting_from
    done.set()
    sampler.join(timeout=30)


@contextlib.contextmanager
def fresh_postgres(server_url: str, name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database `name` on the server of `server_url` for the project's
    run (migrated and filled by `prepare`), dropped afterwards."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def stored_questionnaire(url: str) -> int:
    """The questionnaire version of the response stored when the page was captured."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT questionnaire_id FROM response ORDER BY id LIMIT 1")))
    finally:
        engine.dispose()


def stored(url: str, receipt_column: str) -> dict[str, int]:
    """Receipts and how many rows of the ``response`` table carry each, in the database at
    `url` (the project's, or a reference app's SQLite file)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = f"SELECT {receipt_column}, count(*) FROM response GROUP BY {receipt_column}"
            rows = conn.execute(sa.text(query)).all()
    finally:
        engine.dispose()
    return {str(r): int(n) for r, n in rows}


def check_stored(run: Run, counts: dict[str, int]) -> dict[str, int]:
    acknowledged = set(run.acknowledged)
    return {
        "acknowledged": len(run.acknowledged),
        "rows": sum(counts.values()),
        "acknowledged_missing": sum(1 for r in acknowledged if r not in counts),
        "stored_more_than_once": sum(1 for r in acknowledged if counts.get(r, 0) > 1),
        "receipt_acknowledged_twice": len(run.acknowledged) - len(acknowledged),
        "rows_not_acknowledged": sum(n for r, n in counts.items() if r not in acknowledged),
    }


def page_stats(port: int, path: str) -> dict[str, int]:
    conn = connect(port)
    try:
        _, _, raw = request(conn, "GET", path)
        _, headers, wire = request(conn, "GET", path, headers={"Accept-Encoding": "gzip"})
    finally:
        conn.close()
    html = raw.decode()
    return {
        "raw_bytes": len(raw),
        "gzip_bytes_sent": len(wire) if headers.get("Content-Encoding") == "gzip" else -1,
        "gzip6_bytes": len(gzip.compress(raw, 6)),
        "elements": len(re.findall(r"<[a-zA-Z]", html)),
        "radios": html.count('type="radio"'),
    }


def summary(run: Run) -> dict[str, object]:
    q = statistics.quantiles(run.latencies, n=100) if len(run.latencies) >= 2 else [float("nan")] * 99
    return {
        "transactions": run.counted,
        "seconds": round(run.window, 2),
        "per_second": round(run.counted / run.window, 1) if run.window > 0 else 0.0,
        "p50_ms": round(q[49] * 1000),
        "p95_ms": round(q[94] * 1000),
        "p99_ms": round(q[98] * 1000),
        "errors": dict(run.errors),
        "first_answer_s": round(run.first_answer, 2) if run.first_answer is not None else None,
        "server_cpu_ms_per_transaction": (
            round(1000 * run.server_cpu / run.ended_in_window, 2)
            if run.server_cpu is not None and run.ended_in_window
            else None
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--max-transactions", type=int, default=20000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run the project on a new database made on this PostgreSQL server (and dropped after), "
        "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres; the references stay on SQLite",
    )
    parser.add_argument(
        "--limits-storage", metavar="URI", help="the project's limit counters, e.g. redis://127.0.0.1:6379/0"
    )
    args = parser.parse_args()
    if not (1 <= args.citizens <= 64 and 0 < args.seconds <= 120 and 0 <= args.warmup <= 30):
        parser.error("--citizens 1–64, --seconds up to 120, --warmup up to 30")

    workdir = Path(tempfile.mkdtemp(prefix="sipas-load-qr-"))
    with contextlib.ExitStack() as stack:
        database_url = None
        if args.postgres:
            database_url = stack.enter_context(fresh_postgres(args.postgres, f"sipas_load_{workdir.name[-8:].lower()}"))
        return run_all(args, workdir, database_url)


def run_all(args: argparse.Namespace, workdir: Path, database_url: str | None) -> int:
    env = project_env(workdir, database_url, args.limits_storage)
    codes = prepare(env)
    floors = FLOORS if database_url is None else ()  # the floors work on a copy of the SQLite file
    for name, _ in floors:  # copies of the migrated database with the demo counters, no response yet
        source, copy = sqlite3.connect(workdir / "sipas.db"), sqlite3.connect(workdir / f"{name}.db")
        with contextlib.closing(source), contextlib.closing(copy):
            source.backup(copy)
    paths = [f"/q/{c}" for c in codes]
    cpu = import_cpu_seconds(env)
    results: dict[str, object] = {
        "workdir": str(workdir),
        "project_database": sa.make_url(env["SIPAS_DATABASE_URL"]).get_backend_name(),
        "project_limits_storage": args.limits_storage or "memory://",
        "import_cpu_s": round(cpu, 2),
        "args": vars(args) | {"json": str(args.json)},
    }
    servers: list[Server] = []
    try:
        # (a) the project
        project = Server(env, None, workdir / "project.log")
        servers.append(project)
        run_a = Run("project")
        run_a.first_answer = project.start(paths[0])
        results["page"] = page_stats(project.port, paths[0])
        conn = connect(project.port)
        cookies: dict[str, str] = {}
        _, _, page = request(conn, "GET", paths[0], cookies=cookies)  # captured just before the run
        text = page.decode()
        data = {**answers(99, 0), "idem": IDEM.search(text)[1]}  # type: ignore[index]
        if CSRF.search(text):
            data["csrf_token"] = CSRF.search(text)[1]  # type: ignore[index]
        _, headers, _ = request(conn, "POST", paths[0], urllib.parse.urlencode(data).encode(), cookies)
        _, _, thanks = request(conn, "GET", urllib.parse.urlsplit(headers["Location"]).path, cookies=cookies)
        conn.close()
        (workdir / "page.html").write_bytes(page)
        (workdir / "thanks.html").write_bytes(thanks)
        run_a.acknowledged.append(urllib.parse.urlsplit(headers["Location"]).path.rsplit("/", 1)[1])
        load(project, paths, run_a, args.citizens, args.warmup, args.seconds, args.max_transactions)
        project.stop()
        counts = stored(env["SIPAS_DATABASE_URL"], "receipt_code")
        results["project"] = summary(run_a) | {"stored": check_stored(run_a, counts)}

        # (b) the static app with the captured page, (c) the trivial form
        runs = {"project": run_a}
        references = (
            ("static", "bench.load_qr_apps:static_app"),
            ("trivial", "bench.load_qr_apps:trivial_app"),
            ("flask", "bench.load_qr_apps:flask_app"),
            *floors,
        )
        questionnaire_id = stored_questionnaire(env["SIPAS_DATABASE_URL"])
        for name, app in references:
            db_path = workdir / f"{name}.db"
            if not name.startswith("floor"):
                create_database(str(db_path))
            ref_env = {
                **env,
                "LOAD_QR_DB": str(db_path),
                "LOAD_QR_PAGE": str(workdir / "page.html"),
                "LOAD_QR_THANKS": str(workdir / "thanks.html"),
                "LOAD_QR_SECRET": SECRET,
                "LOAD_QR_QUESTIONNAIRE_ID": str(questionnaire_id),
            }
            server = Server(ref_env, app, workdir / f"{name}.log")
            servers.append(server)
            run = Run(name)
            run.first_answer = server.start(paths[0])
            load(server, paths, run, args.citizens, args.warmup, args.seconds, args.max_transactions)
            server.stop()
            column = "receipt_code" if name.startswith("floor") else "receipt"
            results[name] = summary(run) | {"stored": check_stored(run, stored(f"sqlite:///{db_path}", column))}
            runs[name] = run
    finally:
        for server in servers:
            server.stop()

    names = ("project", "static", "trivial", "flask", *(name for name, _ in floors))
    per_second = {name: results[name]["per_second"] for name in names}  # type: ignore[index]
    for name, _ in floors:
        results[f"ratio_{name}_to_static"] = round(per_second[name] / per_second["static"], 3)
    results["ratio_project_to_static"] = round(per_second["project"] / per_second["static"], 3)
    results["ratio_project_to_trivial"] = round(per_second["project"] / per_second["trivial"], 3)
    results["ratio_project_to_bare_flask"] = round(per_second["project"] / per_second["flask"], 3)
    results["ratio_bare_flask_to_static"] = round(per_second["flask"] / per_second["static"], 3)
    cpu = {name: results[name]["server_cpu_ms_per_transaction"] for name in names}  # type: ignore[index]
    if cpu["project"] and cpu["static"]:
        results["server_cpu_project_over_static"] = round(cpu["project"] / cpu["static"], 2)
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    lost = sum(
        results[name]["stored"]["acknowledged_missing"] + results[name]["stored"]["stored_more_than_once"]  # type: ignore[index]
        for name in names
    )
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
