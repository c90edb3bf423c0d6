"""Benchmark: what the background breakdowns add to a QR weighting run.

    .venv/bin/python bench/background_breakdowns.py --rows 200000 [--database-url URL]

Fills a fresh database with N QR responses (as bench/wide_table.py, spread over 13 weeks) and a
round whose frame has dossiers in every place × field group, then times, in the same run: the
QR inputs without and with the background answers (read from the JSON answers), every
estimate of the run (`estimate_all`) and the background estimates (`estimate_background`).
"""

from __future__ import annotations

import json
import time
from datetime import date

import sqlalchemy as sa
from _common import arguments, fresh_app
from snapshot import frame_round
from wide_table import fill

from analysis.design import make_design
from survey.extensions import db
from survey.reports import background, snapshots


def main() -> None:
    args = arguments(__doc__)
    app, _workdir = fresh_app(args.database_url, "sipas-bench-background-")
    with app.app_context():
        fill(args.rows)
        if db.engine.dialect.name == "postgresql":
            spread = "timestamptz '2026-01-05 08:00+07' + (id % 91) * interval '1 day'"
        else:
            spread = "datetime('2026-01-05 01:00:00', '+' || (id % 91) || ' days')"
        db.session.execute(sa.text(f"UPDATE response SET submitted_at = {spread}"))
        db.session.commit()
        source = snapshots.CountSource(frame_round(), None)
        db.session.expire_all()
        times = {}
        for with_background in (False, True):
            t0 = time.perf_counter()
            inputs = snapshots.qr_inputs(
                db.session, "sipas-dich-vu", date(2026, 1, 1), date(2026, 4, 30), source, background=with_background
            )
            times[f"inputs_background_{with_background}"] = round(time.perf_counter() - t0, 2)
        wide = inputs.wide
        design = make_design(
            strata=wide["cell"].cat.codes.to_numpy(),
            psu=wide["psu"].cat.codes.to_numpy(),
            weights=wide["cell_total"].to_numpy(dtype=float),
        )
        t0 = time.perf_counter()
        snapshots.estimate_all(wide, design, inputs.spec)
        times["estimate_all"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        background.estimate_background(wide, design, inputs.spec, list(inputs.background))
        times["estimate_background"] = round(time.perf_counter() - t0, 2)
        print(json.dumps({"backend": db.engine.dialect.name, "rows": len(wide), **times}))


if __name__ == "__main__":
    main()
