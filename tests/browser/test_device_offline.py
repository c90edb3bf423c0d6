"""Done-when tests of the interviewer app (issue 13), on a 360×740 phone in Chromium:
interviews made offline survive a reload and are sent once; a case reassigned while the
phone was offline is kept for the team leader, and both are told."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import request, request_finished

from survey.models import DeviceSubmission, Response, SampledCase
from survey.paper.fieldwork import assign
from tests.browser.device_steps import (
    case_state,
    fielded_round,
    interview,
    open_app,
    outcome,
    phone_context,
    sign_in,
    waiting,
)


def stored(db) -> tuple[int, dict[str, int]]:
    db.session.rollback()  # a fresh read of what the server wrote
    responses = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
    outcomes = dict(
        db.session.execute(
            sa.select(SampledCase.outcome, sa.func.count())
            .where(SampledCase.outcome.is_not(None))
            .group_by(SampledCase.outcome)
        ).all()
    )
    return responses, outcomes


@pytest.fixture
def device_sends(app) -> Iterator[list[str]]:
    """The idempotency key of every item the server received from a device, in order (the page
    and its service worker both send; Flask's own signal, no wrapper around our code)."""
    sends: list[str] = []

    def record(sender, response, **extra) -> None:
        if request.endpoint == "entry.device_sync":
            sends.append((request.get_json(silent=True) or {}).get("key"))

    request_finished.connect(record, app)
    yield sends
    request_finished.disconnect(record, app)


def device_store(page, store: str) -> list:
    return page.evaluate(f"() => SipasQueue.all('{store}')")


def test_offline_interviews_survive_a_reload_and_are_sent_once(
    browser, base_url, db, demo, make_user, device_sends
) -> None:
    surveyor = make_user("surveyor", username="dtv-may")
    _round, cases = fielded_round(db.session, surveyor)
    context = phone_context(browser)
    page = context.new_page()
    sign_in(page, base_url, "dtv-may")
    open_app(page, base_url, len(cases))
    # the service worker controls the page: the shell can be reloaded without a network
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    kept = device_store(page, "cases")
    assert {c["id"] for c in kept} == {c.id for c in cases}
    assert all(set(c) >= {"dossier", "procedure", "place", "name", "phone"} and "address" not in c for c in kept)

    context.set_offline(True)
    for case in cases[:3]:
        interview(page, case.id)
    outcome(page, cases[3].id, "refused")
    assert waiting(page) == 4
    assert case_state(page, cases[0].id) == "Đã lưu trên máy"
    assert stored(db) == (0, {})

    page.reload()  # offline: the shell from the service worker's cache, the queue from IndexedDB
    open_app(page, base_url, len(cases))
    assert waiting(page) == 4
    assert [case_state(page, c.id) for c in cases[:4]] == ["Đã lưu trên máy"] * 4
    assert "Không có mạng" in page.inner_text("#net")
    # the service worker's cache holds the shell and static files only, never case data
    cached = page.evaluate(
        "async () => { const out = []; for (const n of await caches.keys()) {"
        " const c = await caches.open(n); for (const r of await c.keys()) out.push(r.url); } return out; }"
    )
    assert cached and not [u for u in cached if "/api/" in u]

    context.set_offline(False)  # 'online': the queue is sent
    page.wait_for_function("() => document.getElementById('waiting').dataset.count === '0'")
    responses, outcomes = stored(db)
    assert responses == 3 and outcomes == {"completed": 3, "refused": 1}
    modes = db.session.scalars(sa.select(Response.mode)).all()
    assert modes == ["face"] * 3
    # sent cases leave the device; the list says "Đã gửi"
    page.wait_for_selector(f"#cases article.dcase-sent[data-case='{cases[0].id}']")
    assert page.inner_text(f"#cases article.dcase-sent[data-case='{cases[0].id}'] .dstate") == "Đã gửi"
    left = {c["id"] for c in device_store(page, "cases")}
    assert left == {c.id for c in cases[4:]}
    assert device_store(page, "queue") == []

    page.click("#send")  # sending again sends nothing twice
    page.wait_for_selector("body[data-ready='1']")
    assert stored(db)[0] == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeviceSubmission)) == 4
    # the page and the service worker both flushed when the network came back: each item went
    # out once all the same (they take turns; the second found the queue empty)
    assert len(device_sends) == 4 and set(Counter(device_sends).values()) == {1}

    # signing out removes every case from the device
    page.click("#logout")
    page.wait_for_url(base_url + "/")
    page.goto(base_url + "/healthz")
    assert (
        page.evaluate(
            "() => new Promise((ok) => { const r = indexedDB.open('sipas-may'); r.onsuccess = () => {"
            " const tx = r.result.transaction(['cases', 'queue']); const q = tx.objectStore('cases').count();"
            " q.onsuccess = () => ok(q.result); }; })"
        )
        == 0
    )
    context.close()


