"""Double clicks and two users at once, forced through a real threaded server: both requests
read the same state before either writes (a barrier holds them), then race to write. The
loser gets a clear message, never a 500, and the data is written once. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from analysis.sampling import AllocationRule
from survey import questionnaires
from survey.models import Batch, Keying, PaperForm, Response, SampledCase, SurveyRound
from survey.paper import batches as batch_service
from survey.paper import double_keying, frames
from survey.paper import sample as sample_service
from survey.paper.sample import draw_sample
from survey.questionnaires.definition import field_code
from survey.responses.recording import record_response
from tests.survey.paper.conftest import frame_csv

PASSWORD = "mat-khau-dung-1"
ANSWERS = {"A1": 4, "loai_nguoi_tra_loi": "ca_nhan", "tuoi": "25-34"}
ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]
#: A paper form as typed on the keying page (keys printed on the paper).
KEYED = {code: "4" for code in ITEMS} | {"A1": "5", "loai_nguoi_tra_loi": "1", "tuoi": "3"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _signed_in(base: str, user: Any) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)
    data = urllib.parse.urlencode({"username": user.username, "password": PASSWORD}).encode()
    try:
        opener.open(base + "/dang-nhap", data=data, timeout=30)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302
    return opener


def held_at_barrier(monkeypatch, module: Any, name: str) -> None:
    """Make `module.name` wait for the other request before doing its work, once per request."""
    meet = threading.Barrier(2, timeout=20)
    real: Callable[..., Any] = getattr(module, name)
    calls = {"n": 0}
    lock = threading.Lock()

    def wait_then_run(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls["n"] += 1
            wait = calls["n"] <= 2
        if wait:
            meet.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wait_then_run)


def race(live_server, users: list[Any], path: str, data: dict[str, Any]) -> list[tuple[int, str]]:
    """POST `data` to `path` at once from two signed-in browsers; (status, body) of each,
    sorted by status. Redirects are not followed: a 302's flash is read on the next page."""
    host, port = live_server
    base = f"http://{host}:{port}"
    openers = [_signed_in(base, user) for user in users]
    replies: list[tuple[int, str]] = []

    def post(opener: urllib.request.OpenerDirector) -> None:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        try:
            with opener.open(base + path, data=body, timeout=60) as reply:
                replies.append((reply.status, reply.read().decode()))
        except urllib.error.HTTPError as reply:
            replies.append((reply.code, reply.read().decode()))

    threads = [threading.Thread(target=post, args=(o,)) for o in openers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    race.openers = openers  # type: ignore[attr-defined]
    race.base = base  # type: ignore[attr-defined]
    return sorted(replies)


def page(opener: urllib.request.OpenerDirector, path: str = "/nhap-phieu/") -> str:
    """A page as that browser sees it next, with the messages flashed to it."""
    with opener.open(race.base + path, timeout=30) as reply:  # type: ignore[attr-defined]
        return reply.read().decode()


@pytest.fixture
def framed_round(db, survey_round):
    checked = frames.check(
        db.session, survey_round, frames.read_table(frame_csv({("P001", "Đất đai"): 30}).encode(), "k.csv")
    )
    frames.store(db.session, survey_round, checked)
    db.session.commit()
    return survey_round


def test_double_click_on_draw_draws_one_sample(app, db, framed_round, make_user, live_server, monkeypatch) -> None:
    held_at_barrier(monkeypatch, sample_service, "draw_sample")
    analyst = make_user("analyst")
    data = {"method": "fixed", "per_stratum": "5", "minimum": "0", "reserve_rate": "0.4", "seed": "7"}
    replies = race(live_server, [analyst, analyst], f"/phan-tich/dot/{framed_round.id}/chon-mau", data)
    assert [status for status, _body in replies] == [302, 302], replies
    pages = "".join(page(o, f"/phan-tich/dot/{framed_round.id}") for o in race.openers)  # type: ignore[attr-defined]
    assert "Đã chọn 5 hồ sơ chính và 2 dự phòng (hạt giống 7)." in pages
    assert "Đợt khảo sát này đã chọn mẫu." in pages
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SampledCase)) == 5 + 2
    assert db.session.get(SurveyRound, framed_round.id).status == "sampled"


@pytest.fixture
def drawn(db, framed_round, make_user):
    draw_sample(db.session, framed_round, AllocationRule("fixed", per_stratum=5, reserve_rate=0.4), seed=3)
    batch = Batch(round_id=framed_round.id, code="L1", post_office="BĐ", received=5)
    db.session.add(batch)
    db.session.commit()
    return framed_round, batch


