"""CPU time of the citizen's requests inside one process (Flask's test client, SQLite, demo data).

    .venv/bin/python bench/qr_cpu.py [--requests 200]

Prints the process CPU milliseconds per request for the questionnaire page, the home page and
``/healthz`` (the floor: routing, hooks, session, headers), and per citizen transaction (form,
submit, thank-you page). CPU time rather than wall time, so that other work on the machine
matters less; compare the lines with each other (a ratio), not with another day's figures.
"""

from __future__ import annotations

import argparse
import re
import time

import sqlalchemy as sa
from _common import fresh_app

from survey.extensions import db
from survey.models import Counter, Place
from survey.qr.counters import counter_code

ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    n = parser.parse_args().requests
    app, _ = fresh_app(None, "sipas-qr-cpu-")
    app.config["QR_RATE_LIMIT"] = app.config["QR_ADDRESS_RATE_LIMIT"] = "1000000 per minute"
    with app.app_context():
        counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.code == "P001")).first()
        url = "/q/" + counter_code(app.config["SECRET_KEY"], counter)
    client = app.test_client()

    def transaction(i: int) -> None:
        page = client.get(url).get_data(as_text=True)
        data = dict.fromkeys(ITEMS, str(1 + i % 5))
        data.update(loai_nguoi_tra_loi="ca_nhan", tuoi="35-49", nhom_linh_vuc="dat_dai", y_kien=f"n{i}")
        data["idem"] = re.search(r'name="idem" type="hidden" value="([^"]+)"', page)[1]  # type: ignore[index]
        data["csrf_token"] = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]  # type: ignore[index]
        reply = client.post(url, data=data)
        assert reply.status_code == 302, reply.status_code
        assert client.get(reply.headers["Location"]).status_code == 200

    for i in range(20):  # warm: templates compiled, caches filled
        transaction(i)
    steps = [
        ("GET questionnaire", lambda i: client.get(url)),
        ("GET /", lambda i: client.get("/")),
        ("GET /healthz", lambda i: client.get("/healthz")),
        ("transaction", lambda i: transaction(1000 + i)),
    ]
    for name, step in steps:
        began = time.process_time()
        for i in range(n):
            step(i)
        print(f"{name:20} {(time.process_time() - began) / n * 1000:6.2f} ms CPU")


if __name__ == "__main__":
    main()
