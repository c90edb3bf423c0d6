"""Benchmark: a weighting snapshot of N stored QR responses, and its dashboard.

    .venv/bin/python bench/snapshot.py --rows 1000000 [--database-url URL]

Fills a fresh database with N responses (as bench/wide_table.py, spread over 13 weeks) and a
round whose frame has dossiers in every place × field group, then times
`survey.reports.snapshots.build_qr_snapshot` (read, post-stratify, every estimate, store) and
the dashboard page of the stored snapshot. The fill is not timed.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import date

import sqlalchemy as sa
from _common import arguments, fresh_app
from wide_table import fill

from survey.extensions import db
from survey.models import FIELD_GROUPS, FrameRecord, Place, Questionnaire, Response, SurveyRound, User
from survey.reports import snapshots


def frame_round() -> SurveyRound:
    questionnaire = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu")).one()
    survey_round = SurveyRound(
        name=f"Khung benchmark {time.time_ns()}",  # a database can be reused (1M rows take long to fill)
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        questionnaire_id=questionnaire.id,
    )
    db.session.add(survey_round)
    db.session.flush()
    rows = []
    for place_id in db.session.scalars(sa.select(Place.id)):
        for group in FIELD_GROUPS:
            for k in range(30):
                rows.append(
                    {
                        "round_id": survey_round.id,
                        "dossier_code": f"B-{place_id}-{group}-{k}",
                        "field_group": group,
                        "place_id": place_id,
                        "result_date": date(2026, 2, 1),
                        "stratum": f"{place_id}|{group}",
                    }
                )
    db.session.execute(sa.insert(FrameRecord.__table__), rows)
    db.session.commit()
    return survey_round


def main() -> None:
    args = arguments(__doc__)
    app, _workdir = fresh_app(args.database_url, "sipas-bench-snapshot-")
    with app.app_context():
        existing = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
        if existing < args.rows:
            fill(args.rows - existing)
        if db.engine.dialect.name == "postgresql":
            spread = "timestamptz '2026-01-05 08:00+07' + (id % 91) * interval '1 day'"
        else:
            spread = "datetime('2026-01-05 01:00:00', '+' || (id % 91) || ' days')"
        db.session.execute(sa.text(f"UPDATE response SET submitted_at = {spread}"))
        db.session.commit()
        survey_round = frame_round()
        db.session.expire_all()
        t0 = time.perf_counter()
        made = snapshots.build_qr_snapshot(
            db.session, slug="sipas-dich-vu", start=date(2026, 1, 1), end=date(2026, 4, 30), frame_round=survey_round
        )
        db.session.commit()
        build = time.perf_counter() - t0
        print(f"  snapshot built in {build:.2f} s", file=sys.stderr, flush=True)
        analyst = db.session.scalars(sa.select(User).where(User.username == "phantich")).one()
        app.config["WTF_CSRF_ENABLED"] = False  # the benchmark signs in without a form
        client = app.test_client()
        client.post("/dang-nhap", data={"username": analyst.username, "password": "sipas-demo-2026"})
        timings = []
        for _ in range(3):
            t0 = time.perf_counter()
            page = client.get(f"/phan-tich/quyen-so/{made.id}")
            timings.append(time.perf_counter() - t0)
            assert page.status_code == 200, page.status_code
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "backend": db.engine.dialect.name,
                    "respondents": made.respondents,
                    "clusters": int(made.report.get("n", 0)) and len(set(snapshots.snapshot_weights(made)["psu"])),
                    "build_seconds": round(build, 2),
                    "dashboard_seconds": [round(t, 3) for t in timings],
                    "peak_rss_mb": round(peak),
                }
            )
        )


if __name__ == "__main__":
    main()
