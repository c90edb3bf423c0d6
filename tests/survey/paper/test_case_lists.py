"""Case lists at round scale: the assignment list and an interviewer's own list are paged and
filtered by the database, read with a bounded number of queries whatever the page size, and
each view is logged compactly (one access-log row holding the ids shown on the page)."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from analysis.sampling import AllocationRule
from survey.models import FrameRecord, PiiAccess, Place, SampledCase
from survey.paper import frames
from survey.paper.fieldwork import assign, record_outcome
from survey.paper.sample import draw_sample
from tests.survey.paper.conftest import frame_csv
from tests.survey.paper.test_paper_pages import sign_in

STRATA = {("TTPVHCC", "Đất đai"): 150, ("TTPVHCC", "Đầu tư"): 40, ("P001", "Xây dựng"): 120, ("X034", "Khác"): 90}
ROW = re.compile(r'<a href="/nhap-phieu/truong-hop/(\d+)"><code>(\d+)</code>')


@pytest.fixture
def people(make_user):
    return {"supervisor": make_user("supervisor"), "an": make_user("surveyor"), "binh": make_user("surveyor")}


@pytest.fixture
def fielded(db, survey_round, people):
    """A drawn round of 240 cases in the field: 60 with An (10 with an outcome), 30 with Bình."""
    checked = frames.check(db.session, survey_round, frames.read_table(frame_csv(STRATA).encode(), "k.csv"))
    frames.store(db.session, survey_round, checked)
    draw_sample(
        db.session, survey_round, AllocationRule("proportional", total_n=240, minimum=10, reserve_rate=0.2), seed=5
    )
    cases = db.session.scalars(
        sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.stratum, SampledCase.draw_order)
    ).all()
    assign(db.session, survey_round, [c.id for c in cases[:60]], people["an"])
    assign(db.session, survey_round, [c.id for c in cases[100:130]], people["binh"])
    for case in cases[:10]:
        record_outcome(db.session, case, "refused" if case.id % 2 else "completed")
    db.session.commit()
    return survey_round, cases


@contextmanager
def counted(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def shown(client, url: str) -> list[tuple[int, str]]:
    page = client.get(url)
    assert page.status_code == 200
    return [(int(i), s) for i, s in ROW.findall(page.get_data(as_text=True))]


def every(client, url: str) -> list[tuple[int, str]]:
    """Every row of a filtered list, page after page."""
    rows, page = [], 1
    while found := shown(client, f"{url}&trang={page}"):
        rows += found
        page += 1
    return rows


def test_the_assignment_list_pages_in_the_sheet_order(client, db, fielded, people) -> None:
    survey_round, cases = fielded
    sign_in(client, people["supervisor"])
    url = f"/nhap-phieu/dot/{survey_round.id}/phan-cong"
    pages = [shown(client, f"{url}?trang={p}") for p in (1, 2, 3, 4, 5, 6)]
    assert [len(p) for p in pages] == [50, 50, 50, 50, 40, 0]  # page 6 is past the end: empty, not an error
    assert [i for p in pages for i, _s in p] == [c.id for c in cases]
    html = client.get(f"{url}?trang=2").get_data(as_text=True)
    assert "51–100 trong số 240" in html and "Trang 2/5" in html
    assert len(shown(client, f"{url}?n=200")) == 200
    assert len(shown(client, f"{url}?n=7&trang=abc")) == 50  # a bad page size or number falls back


def test_the_assignment_list_filters_in_the_database(client, db, fielded, people) -> None:
    survey_round, cases = fielded
    sign_in(client, people["supervisor"])
    url = f"/nhap-phieu/dot/{survey_round.id}/phan-cong?n=200"
    centre = db.session.scalars(sa.select(Place).where(Place.code == "TTPVHCC")).one()

    def expect(keep) -> list[int]:
        return [c.id for c in cases if keep(c)]

    assert [i for i, _s in every(client, f"{url}&noi={centre.id}")] == expect(lambda c: c.record.place_id == centre.id)
    assert [i for i, _s in every(client, f"{url}&nhom=xay_dung")] == expect(
        lambda c: c.record.field_group == "xay_dung"
    )
    an = people["an"].id
    assert [i for i, _s in every(client, f"{url}&dtv={an}")] == expect(lambda c: c.surveyor_id == an)
    assert [i for i, _s in every(client, f"{url}&dtv=chua-giao")] == expect(lambda c: c.surveyor_id is None)
    assert [i for i, _s in every(client, f"{url}&chua_giao=1")] == expect(lambda c: c.surveyor_id is None)
    assert [i for i, _s in every(client, f"{url}&kq=refused")] == expect(lambda c: c.outcome == "refused")
    assert [i for i, _s in every(client, f"{url}&kq=chua-co")] == expect(lambda c: c.outcome is None)
    both = f"{url}&dtv={an}&kq=completed&nhom={cases[0].record.field_group}"
    assert [i for i, _s in every(client, both)] == expect(
        lambda c: (
            c.surveyor_id == an and c.outcome == "completed" and c.record.field_group == cases[0].record.field_group
        )
    )
    target = cases[123]
    assert every(client, f"{url}&tim={target.record.dossier_code.lower()}") == [(target.id, target.form_serial)]
    assert every(client, f"{url}&tim={target.form_serial}") == [(target.id, target.form_serial)]
    assert every(client, f"{url}&tim=%25") == []  # a LIKE wildcard is searched as itself
    page = client.get(f"{url}&tim=KHONG-CO&noi=abc&nhom=sai&kq=sai")  # nonsense filters are ignored, not a 500
    assert page.status_code == 200 and "Không có trường hợp nào khớp bộ lọc." in page.get_data(as_text=True)


def test_a_page_costs_the_same_queries_at_any_size_and_logs_one_compact_row(client, db, fielded, people) -> None:
    survey_round, cases = fielded
    sign_in(client, people["supervisor"])
    url = f"/nhap-phieu/dot/{survey_round.id}/phan-cong"
    shown(client, url)  # warm up (questionnaire cache, session)
    with counted(db.engine) as small:
        first = shown(client, f"{url}?n=50")
    expected = sum(c.record.field_group == "dat_dai" for c in cases)
    with counted(db.engine) as large:
        assert len(shown(client, f"{url}?n=200&nhom=dat_dai")) == expected
    assert len(small) == len(large) and len(small) <= 12, small
    reads = [s for s in small if "FROM sampled_case" in s]
    assert len(reads) == 3, reads  # the count, the ids of the page, its rows (dossier, place, interviewer joined)
    views = db.session.scalars(
        sa.select(PiiAccess).where(PiiAccess.purpose == "assignment").order_by(PiiAccess.id)
    ).all()
    assert len(views) == 3  # one row per page view, never one per case
    assert views[-2].case_ids == sorted(i for i, _s in first)  # the ids on that page only


def test_an_interviewers_own_list_is_paged_too(client, db, fielded, people) -> None:
    _round, cases = fielded
    sign_in(client, people["an"])
    own = [c for c in cases if c.surveyor_id == people["an"].id]
    first = shown(client, "/nhap-phieu/")
    second = shown(client, "/nhap-phieu/?trang=2")
    assert len(first) == 50 and len(second) == 10
    assert sorted(i for i, _s in first + second) == sorted(c.id for c in own)
    logged = db.session.scalars(sa.select(PiiAccess).where(PiiAccess.purpose == "my_cases")).all()
    assert [len(v.case_ids) for v in logged] == [50, 10]
    frame_rows = db.session.scalar(sa.select(sa.func.count()).select_from(FrameRecord))
    assert frame_rows == sum(STRATA.values())
