"""Property-based fuzzing (hypothesis) of what strangers and typos can send: the citizen's
form, the paper-entry form, the frame import and the analysis CLI. Expected: a 4xx page or
one precise error line — never a 5xx or a traceback, and nothing stored from a rejected
request. Bounded here (SIPAS_TEST_FUZZ_EXAMPLES, default 20 per property); bench/fuzz.sh runs
them longer."""

from __future__ import annotations

import os
import re
import string
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from survey.models import FrameRecord, PaperForm, Response
from survey.qr.counters import counter_code

EXAMPLES = int(os.environ.get("SIPAS_TEST_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ROOT = Path(__file__).resolve().parents[3]
ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]
FIELDS = [*ITEMS, "loai_nguoi_tra_loi", "tuoi", "nhom_linh_vuc", "y_kien", "ma_ho_so", "csrf_token", "idem", "x"]
# Values people and scripts really send: codes, blanks, very long text, control characters,
# look-alike digits, markup.
values = st.one_of(
    st.sampled_from(["", "1", "5", "9", "0", "10", "-1", "5.0", "٥", "５", "<script>", "' OR 1=1 --", "dat_dai"]),
    st.text(max_size=40),
    st.text(alphabet=string.printable, min_size=200, max_size=5000),
)
forms = st.dictionaries(st.sampled_from(FIELDS), values, max_size=len(FIELDS))


def count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_citizen_form_never_fails(app, client, db, demo) -> None:
    from survey.models import Counter

    counter = db.session.scalars(sa.select(Counter).order_by(Counter.id)).first()
    url = "/q/" + counter_code(app.config["SECRET_KEY"], counter)
    app.config["QR_RATE_LIMIT"] = app.config["QR_ADDRESS_RATE_LIMIT"] = "100000 per minute"

    complete = dict.fromkeys(ITEMS, "4") | {
        "loai_nguoi_tra_loi": "ca_nhan",
        "tuoi": "35-49",
        "nhom_linh_vuc": "dat_dai",
    }

    @FUZZ
    @given(data=forms, fresh_key=st.booleans(), start_complete=st.booleans())
    def post(data: dict[str, str], fresh_key: bool, start_complete: bool) -> None:
        if start_complete:  # mostly valid answers with a few fields changed
            data = {**complete, **dict(list(data.items())[:2])}
        if fresh_key:
            page = client.get(url).get_data(as_text=True)
            data = {**data, "idem": re.search(r'name="idem" type="hidden" value="([^"]+)"', page)[1]}
        before = count(db, Response)
        response = client.post(url, data=data)
        event(f"citizen form answered {response.status_code}")
        assert response.status_code < 500, (response.status_code, data)
        if response.status_code != 302:
            assert count(db, Response) == before

    try:
        post()
    finally:
        app.config["QR_RATE_LIMIT"] = "10 per minute;60 per hour"
        app.config["QR_ADDRESS_RATE_LIMIT"] = "120 per minute;1200 per hour"


@FUZZ
@given(body=st.binary(max_size=300))
def test_raw_bodies_never_fail(app, client, db, body: bytes) -> None:
    for path in ("/dang-nhap", "/q", "/q/AAAAAAAAAAAAAAAAAAAAAAAA"):
        response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (path, body)


def test_the_entry_form_never_fails(app, client, db, demo, make_user) -> None:
    from tests.survey.paper.test_paper_pages import sampled_round, sign_in

    people = {
        "analyst": make_user("analyst"),
        "supervisor": make_user("supervisor"),
        "an": make_user("surveyor", username="an"),
        "binh": make_user("surveyor", username="binh"),
    }
    survey_round = sampled_round(client, db, people)
    sign_in(client, people["supervisor"])
    client.post(f"/nhap-phieu/dot/{survey_round.id}/lo", data={"code": "L1", "post_office": "BĐ", "received": "9"})
    batch_id = db.session.scalar(sa.text("SELECT id FROM batch"))
    serials = db.session.scalars(sa.text("SELECT form_serial FROM sampled_case WHERE active ORDER BY id")).all()

    @FUZZ
    @given(data=forms, serial=st.one_of(st.sampled_from(serials), st.text(max_size=20)))
    def key(data: dict[str, str], serial: str) -> None:
        opened = client.post(f"/nhap-phieu/lo/{batch_id}", data={"serial": serial})
        assert opened.status_code < 500, serial
        location = opened.headers.get("Location", "")
        if "/nhap-phieu/nhap/" not in location:
            return
        responses, statuses = count(db, Response), sorted(db.session.scalars(sa.select(PaperForm.status)))
        response = client.post(location, data=data)
        event(f"keying form answered {response.status_code}")
        assert response.status_code < 500, (response.status_code, data)
        if response.status_code in (400, 409, 422):
            assert count(db, Response) == responses
            assert sorted(db.session.scalars(sa.select(PaperForm.status))) == statuses

    key()


frame_cells = st.one_of(
    st.sampled_from(["", "HS-1", "DD.01", "Đất đai", "TTPVHCC", "P001", "31/02/2026", "2026-02-01", "0912345678", "="]),
    st.text(max_size=15),
)


def test_the_frame_import_never_fails(app, db, demo, runner, tmp_path: Path) -> None:
    from survey import questionnaires
    from survey.paper.rounds import create_round
    from tests.survey.paper.conftest import HEADER

    row = questionnaires.get(db.session, "sipas-dich-vu")
    from datetime import date

    survey_round = create_round(
        db.session, name="Thử", period_start=date(2026, 1, 1), period_end=date(2026, 3, 31), questionnaire=row
    )
    db.session.commit()
    header = HEADER.split(",")

    @FUZZ
    @given(
        columns=st.lists(st.one_of(st.sampled_from(header), st.text(max_size=10)), min_size=0, max_size=10),
        rows=st.lists(st.lists(frame_cells, min_size=0, max_size=10), max_size=8),
        encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1258", "utf-16"]),
        suffix=st.sampled_from([".csv", ".xlsx", ".txt"]),
    )
    def load(columns: list[str], rows: list[list[str]], encoding: str, suffix: str) -> None:
        text = "\n".join(",".join(cells) for cells in [columns, *rows])
        path = tmp_path / f"khung{suffix}"
        path.write_bytes(text.encode(encoding, errors="replace"))
        before = count(db, FrameRecord)
        result = runner.invoke(args=["frame", "import", str(path), "--round", str(survey_round.id)])
        event(f"frame import exit {result.exit_code}")
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        if result.exit_code == 1:
            assert result.output.strip().startswith("Lỗi:") or "Lỗi:" in result.output, result.output
            assert count(db, FrameRecord) == before
        else:  # a clean file: undo it so that the next example starts from an empty frame
            db.session.execute(sa.delete(FrameRecord))
            db.session.commit()

    load()


def test_the_analysis_cli_never_fails(tmp_path: Path) -> None:
    from analysis.cli import main

    questionnaire = next((ROOT / "questionnaires").glob("sipas-dich-vu/v*.yaml"))
    columns = [*ITEMS, "stratum", "psu", "w", "x"]

    codes = st.sampled_from(["1", "2", "3", "4", "5", "9", ""])

    @FUZZ
    @given(
        valid=st.lists(st.lists(codes, min_size=len(ITEMS), max_size=len(ITEMS)), min_size=2, max_size=40),
        header=st.lists(st.sampled_from(columns), min_size=0, max_size=12),
        rows=st.lists(
            st.lists(
                st.one_of(st.sampled_from(["", "1", "5", "9", "0", "7", "-2", "abc", "1e9"]), st.text(max_size=4)),
                max_size=12,
            ),
            max_size=10,
        ),
        options=st.lists(
            st.sampled_from(
                [["--strata", "stratum"], ["--psu", "psu"], ["--weight", "w"], ["--by", "x"], ["--ci", "wilson"]]
            ),
            max_size=3,
        ),
    )
    def run(valid: list[list[str]], header: list[str], rows: list[list[str]], options: list[list[str]]) -> None:
        path = tmp_path / "responses.csv"
        if len(header) < 3:  # a file of real answers (with the other columns random)
            header = [*ITEMS, "stratum", "psu", "w", "x"]
            rows = [[*r, str(i % 2), str(i % 4), "1.5", "a"] for i, r in enumerate(valid)]
        path.write_text("\n".join(",".join(r) for r in [header, *rows]), encoding="utf-8")
        argv = ["estimate", str(path), "--questionnaire", str(questionnaire), "--out", str(tmp_path / "out.csv")]
        for option in options:
            argv += option
        status = main(argv)
        event(f"analysis exit {status}")
        assert status in (0, 2)

    run()
