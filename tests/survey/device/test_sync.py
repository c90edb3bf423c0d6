"""The interviewer app's server side: the download (open cases, only what the interview
needs, the view logged), one item per idempotency key (a retry stores nothing twice), the
same recording service as keyed forms, conflicts kept for the team leader, the progress count.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from survey.device import sync
from survey.models import DeviceSubmission, PiiAccess, Response, SampledCase
from survey.paper import progress, review
from survey.paper.fieldwork import assign, record_outcome, replace_case
from survey.paper.rounds import RoundError
from tests.survey.device.conftest import interview_answers

SECRET = "test-secret-key-" + "x" * 32


def item(case, surveyor, *, kind="interview", key=None, **extra):
    started = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
    body = {
        "key": key or str(uuid.uuid4()),
        "case_token": sync.case_token(SECRET, case.id, surveyor.id),
        "kind": kind,
        "mode": "face",
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=7)).isoformat(),
    }
    if kind == "interview":
        body["answers"] = interview_answers()
    body.update(extra)
    return body


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_download_holds_only_the_interviewers_open_cases_and_is_logged(db, app, fielded) -> None:
    survey_round, cases, (first, _second) = fielded
    record_outcome(db.session, cases[0], "refused")  # done: not downloaded
    db.session.commit()
    data = sync.download(db.session, first, SECRET)
    db.session.commit()
    ids = [c["id"] for c in data["cases"]]
    assert sorted(ids) == sorted(c.id for c in cases[1:10])
    one = data["cases"][0]
    assert set(one) == {
        "id",
        "round_id",
        "token",
        "serial",
        "dossier",
        "procedure",
        "place",
        "name",
        "phone",
        "returned",
    }
    assert "address" not in str(data) and "Lý Thái Tổ" not in str(data)  # the address never leaves
    assert [r["id"] for r in data["rounds"]] == [survey_round.id]
    codes = [q["code"] for q in data["rounds"][0]["questions"]]
    assert "A1" in codes and "ma_ho_so" not in codes and "nhom_linh_vuc" not in codes
    logged = db.session.scalars(sa.select(PiiAccess).where(PiiAccess.purpose == "device_download")).one()
    assert logged.user_id == first.id and sorted(logged.case_ids) == sorted(ids)


def test_an_interview_is_a_response_of_the_round_with_its_mode_and_a_retry_stores_nothing_twice(db, fielded) -> None:
    survey_round, cases, (first, _second) = fielded
    case = cases[0]
    sent = item(case, first)
    answer = sync.receive(db.session, first, SECRET, sent)
    db.session.commit()
    assert answer["status"] == "recorded"
    again = sync.receive(db.session, first, SECRET, dict(sent))  # the reply was lost: sent again
    db.session.commit()
    assert again == answer
    assert count(db, Response) == 1 and count(db, DeviceSubmission) == 1
    response = db.session.scalars(sa.select(Response)).one()
    assert (response.channel, response.mode, response.interviewer_id) == ("paper", "face", first.id)
    assert response.duration_s == 420 and response.dossier_code == case.record.dossier_code
    assert response.answers["y_kien"] == "Cán bộ nhiệt tình"  # normalised as keyed text is
    assert response.answers["nhom_linh_vuc"] == case.record.field_group  # from the case
    db.session.refresh(case)
    assert case.outcome == "completed"
    # it goes to the team leader's review like a keyed interview
    assert case.id in [c.id for c in db.session.scalars(review.awaiting_review(survey_round.id)).all()]


def test_an_interview_is_invisible_to_other_requests_until_its_submission_is_stored(db, fielded, monkeypatch) -> None:
    """The page and the service worker send one queued item at once. The outcome and the
    response (written in a savepoint) and the submission must be committed together: on SQLite
    the savepoint's release had committed the first two, and the other request, seeing the
    case answered and no submission yet, stored a false conflict under the item's key, which
    both were then told ("Chờ tổ trưởng quyết định")."""
    _survey_round, cases, (first, _second) = fielded
    case = cases[0]
    seen: list[object] = []
    record = sync._record

    def record_then_look(*args):  # what another request sees while this one goes on
        conflict = record(*args)
        with db.engine.connect() as other:
            seen.append(other.execute(sa.select(SampledCase.outcome).where(SampledCase.id == case.id)).scalar())
            seen.append(other.execute(sa.select(sa.func.count()).select_from(Response)).scalar())
        return conflict

    monkeypatch.setattr(sync, "_record", record_then_look)
    answer = sync.receive(db.session, first, SECRET, item(case, first))
    db.session.commit()
    assert answer["status"] == "recorded"
    assert seen == [None, 0]
    assert count(db, Response) == 1 and count(db, DeviceSubmission) == 1


def test_an_outcome_without_interview_is_recorded_on_the_case(db, fielded) -> None:
    _round, cases, (first, _second) = fielded
    sync.receive(db.session, first, SECRET, item(cases[1], first, kind="outcome", outcome="refused", mode=None))
    db.session.commit()
    db.session.refresh(cases[1])
    assert cases[1].outcome == "refused" and count(db, Response) == 0


def test_an_outcome_with_a_replacement_request_brings_the_next_reserve(db, fielded) -> None:
    _round, cases, (first, _second) = fielded
    case = cases[1]
    sent = item(case, first, kind="outcome", outcome="not_reachable", replacement_reason="Gọi  ba lần không được")
    answer = sync.receive(db.session, first, SECRET, sent)
    db.session.commit()
    assert answer["status"] == "recorded" and answer["replaced"] is True
    db.session.refresh(case)
    reserve = db.session.get(SampledCase, case.replaced_by_id)
    assert case.replacement_reason == "Gọi ba lần không được" and reserve.surveyor_id == first.id
    assert reserve.id in [c["id"] for c in sync.download(db.session, first, SECRET)["cases"]]
    # an interview cannot carry a replacement request
    with pytest.raises(sync.SyncRefused):
        sync.receive(db.session, first, SECRET, item(cases[2], first, replacement_reason="x"))
    db.session.rollback()


@pytest.mark.parametrize(
    "change",
    [
        {"case_token": "forged"},
        {"kind": "outcome", "outcome": "completed"},
        {"answers": {"A1": 7}},
        {"mode": "email"},
        {"key": "short"},
    ],
    ids=["forged-token", "outcome-completed", "invalid-answer", "bad-mode", "bad-key"],
)
def test_what_no_app_of_ours_sends_is_refused_and_nothing_stored(db, fielded, change) -> None:
    _round, cases, (first, _second) = fielded
    with pytest.raises(sync.SyncRefused) as refused:
        sync.receive(db.session, first, SECRET, {**item(cases[0], first), **change})
    db.session.rollback()
    assert refused.value.status in (400, 403, 422)
    assert count(db, DeviceSubmission) == 0 and count(db, Response) == 0


def test_another_interviewers_case_is_refused(db, fielded) -> None:
    _round, cases, (first, second) = fielded
    with pytest.raises(sync.SyncRefused) as refused:
        sync.receive(db.session, second, SECRET, item(cases[0], first))  # first's token, sent by second
    assert refused.value.status == 403
    db.session.rollback()


def test_a_key_used_by_another_interviewer_is_refused(db, fielded) -> None:
    _round, cases, (first, second) = fielded
    key = str(uuid.uuid4())
    sync.receive(db.session, first, SECRET, item(cases[0], first, key=key))
    db.session.commit()
    with pytest.raises(sync.SyncRefused) as refused:
        sync.receive(db.session, second, SECRET, item(cases[10], second, key=key))
    assert refused.value.status == 403
    db.session.rollback()


def test_a_case_reassigned_while_offline_is_kept_for_the_team_leader(db, fielded, make_user) -> None:
    survey_round, cases, (first, second) = fielded
    case = cases[2]
    sent = item(case, first)  # downloaded by the first interviewer …
    assign(db.session, survey_round, [case.id], second, confirmed=1)  # … then given to the second
    db.session.commit()
    answer = sync.receive(db.session, first, SECRET, sent)
    db.session.commit()
    assert answer["status"] == "conflict" and "điều tra viên khác" in answer["message"]
    assert count(db, Response) == 0
    db.session.refresh(case)
    assert case.outcome is None and case.surveyor_id == second.id
    # the interviewer is told on the next download, the team leader sees it on the conflicts list
    assert [n["status"] for n in sync.download(db.session, first, SECRET)["notices"]] == ["conflict"]
    kept = db.session.scalars(sync.conflicts(survey_round.id)).all()
    assert [s.case_id for s in kept] == [case.id] and kept[0].answers["A1"] == 1
    # a retry of the same key after the reply was lost: the same answer, nothing more
    assert sync.receive(db.session, first, SECRET, sent)["status"] == "conflict"
    assert count(db, DeviceSubmission) == 1
    leader = make_user("supervisor")
    with pytest.raises(RoundError):
        sync.decide(db.session, kept[0], leader, "set_aside", "")  # a note is required
    db.session.rollback()
    sync.decide(db.session, kept[0], leader, "accepted", None)
    db.session.commit()
    db.session.refresh(case)
    response = db.session.scalars(sa.select(Response)).one()
    assert case.outcome == "completed" and case.surveyor_id == first.id and response.interviewer_id == first.id
    with pytest.raises(RoundError):
        sync.decide(db.session, kept[0], leader, "accepted", None)  # decided once
    db.session.rollback()


def test_a_case_replaced_or_answered_or_closed_becomes_a_conflict(db, fielded, make_user) -> None:
    survey_round, cases, (first, _second) = fielded
    replaced, answered, later = cases[3], cases[4], cases[5]
    record_outcome(db.session, replaced, "not_reachable")
    replace_case(db.session, replaced, "Không liên lạc được ba lần")
    record_outcome(db.session, answered, "refused")  # the team leader recorded a refusal meanwhile
    db.session.commit()
    assert sync.receive(db.session, first, SECRET, item(replaced, first))["status"] == "conflict"
    assert sync.receive(db.session, first, SECRET, item(answered, first))["status"] == "conflict"
    survey_round.status = "closed"
    db.session.commit()
    assert sync.receive(db.session, first, SECRET, item(later, first))["status"] == "conflict"
    db.session.commit()
    reasons = dict(db.session.execute(sa.select(DeviceSubmission.case_id, DeviceSubmission.conflict)).all())
    assert reasons == {replaced.id: "replaced", answered.id: "has_outcome", later.id: "closed"}
    assert count(db, Response) == 0
    leader = make_user("supervisor")
    kept = {s.case_id: s for s in db.session.scalars(sync.conflicts(survey_round.id)).all()}
    with pytest.raises(RoundError, match="Không nhận được"):
        sync.decide(db.session, kept[answered.id], leader, "accepted", None)
    db.session.rollback()
    sync.decide(db.session, kept[answered.id], leader, "set_aside", "Người dân đã từ chối với tổ trưởng")
    db.session.commit()
    assert db.session.get(DeviceSubmission, kept[answered.id].id).status == "set_aside"


def test_progress_counts_interviews_received_from_devices_today(db, fielded) -> None:
    survey_round, cases, (first, second) = fielded
    for case in cases[:3]:
        sync.receive(db.session, first, SECRET, item(case, first))
    sync.receive(db.session, first, SECRET, item(cases[3], first, kind="outcome", outcome="refused"))
    sync.receive(db.session, second, SECRET, item(cases[10], second))
    db.session.commit()
    table = progress.progress(db.session, survey_round.id).by_interviewer.set_index("interviewer")
    assert table.loc[first.full_name, "device_today"] == 3
    assert table.loc[second.full_name, "device_today"] == 1
    assert sync.device_interviews_today(db.session, survey_round.id) == {first.id: 3, second.id: 1}


def test_a_device_interview_joins_the_rounds_estimates_with_keyed_ones(db, fielded) -> None:
    """The round's wide table holds device interviews next to keyed ones, with the mode."""
    from survey.models import Questionnaire
    from survey.responses.wide import wide_table

    survey_round, cases, (first, _second) = fielded
    sync.receive(db.session, first, SECRET, item(cases[0], first))
    sync.receive(db.session, first, SECRET, item(cases[1], first, mode="phone"))
    db.session.commit()
    questionnaire = db.session.get(Questionnaire, survey_round.questionnaire_id)
    wide = wide_table(db.session, questionnaire, channel="paper")
    assert len(wide) == 2
    assert sorted(wide["mode"].astype(str)) == ["face", "phone"]
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(SampledCase).where(SampledCase.outcome == "completed"))
        == 2
    )
    # the round's design columns (estimates, weighting) and the back-check read them as the round's interviews
    from survey.paper.backcheck import key_answers
    from survey.reports import queries

    design = db.session.execute(queries.paper_design_columns(survey_round.id)).all()
    assert {row.response_id for row in design} == set(wide["id"])
    assert set(key_answers(db.session, [cases[0].id, cases[1].id])) == {cases[0].id, cases[1].id}
    assert [r.id for r in db.session.scalars(queries.rounds_with_forms()).all()] == [survey_round.id]
