"""Benchmark: a round of 20,000 cases through the site served by gunicorn — the 60,000-row
frame upload through the page, the draw, and the case lists (first page, filtered pages, a
search, the last page), with the home page timed in the same run as a reference.

    .venv/bin/python bench/case_list.py [--frame-rows 60000] [--cases 20000] [--repeat 5]
                                        [--database-url URL]

Starts gunicorn with the shipped ``gunicorn.conf.py`` (2 workers, loopback only) on a fresh
database with the demo places and users, then, as the demo analyst, uploads the one-stop
system's export (``tests/survey/paper/export.py``: Vietnamese headers, national procedure
codes, "Chủ hồ sơ") through the round page and draws `cases` cases (proportional, 20 %
reserves). Two thirds of the cases are then given to the two demo interviewers and a tenth get
an outcome (directly in the database: that set-up is not what is measured). As the demo team
leader it times each list request `repeat` times: time to the first byte and to the whole
response (median and worst), and the bytes sent. Only 127.0.0.1; every request is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

from crash import prepare, start, wait_ready

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "d" * 48
DEMO_PASSWORD = "sipas-demo-2026"


class Client:
    """A browser enough for the benchmark: cookies, the CSRF token of the last page, timings."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, dict[str, str], bytes, float, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        began = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        reply = conn.getresponse()
        first_byte = time.perf_counter() - began
        data = reply.read()
        whole = time.perf_counter() - began
        conn.close()
        for header, value in reply.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        found = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', data)
        if found:
            self.csrf = found.group(1).decode()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, data, first_byte, whole

    def get(self, path: str) -> tuple[int, dict[str, str], bytes, float, float]:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], bytes, float, float]:
        body = urllib.parse.urlencode({"csrf_token": self.csrf, **fields}).encode()
        return self.request("POST", path, body, "application/x-www-form-urlencoded")

    def upload(self, path: str, name: str, content: bytes) -> tuple[int, dict[str, str], bytes, float, float]:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{self.csrf}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.request("POST", path, body, f"multipart/form-data; boundary={boundary}")

    def sign_in(self, username: str) -> None:
        self.cookies.clear()
        self.get("/dang-nhap")
        status, *_ = self.post("/dang-nhap", {"username": username, "password": DEMO_PASSWORD})
        assert status == 302, f"sign-in of {username} answered {status}"


