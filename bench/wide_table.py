"""Benchmark: read N stored responses into the wide table the analysis needs.

    .venv/bin/python bench/wide_table.py --rows 1000000 [--other-rows N] [--database-url URL]

Fills a fresh database (SQLite file by default; pass a PostgreSQL URL to measure that)
with N realistic responses — every answer in the JSON column, the coded string beside it,
the submission time (a working day of 2026, to the microsecond) as stored responses have it —
then times `survey.responses.wide_table`. The fill is not timed; on PostgreSQL it ends with
``VACUUM (ANALYZE)`` (what autovacuum does after many inserts: the read is an index-only
scan). ``--other-rows N`` stores N responses of another questionnaire (the short form,
``sipas-ngan``) after them: a database that holds more than the questionnaire read, as one
does after a few years of versions. A database filled by an earlier run is reused (pass its
URL: ``sqlite:////path/bench.db``). Results go to stdout; copy them into docs/benchmarks.md with
the command.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from _common import arguments, fresh_app

from survey.extensions import db
from survey.models import Counter, Questionnaire, Response
from survey.responses.wide import wide_table


def stored(slug: str) -> int:
    """How many responses of the questionnaire `slug` the database holds."""
    counted = sa.select(sa.func.count()).select_from(Response).join(Questionnaire).where(Questionnaire.slug == slug)
    return db.session.scalar(counted) or 0


def fill(n: int, chunk: int = 50_000, seed: int = 1, slug: str = "sipas-dich-vu", prefix: str = "B") -> None:
    rng = np.random.default_rng(seed)
    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == slug)).one()
    layout = questionnaire.coded_layout
    counters = db.session.execute(sa.select(Counter.id, Counter.place_id)).all()
    groups = np.array(["dat_dai", "xay_dung", "dau_tu", "khac"])
    table = Response.__table__
    year_start = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        # submitted during a working year: a day, then a time in office hours, to the microsecond
        offsets = rng.integers(0, 365, size=m) * 86_400_000_000 + rng.integers(0, 9 * 3_600_000_000, size=m)
        codes = rng.choice([1, 2, 3, 4, 5, 9], size=(m, len(layout)), p=[0.02, 0.04, 0.09, 0.45, 0.38, 0.02])
        which = rng.integers(0, len(counters), size=m)
        group = groups[rng.integers(0, 4, size=m)]
        rows = []
        for i in range(m):
            answers = {code: int(v) for code, v in zip(layout, codes[i], strict=True)}
            answers.update(nhom_linh_vuc=str(group[i]), loai_nguoi_tra_loi="ca_nhan", tuoi="35-49", gioi_tinh="nu")
            counter_id, place_id = counters[which[i]]
            rows.append(
                {
                    "questionnaire_id": questionnaire.id,
                    "channel": "qr",
                    "status": "submitted",
                    "place_id": place_id,
                    "counter_id": counter_id,
                    "field_group": str(group[i]),
                    "receipt_code": f"{prefix}{start + i:012d}",
                    "answers": answers,
                    "coded": "".join(map(str, codes[i])),
                    "submitted_at": year_start + timedelta(microseconds=int(offsets[i])),
                    "created_at": year_start + timedelta(microseconds=int(offsets[i])),
                }
            )
        db.session.execute(sa.insert(table), rows)
        db.session.commit()
        print(f"  filled {start + m:,} rows", file=sys.stderr, flush=True)


def main() -> None:
    args = arguments(
        __doc__,
        lambda parser: parser.add_argument(
            "--other-rows", type=int, default=0, help="responses of another questionnaire, stored after"
        ),
    )
    app, _workdir = fresh_app(args.database_url, "sipas-bench-")
    with app.app_context():
        filled = False
        for slug, prefix, wanted in (("sipas-dich-vu", "B", args.rows), ("sipas-ngan", "N", args.other_rows)):
            existing = stored(slug)
            if existing < wanted:
                fill(wanted - existing, slug=slug, prefix=prefix)
                filled = True
        if filled and db.engine.dialect.name == "postgresql":
            # as autovacuum does after a bulk of inserts: statistics, and the visibility map
            # an index-only scan needs (untimed, like the fill)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("VACUUM (ANALYZE) response"))
        questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).one()
        db.session.expire_all()
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        frame = wide_table(db.session, questionnaire)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "backend": db.engine.dialect.name,
                    "rows": len(frame),
                    "responses_in_table": db.session.scalar(sa.select(sa.func.count()).select_from(Response)),
                    "columns": frame.shape[1],
                    "seconds": round(elapsed, 2),
                    "cpu_seconds": round(cpu, 2),  # this process, all its threads (not the database server)
                    "load_average": round(load, 1),
                    "peak_rss_mb": round(peak),
                }
            )
        )


if __name__ == "__main__":
    main()
