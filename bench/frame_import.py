"""Benchmark: import a 1,000,000-row sampling frame (CSV), as `flask frame import` does.

    .venv/bin/python bench/frame_import.py --rows 1000000 [--database-url URL]

Writes a realistic export (Vietnamese headers, 100 places × 4 field groups, names, phones,
addresses) to a temporary folder, then times reading, checking and storing it in one
transaction. Target (issue 4): under a minute.

The same import through the round page, served by gunicorn (a 60,000-row export of the
one-stop system, multipart upload with the CSRF token), is timed by ``bench/case_list.py``.
"""

from __future__ import annotations

import json
import resource
import time
from datetime import date
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from _common import arguments, fresh_app

from survey import questionnaires
from survey.demo import PROVINCE_CENTRE
from survey.extensions import db
from survey.paper import frames
from survey.paper.rounds import create_round


def write_csv(path: Path, n: int, place_codes: list[str], seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    groups = np.array(["Đất đai", "Xây dựng", "Đầu tư", "Khác"])
    place = np.array(place_codes)[rng.integers(0, len(place_codes), n)]
    group = groups[rng.choice(4, n, p=[0.35, 0.15, 0.05, 0.45])]
    day = rng.integers(1, 29, n)
    month = rng.integers(1, 4, n)
    with path.open("w", encoding="utf-8-sig") as fh:
        fh.write(
            "Mã hồ sơ,Mã TTHC,Lĩnh vực,Nhóm lĩnh vực,Nơi tiếp nhận,Ngày trả kết quả,Họ tên,Số điện thoại,Địa chỉ\n"
        )
        for i in range(n):
            fh.write(
                f"H{i:09d},DD.01,Đất đai,{group[i]},{place[i]},{day[i]:02d}/{month[i]:02d}/2026,"
                f"Nguyễn Thị Hồng {i % 997},09{i:08d},Số {i % 300} đường Nguyễn Trãi phường {place[i]}\n"
            )


def main() -> None:
    args = arguments(__doc__)
    app, workdir = fresh_app(args.database_url, "sipas-frame-")
    with app.app_context():
        survey_round = create_round(
            db.session,
            name=f"bench {time.time()}",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 3, 31),
            questionnaire=questionnaires.get(db.session, "sipas-dich-vu"),
        )
        db.session.commit()
        from survey.models import Place

        codes = list(db.session.scalars(sa.select(Place.code)))
        assert PROVINCE_CENTRE[0] in codes
        path = workdir / "khung.csv"
        write_csv(path, args.rows, codes)
        t0 = time.perf_counter()
        table = frames.read_table(path.read_bytes(), path.name)
        t1 = time.perf_counter()
        checked = frames.check(db.session, survey_round, table)
        t2 = time.perf_counter()
        stored = frames.store(db.session, survey_round, checked)
        db.session.commit()
        t3 = time.perf_counter()
        print(
            json.dumps(
                {
                    "backend": db.engine.dialect.name,
                    "rows": stored,
                    "file_mb": round(path.stat().st_size / 2**20, 1),
                    "read_s": round(t1 - t0, 1),
                    "check_s": round(t2 - t1, 1),
                    "store_s": round(t3 - t2, 1),
                    "total_s": round(t3 - t0, 1),
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                }
            )
        )


if __name__ == "__main__":
    main()