def _env(workdir: Path, database_url: str, port: int) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_")}
    env.update(
        SIPAS_INSTANCE_PATH=str(workdir),
        SIPAS_SECRET_KEY=SECRET,
        SIPAS_DATABASE_URL=database_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        PYTHONPATH=str(ROOT),
    )
    return env


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def export_file(database_url: str, env: dict[str, str], rows: int) -> bytes:
    """The one-stop system's export of `rows` dossiers at the demo places (test helper)."""
    code = (
        "import sys, wsgi\n"
        "from survey.extensions import db\n"
        "from tests.survey.paper.export import export_csv, export_rows, place_names\n"
        "with wsgi.app.app_context():\n"
        "    places = place_names(db.session, 12)\n"
        f"sys.stdout.buffer.write(export_csv(export_rows(places, {rows}), bom=True))\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True).stdout


def spread_work(env: dict[str, str], round_id: int) -> dict[str, object]:
    """Give two thirds of the cases to the two demo interviewers and an outcome to a tenth (set-up)."""
    code = f"""
import json, wsgi, sqlalchemy as sa
from survey.extensions import db
from survey.models import FrameRecord, SampledCase, User
with wsgi.app.app_context():
    ids = dict(db.session.execute(sa.select(User.username, User.id)).all())
    cases = db.session.execute(sa.select(SampledCase.id).where(SampledCase.round_id == {round_id},
        SampledCase.active).order_by(SampledCase.stratum, SampledCase.draw_order)).scalars().all()
    a, b = ids["dieutravien"], ids["dieutravien2"]
    db.session.execute(sa.update(SampledCase).where(SampledCase.id.in_(cases[0::3])).values(surveyor_id=a))
    db.session.execute(sa.update(SampledCase).where(SampledCase.id.in_(cases[1::3])).values(surveyor_id=b))
    db.session.execute(sa.update(SampledCase).where(SampledCase.id.in_(cases[0::10])).values(outcome="refused"))
    db.session.execute(sa.update(SampledCase).where(SampledCase.id.in_(cases[5::10])).values(outcome="completed"))
    db.session.commit()
    row = db.session.execute(sa.select(FrameRecord.place_id, FrameRecord.field_group, FrameRecord.dossier_code,
        SampledCase.form_serial).join(SampledCase, SampledCase.frame_record_id == FrameRecord.id)
        .where(SampledCase.id == cases[len(cases) // 2])).one()
    print(json.dumps(dict(cases=len(cases), interviewer=a, place=row[0], group=row[1], dossier=row[2],
        serial=row[3])))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def timed(client: Client, path: str, repeat: int) -> dict[str, object]:
    ttfb, whole, size = [], [], 0
    for _ in range(repeat):
        status, _headers, data, first, total = client.get(path)
        assert status == 200, f"{path} answered {status}"
        ttfb.append(first)
        whole.append(total)
        size = len(data)
    return {
        "ttfb_median_ms": round(1000 * statistics.median(ttfb)),
        "total_median_ms": round(1000 * statistics.median(whole)),
        "total_worst_ms": round(1000 * max(whole)),
        "kib": round(size / 1024),
    }


def run(frame_rows: int, cases: int, repeat: int, database_url: str | None) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="sipas-cases-"))
    database_url = database_url or f"sqlite:///{workdir / 'cases.db'}"
    port = _port()
    env = _env(workdir, database_url, port)
    prepare(database_url, env)
    content = export_file(database_url, env, frame_rows)
    server = start(env, workdir / "gunicorn.log")
    result: dict[str, object] = {"database": database_url.split(":", 1)[0], "frame_rows": frame_rows}
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        client = Client(port)
        result["reference_home_page"] = timed(client, "/", repeat)
        client.sign_in("phantich")
        client.get("/phan-tich/dot")
        status, headers, *_ = client.post(
            "/phan-tich/dot", {"name": "Quý I/2026", "period_start": "2026-01-01", "period_end": "2026-03-31"}
        )
        assert status == 302, status
        round_path = urllib.parse.urlparse(headers["location"]).path
        round_id = int(round_path.rstrip("/").rsplit("/", 1)[1])
        client.get(round_path)
        status, _h, body, _first, whole = client.upload(f"{round_path}/khung", "khung.csv", content)
        assert status == 302, (status, body[:2000])
        result["frame_upload"] = {"mib": round(len(content) / 2**20, 1), "seconds": round(whole, 2)}
        client.get(round_path)
        status, _h, body, _f, whole = client.post(
            f"{round_path}/chon-mau",
            {"method": "proportional", "total_n": str(cases), "minimum": "2", "reserve_rate": "0.2", "seed": "7"},
        )
        assert status == 302, (status, body[:2000])
        result["draw_seconds"] = round(whole, 2)
        facts = spread_work(env, round_id)
        result["cases_in_field"] = facts["cases"]
        client.sign_in("totruong")
        client.get("/nhap-phieu/")
        base = f"/nhap-phieu/dot/{round_id}/phan-cong"
        pages = -(-int(facts["cases"]) // 50)  # type: ignore[call-overload]
        lists = {
            "page 1": base,
            "page 2 of place + field group": f"{base}?noi={facts['place']}&nhom={facts['group']}&trang=2",
            "interviewer + no outcome yet": f"{base}?dtv={facts['interviewer']}&kq=chua-co",
            "refused": f"{base}?kq=refused",
            "search a dossier code": f"{base}?tim={urllib.parse.quote(str(facts['dossier']))}",
            "search a serial": f"{base}?tim={facts['serial']}",
            f"last page ({pages})": f"{base}?trang={pages}",
            "200 per page, page 50": f"{base}?n=200&trang=50",
        }
        result["case_list"] = {name: timed(client, path, repeat) for name, path in lists.items()}
        sheet = f"/nhap-phieu/dot/{round_id}/bang-phan-cong/{facts['interviewer']}"
        result["assignment_sheet_pdf_part_1_200_cases"] = timed(client, sheet + ".pdf", 1)
        result["questionnaires_pdf_part_1_40_cases"] = timed(client, sheet + "/phieu.pdf", 1)
        result["reference_home_page_after"] = timed(Client(port), "/", repeat)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame-rows", type=int, default=60_000)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()
    print(json.dumps(run(args.frame_rows, args.cases, args.repeat, args.database_url), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