def test_double_click_on_finish_keying_finishes_once(app, db, drawn, make_user, live_server, monkeypatch) -> None:
    _round, batch = drawn
    clerk = make_user("surveyor")
    case = db.session.scalars(sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.id)).first()
    keying = double_keying.open_keying(db.session, batch, case.form_serial, clerk)
    db.session.commit()
    held_at_barrier(monkeypatch, double_keying, "finish_keying")
    replies = race(
        live_server,
        [clerk, clerk],
        f"/nhap-phieu/nhap/{keying.id}",
        KEYED,
    )
    assert [status for status, _body in replies] == [302, 302], replies
    pages = "".join(page(o) for o in race.openers)  # type: ignore[attr-defined]
    assert "Xong phiếu" in pages and f"Phiếu {case.form_serial} (lần nhập 1) đã nhập xong." in pages
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Keying)) == 1
    assert db.session.scalars(sa.select(PaperForm)).one().status == "awaiting_second"


def test_two_team_leaders_replacing_one_case_use_one_reserve(app, db, drawn, make_user, live_server, monkeypatch):
    from survey.paper import fieldwork

    _round, _batch = drawn
    case = db.session.scalars(sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.id)).first()
    fieldwork.record_outcome(db.session, case, "refused")
    db.session.commit()
    held_at_barrier(monkeypatch, fieldwork, "replace_case")
    leaders = [make_user("supervisor"), make_user("supervisor")]
    replies = race(live_server, leaders, f"/nhap-phieu/truong-hop/{case.id}", {"tt-reason": "Từ chối"})
    assert all(status in (200, 302) for status, _body in replies), replies
    pages = "".join(body for _s, body in replies) + "".join(page(o) for o in race.openers)  # type: ignore[attr-defined]
    assert "Đã thay bằng hồ sơ dự phòng" in pages
    assert f"Phiếu {case.form_serial} vừa được người khác thay thế." in pages
    db.session.expire_all()
    reserves = db.session.scalars(
        sa.select(SampledCase).where(SampledCase.role == "reserve", SampledCase.active.is_(True))
    ).all()
    assert len(reserves) == 1
    assert db.session.get(SampledCase, case.id).replaced_by_id == reserves[0].id


def test_two_team_leaders_creating_one_batch_code(app, db, drawn, make_user, live_server, monkeypatch) -> None:
    survey_round, _batch = drawn
    held_at_barrier(monkeypatch, batch_service, "batch_code_taken")
    leaders = [make_user("supervisor"), make_user("supervisor")]
    data = {"code": "l2", "post_office": "Bưu điện Từ Sơn", "received": "40"}
    replies = race(live_server, leaders, f"/nhap-phieu/dot/{survey_round.id}/lo", data)
    assert [status for status, _body in replies] == [200, 302], replies
    assert "Mã lô L2 đã có." in replies[0][1]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Batch).where(Batch.code == "L2")) == 1


def test_a_dossier_answered_in_another_round_is_a_keying_message_and_a_kept_draft(
    app, client, db, drawn, make_user
) -> None:
    _round, batch = drawn
    clerk = make_user("surveyor")
    case = db.session.scalars(sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.id)).first()
    # The same dossier was sampled and answered in an earlier, overlapping round.
    questionnaire = questionnaires.get(db.session, "sipas-dich-vu")
    dossier_question = field_code(questionnaire.definition, "dossier_code")
    record_response(
        db.session,
        questionnaire,
        ANSWERS | {dossier_question: case.record.dossier_code},
        channel="paper",
        place_id=case.record.place_id,
        field_group=case.record.field_group,
    )
    keying = double_keying.open_keying(db.session, batch, case.form_serial, clerk)
    db.session.commit()
    client.post("/dang-nhap", data={"username": clerk.username, "password": PASSWORD})
    page = client.post(f"/nhap-phieu/nhap/{keying.id}", data=KEYED)
    assert page.status_code == 422
    assert f"Hồ sơ {case.record.dossier_code} đã có phiếu trả lời giấy" in page.get_data(as_text=True)
    db.session.expire_all()
    kept = db.session.get(Keying, keying.id)
    assert kept.draft and kept.answers["A1"] == 5  # the clerk's work is not lost
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
