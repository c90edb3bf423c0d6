"""CPU time of the citizen's requests inside one process (Flask's test client, SQLite, demo data).

    .venv/bin/python bench/qr_cpu.py [--requests 200] [--profile]

Prints the process CPU milliseconds per request for the questionnaire page, the home page and
``/healthz`` (the floor: routing, hooks, session, headers), and per citizen transaction (form,
submit, thank-you page). CPU time rather than wall time, so that other work on the machine
matters less; compare the lines with each other (a ratio), not with another day's figures.

``--profile`` also counts the SQL statements of each of a transaction's three requests and
runs the transactions once more under cProfile: milliseconds per transaction spent in each
part of the server's work (the parts overlap: a view includes its lookups; the profiler
inflates every figure, so read them as shares).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
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
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    n = args.requests
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
    if args.profile:
        profile(app, url, transaction, n)


#: (part, how to find it among the profiled functions: file name ending, function name)
PARTS = [
    ("all three requests through Flask.wsgi_app", "flask/app.py", "wsgi_app"),
    ("before-request hooks (language, audit actor, limiter)", "flask/app.py", "preprocess_request"),
    ("after-request hooks (headers, cookies, compression, session)", "flask/app.py", "process_response"),
    ("teardown (session removed)", "flask/app.py", "do_teardown_appcontext"),
    ("the questionnaire view, GET + POST", "survey/public/views.py", "questionnaire"),
    ("- counter lookup, GET + POST", "survey/qr/counters.py", "lookup"),
    ("- questionnaire version, GET + POST", "survey/qr/submit.py", "questionnaire_for"),
    ("- the form page from the cache (GET)", "survey/public/form_page.py", "new_form_page"),
    ("- WTForms form built (POST)", "survey/qr/submit.py", "form_for"),
    ("- WTForms validation (POST)", "wtforms/form.py", "validate"),
    ("- idempotency key lookup (POST)", "survey/qr/submit.py", "stored_receipt"),
    ("- resubmit digest (POST)", "survey/qr/submit.py", "resubmit_key"),
    ("- resubmit lookup (POST)", "survey/qr/submit.py", "resubmitted_receipt"),
    ("- record_response: same-device check, insert, flush (POST)", "survey/responses/recording.py", "record_response"),
    ("- commit (POST)", "sqlalchemy/orm/scoping.py", "commit"),
    ("the thank-you view", "survey/public/views.py", "thanks"),
]


def profile(app, url: str, transaction, n: int) -> None:  # type: ignore[no-untyped-def]
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split(None, 1)[0].upper())

    client = app.test_client()
    client.get(url)  # the device cookie
    sa.event.listen(engine, "before_cursor_execute", count)
    page = client.get(url).get_data(as_text=True)
    form = len(statements)
    data = dict.fromkeys(ITEMS, "3") | {"loai_nguoi_tra_loi": "ca_nhan", "tuoi": "35-49", "nhom_linh_vuc": "dat_dai"}
    data["idem"] = re.search(r'name="idem" type="hidden" value="([^"]+)"', page)[1]  # type: ignore[index]
    data["csrf_token"] = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]  # type: ignore[index]
    reply = client.post(url, data=data)
    submit = len(statements) - form
    client.get(reply.headers["Location"])
    thanks = len(statements) - form - submit
    sa.event.remove(engine, "before_cursor_execute", count)
    print(f"SQL statements: form {form}, submit {submit}, thank-you {thanks}")
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        transaction(5000 + i)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    print("| part | ms per transaction (profiled) |\n|---|---|")
    for label, where, function in PARTS:
        total = sum(row[3] for (path, _, name), row in stats.items() if name == function and path.endswith(where))
        print(f"| {label} | {total / n * 1000:.2f} |")


if __name__ == "__main__":
    main()