def test_a_case_reassigned_while_offline_is_kept_and_shown(browser, base_url, db, demo, make_user) -> None:
    surveyor = make_user("surveyor", username="dtv-a")
    other = make_user("surveyor", username="dtv-b")
    make_user("supervisor", username="to-truong")
    survey_round, cases = fielded_round(db.session, surveyor, n=3)
    context = phone_context(browser)
    page = context.new_page()
    sign_in(page, base_url, "dtv-a")
    open_app(page, base_url, len(cases))

    context.set_offline(True)
    interview(page, cases[0].id)
    interview(page, cases[1].id)
    # meanwhile the team leader gives the first case to another interviewer
    assign(db.session, survey_round, [cases[0].id], db.session.merge(other), confirmed=1)
    db.session.commit()

    context.set_offline(False)
    page.wait_for_function("() => document.getElementById('waiting').dataset.count === '0'")
    conflict = f"#cases article.dcase-sent[data-case='{cases[0].id}']"
    page.wait_for_selector(conflict)
    assert page.get_attribute(conflict, "data-status") == "conflict"
    assert "Chờ tổ trưởng quyết định" in page.inner_text(conflict)
    assert "giao cho điều tra viên khác" in page.inner_text(conflict)
    assert "thay đổi khi máy không có mạng" in page.inner_text("#message")
    db.session.rollback()
    kept = db.session.scalars(sa.select(DeviceSubmission).where(DeviceSubmission.case_id == cases[0].id)).one()
    assert kept.status == "conflict" and kept.answers and kept.answers["y_kien"] == "Cán bộ hướng dẫn tận tình"
    responses = db.session.scalars(sa.select(Response)).all()
    assert [r.dossier_code for r in responses] == [cases[1].record.dossier_code]  # nothing lost, nothing doubled

    leader = phone_context(browser).new_page()
    sign_in(leader, base_url, "to-truong", f"/nhap-phieu/dot/{survey_round.id}/may-xung-dot")
    row = leader.inner_text(f"tr[data-submission='{kept.id}']")
    assert cases[0].form_serial in row and "giao cho điều tra viên khác" in row
    leader.check(f"tr[data-submission='{kept.id}'] input[value=set_aside]")
    leader.fill(f"tr[data-submission='{kept.id}'] textarea[name=note]", "Đã giao lại, giữ phỏng vấn của người mới")
    leader.click(f"tr[data-submission='{kept.id}'] button[type=submit]")
    leader.wait_for_selector("text=Đã ghi quyết định.")
    db.session.rollback()
    assert db.session.get(DeviceSubmission, kept.id).status == "set_aside"
    leader.context.close()
    context.close()


def test_going_back_from_an_answered_interview_asks_first(browser, base_url, db, demo, make_user) -> None:
    """ "Quay lại" in the middle of an interview: nothing typed, the list comes back at once;
    something answered, the interviewer is asked, and "Cancel" keeps the answers on screen."""
    surveyor = make_user("surveyor", username="dtv-quay-lai")
    _round, cases = fielded_round(db.session, surveyor, n=2)
    context = phone_context(browser)
    page = context.new_page()
    sign_in(page, base_url, "dtv-quay-lai")
    open_app(page, base_url, len(cases))
    asked: list[str] = []
    answer = {"accept": False}

    def on_dialog(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.click(f"button[data-act=interview][data-case='{cases[0].id}']")
    page.click("#cancel")
    page.wait_for_selector("#list:not([hidden])")
    assert asked == []

    page.click(f"button[data-act=interview][data-case='{cases[0].id}']")
    page.click("#work-form input[name=mode][value=face]")
    page.click("#cancel")
    assert asked == ["Bỏ phiếu đang làm? Các câu trả lời vừa nhập sẽ không được lưu."]
    assert page.is_visible("#work") and page.is_checked("#work-form input[name=mode][value=face]")
    answer["accept"] = True
    page.click("#cancel")
    page.wait_for_selector("#list:not([hidden])")
    assert len(asked) == 2 and waiting(page) == 0
    context.close()
