"""Two reviews of the same interview, two outcomes on the same case and two back-check results
at once, forced through a real threaded server (a barrier holds both requests until each has
read the case): one is written, the other gets a clear message, never a 500. Both databases."""

from __future__ import annotations

import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import sqlalchemy as sa

from survey.models import BackCheck, InterviewReview, SampledCase
from survey.paper import backcheck, fieldwork, review
from survey.paper.fieldwork import record_outcome
from tests.survey.paper.test_races import held_at_barrier, page, race
from tests.survey.paper.test_review_and_backcheck import PASSWORD, fielded_round


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def signed_in(base: str, user: Any) -> urllib.request.OpenerDirector:
    """A browser signed in as `user` that does not follow redirects."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)
    data = urllib.parse.urlencode({"username": user.username, "password": PASSWORD}).encode()
    try:
        opener.open(base + "/dang-nhap", data=data, timeout=30)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302
    return opener


def test_two_team_leaders_return_the_same_interview_once(
    app, db, survey_round, make_user, live_server, monkeypatch
) -> None:
    cases, _ = fielded_round(db, survey_round, make_user)
    record_outcome(db.session, cases[0], "completed")
    db.session.commit()
    held_at_barrier(monkeypatch, review, "review")
    leaders = [make_user("supervisor"), make_user("supervisor")]
    path = f"/nhap-phieu/truong-hop/{cases[0].id}/duyet"
    replies = race(live_server, leaders, path, {"decision": "returned", "note": "Thiếu trang 2"})
    assert [status for status, _body in replies] == [302, 302], replies
    pages = "".join(page(o, f"/nhap-phieu/dot/{survey_round.id}/duyet") for o in race.openers)  # type: ignore[attr-defined]
    assert f"Đã trả lại phiếu {cases[0].form_serial}." in pages
    assert "vừa được trả lại cho điều tra viên" in pages
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InterviewReview)) == 1
    assert db.session.get(SampledCase, cases[0].id).outcome is None


def test_two_outcomes_on_the_same_case_at_once(app, db, survey_round, make_user, live_server, monkeypatch) -> None:
    cases, _ = fielded_round(db, survey_round, make_user)
    held_at_barrier(monkeypatch, fieldwork, "record_outcome")
    leaders = [make_user("supervisor"), make_user("supervisor")]
    host, port = live_server
    base = f"http://{host}:{port}"
    openers = [signed_in(base, leader) for leader in leaders]
    path = f"{base}/nhap-phieu/truong-hop/{cases[0].id}"
    statuses: list[int] = []
    bodies: list[str] = []

    def post(opener: Any, outcome: str) -> None:
        body = urllib.parse.urlencode({"kq-outcome": outcome, "kq-truoc": ""}).encode()
        try:
            with opener.open(path, data=body, timeout=60) as reply:
                statuses.append(reply.status)
                bodies.append(reply.read().decode())
        except urllib.error.HTTPError as reply:
            statuses.append(reply.code)

    threads = [threading.Thread(target=post, args=pair) for pair in zip(openers, ("refused", "not_home"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The winner is redirected; the loser sees the case page again with the message.
    assert sorted(statuses) == [200, 302]
    pages = "".join(bodies)
    for opener in openers:
        with opener.open(path, timeout=30) as reply:
            pages += reply.read().decode()
    assert "Đã ghi kết quả liên hệ." in pages and "vừa được người khác ghi kết quả" in pages
    db.session.expire_all()
    assert db.session.get(SampledCase, cases[0].id).outcome in ("refused", "not_home")


def test_two_back_check_results_at_once(app, db, survey_round, make_user, live_server, monkeypatch) -> None:
    cases, _ = fielded_round(db, survey_round, make_user)
    analyst = make_user("analyst")
    record_outcome(db.session, cases[0], "completed")
    backcheck.draw(db.session, survey_round, analyst)
    db.session.commit()
    check = db.session.scalars(sa.select(BackCheck)).one()
    held_at_barrier(monkeypatch, backcheck, "record")
    data = {"reached": "1", "interviewed": "yes", "mode": "phone", "key_answer": "match"}
    replies = race(live_server, [analyst, make_user("analyst")], f"/phan-tich/phuc-tra/{check.id}", data)
    assert [status for status, _body in replies] == [302, 302], replies
    pages = "".join(page(o, f"/phan-tich/dot/{survey_round.id}/phuc-tra") for o in race.openers)  # type: ignore[attr-defined]
    assert "Đã ghi kết quả phúc tra." in pages and "đã được ghi kết quả phúc tra" in pages
    db.session.expire_all()
    assert db.session.get(BackCheck, check.id).result == "confirmed"
