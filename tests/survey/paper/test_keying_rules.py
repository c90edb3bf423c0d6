"""Verification rate (every form, 1 in N, escalation) and batch rules of keying."""

from __future__ import annotations

import unicodedata

import pytest
import sqlalchemy as sa

from analysis.sampling import AllocationRule
from survey import questionnaires
from survey.models import Batch, Discrepancy, PaperForm, SampledCase
from survey.paper import frames
from survey.paper.double_keying import KeyingError, finish_keying, open_keying
from survey.paper.sample import draw_sample
from tests.survey.paper.conftest import frame_csv

ANSWERS = {"A1": 4, "loai_nguoi_tra_loi": "ca_nhan", "tuoi": "25-34"}


@pytest.fixture
def setup(db, survey_round, make_user):
    checked = frames.check(
        db.session, survey_round, frames.read_table(frame_csv({("P001", "Đất đai"): 40}).encode(), "k.csv")
    )
    frames.store(db.session, survey_round, checked)
    draw_sample(db.session, survey_round, AllocationRule("fixed", per_stratum=20, reserve_rate=0), seed=4)
    batch = Batch(round_id=survey_round.id, code="L1", post_office="BĐ", received=20)
    db.session.add(batch)
    db.session.commit()
    serials = list(db.session.scalars(sa.select(SampledCase.form_serial).order_by(SampledCase.id)))
    return survey_round, batch, serials, make_user("surveyor"), make_user("surveyor")


def key(db, batch, serial, user):
    keying = open_keying(db.session, batch, serial, user)
    form = finish_keying(db.session, keying, dict(ANSWERS), questionnaires.get(db.session, "sipas-dich-vu"))
    db.session.commit()
    return form


def test_every_form_is_verified_by_default(db, setup) -> None:
    _round, batch, serials, clerk, _ = setup
    assert all(key(db, batch, s, clerk).needs_verification for s in serials[:5])


def test_one_in_n_with_random_start_then_escalation(db, setup) -> None:
    survey_round, batch, serials, clerk, other = setup
    survey_round.verify_every = 3
    survey_round.error_threshold = 5.0
    db.session.commit()
    picked = [key(db, batch, s, clerk).needs_verification for s in serials[:9]]
    assert sum(picked) == 3
    start = survey_round.seed % 3
    assert [i for i, p in enumerate(picked) if p] == [start, start + 3, start + 6]
    unverified = db.session.scalars(sa.select(PaperForm).where(PaperForm.needs_verification.is_(False))).all()
    assert all(f.status == "accepted" and f.response_id is not None for f in unverified)

    # the clerk's errors pass the threshold: from now on every form of theirs is verified
    checked_form = next(f for f in db.session.scalars(sa.select(PaperForm)) if f.needs_verification)
    db.session.add(
        Discrepancy(
            form_id=checked_form.id,
            question_code="A1",
            first_value="4",
            second_value="5",
            resolved_value="5",
            attributed_to="first",
        )
    )
    db.session.commit()
    assert all(key(db, batch, s, clerk).needs_verification for s in serials[9:13])
    assert not all(key(db, batch, s, other).needs_verification for s in serials[13:19])


def test_serial_rules(db, setup, survey_round) -> None:
    _round, batch, serials, clerk, other = setup
    key(db, batch, serials[0], clerk)
    second_batch = Batch(round_id=survey_round.id, code="L2", post_office="BĐ", received=1)
    db.session.add(second_batch)
    db.session.commit()
    with pytest.raises(KeyingError, match="đã được nhận trong lô khác"):
        open_keying(db.session, second_batch, serials[0], other)
    with pytest.raises(KeyingError, match="không thuộc mẫu"):
        open_keying(db.session, batch, "10999993", clerk)  # valid check digit, not in the sample
    case = db.session.scalars(sa.select(SampledCase).where(SampledCase.form_serial == serials[1])).one()
    case.outcome = "refused"
    db.session.commit()
    with pytest.raises(KeyingError, match="Từ chối trả lời"):
        open_keying(db.session, batch, serials[1], clerk)


def test_neyman_standard_deviations_from_an_earlier_round(db, setup, demo) -> None:
    import math
    from datetime import date

    from survey.paper.rounds import create_round
    from survey.paper.sample import stratum_sd_from_round

    survey_round, batch, serials, clerk, _other = setup
    survey_round.verify_every = 1000  # almost no form drawn for the second keying: responses stored at once
    db.session.commit()
    keyed = [key(db, batch, s, clerk) for s in serials[:6]]
    stored = [f for f in keyed if f.response_id is not None]
    assert len(stored) >= 5
    sd = stratum_sd_from_round(db.session, survey_round)
    # every stored form rated one item (A1 = 4, satisfied): x = m = number of stored forms
    m = len(stored)
    p = (m + 0.5) / (m + 1)
    assert list(sd.index) == ["P001|dat_dai"] and sd.iloc[0] == pytest.approx(math.sqrt(p * (1 - p)))

    # the next round's Neyman allocation uses it; strata it did not reach get 0.5
    nxt = create_round(
        db.session,
        name="Quý II/2026",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        questionnaire=questionnaires.get(db.session, "sipas-dich-vu"),
    )
    from tests.survey.paper.conftest import frame_csv as csv

    checked = frames.check(
        db.session,
        nxt,
        frames.read_table(csv({("P001", "Đất đai"): 100, ("P002", "Đất đai"): 100}, start=500).encode(), "k.csv"),
    )
    frames.store(db.session, nxt, checked)
    design = draw_sample(db.session, nxt, AllocationRule("neyman", total_n=40), seed=1, stratum_sd=sd)
    # N equal, S_h = sd vs 0.5: n_h ∝ S_h
    expected_share = sd.iloc[0] / (sd.iloc[0] + 0.5)
    assert design.loc["P001|dat_dai", "n_h"] == round(40 * expected_share)
    assert design["n_h"].sum() == 40


def test_two_clerks_opening_one_new_form_at_once(app, db, setup, live_server, monkeypatch) -> None:
    """Both requests look the serial up before either creates the form (a barrier forces
    the race); the loser must not get a 500 and exactly one form and one keying exist."""
    import http.cookiejar
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request

    from survey.models import Keying
    from survey.paper import double_keying as keying_service

    meet = threading.Barrier(2, timeout=20)
    real_lookup = keying_service.case_for_serial
    first_calls = {"n": 0}
    lock = threading.Lock()

    def lookup_then_wait(*args, **kwargs):
        found = real_lookup(*args, **kwargs)
        with lock:
            first_calls["n"] += 1
            wait = first_calls["n"] <= 2  # the first lookup of each request, not a retry
        if wait:
            meet.wait()
        return found

    monkeypatch.setattr(keying_service, "case_for_serial", lookup_then_wait)
    _round, batch, serials, clerk, other = setup
    host, port = live_server
    base = f"http://{host}:{port}"
    path, serial = f"/nhap-phieu/lo/{batch.id}", serials[0]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    openers = []
    for user in (clerk, other):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)
        data = urllib.parse.urlencode({"username": user.username, "password": "mat-khau-dung-1"}).encode()
        try:
            opener.open(base + "/dang-nhap", data=data, timeout=30)
        except urllib.error.HTTPError as redirect:
            assert redirect.code == 302
        openers.append(opener)
    statuses: list[int] = []

    def open_form(opener) -> None:
        try:
            statuses.append(
                opener.open(base + path, data=urllib.parse.urlencode({"serial": serial}).encode(), timeout=60).status
            )
        except urllib.error.HTTPError as reply:
            statuses.append(reply.code)

    threads = [threading.Thread(target=open_form, args=(o,)) for o in openers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 302], statuses  # one opens the form, the other is told who is keying it
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaperForm)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Keying)) == 1


def test_adjudication_form_checks_the_value_typed_under_other(app) -> None:
    """ "Khác" takes what is on the paper: a closed question's printed key becomes its code, a
    key that is not on the paper is refused beside the form, a date is stored as a date, text
    is stored in NFC; a mismatch left without a choice is refused too."""
    from types import SimpleNamespace

    from werkzeug.datastructures import MultiDict

    from survey.paper.keying_form import build_adjudication_form_class

    definition = questionnaires.load_directory(app.config["QUESTIONNAIRES_DIR"])[("sipas-dich-vu", 1)].data
    mismatches = [
        SimpleNamespace(question_code="A2", first_value="5", second_value="3"),
        SimpleNamespace(question_code="gioi_tinh", first_value="nam", second_value="nu"),
        SimpleNamespace(question_code="ngay_tra_ket_qua", first_value="2026-03-15", second_value="2026-03-16"),
        SimpleNamespace(question_code="y_kien", first_value="a", second_value="b"),
    ]
    form_class = build_adjudication_form_class(mismatches, definition)
    typed = {
        "q-A2": "other",
        "other-A2": "4",
        "q-gioi_tinh": "second",
        "q-ngay_tra_ket_qua": "other",
        "other-ngay_tra_ket_qua": "17/03/2026",
        "q-y_kien": "other",
        "other-y_kien": "Cán bo\u0302\u0323 nhiệt tình",  # decomposed ộ (an NFD keyboard)
    }
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict(typed))
        assert form.validate(), form.errors
        assert form.resolved(mismatches) == {
            "A2": "4",
            "gioi_tinh": "nu",
            "ngay_tra_ket_qua": "2026-03-17",
            "y_kien": "Cán bộ nhiệt tình",
        }
        wrong = form_class(formdata=MultiDict(typed | {"other-A2": "7"}))
        assert not wrong.validate() and wrong.errors["other-A2"] == [
            "Câu A2: giá trị 7 không hợp lệ. Chỉ nhập một trong: 1, 2, 3, 4, 5, 9."
        ]
        unchosen = form_class(formdata=MultiDict({k: v for k, v in typed.items() if k != "q-gioi_tinh"}))
        assert not unchosen.validate()
        assert unchosen.errors["q-gioi_tinh"] == ["gioi_tinh: chọn giá trị đúng theo phiếu giấy."]


NFC_TEXT = "Cán bộ nhiệt tình, thủ tục nhanh"
#: The same words from a keyboard that sends combining marks, with stray spaces.
NFD_TEXT = "  " + unicodedata.normalize("NFD", "Cán bộ nhiệt  tình, thủ tục nhanh") + " "


def test_same_vietnamese_text_from_two_keyboards_is_no_mismatch(db, setup) -> None:
    assert unicodedata.normalize("NFC", NFD_TEXT).split() == NFC_TEXT.split() and NFD_TEXT != NFC_TEXT
    _round, batch, serials, clerk, other = setup
    questionnaire = questionnaires.get(db.session, "sipas-dich-vu")
    first = open_keying(db.session, batch, serials[0], clerk)
    finish_keying(db.session, first, ANSWERS | {"y_kien": NFC_TEXT}, questionnaire)
    second = open_keying(db.session, batch, serials[0], other)
    form = finish_keying(db.session, second, ANSWERS | {"y_kien": NFD_TEXT}, questionnaire)
    db.session.commit()
    assert form.status == "verified"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Discrepancy)) == 0


def mismatched_form(db, setup, first_answers, second_answers):
    _round, batch, serials, clerk, other = setup
    questionnaire = questionnaires.get(db.session, "sipas-dich-vu")
    finish_keying(db.session, open_keying(db.session, batch, serials[1], clerk), ANSWERS | first_answers, questionnaire)
    form = finish_keying(
        db.session, open_keying(db.session, batch, serials[1], other), ANSWERS | second_answers, questionnaire
    )
    db.session.commit()
    assert form.status == "mismatch"
    return form, questionnaire


def test_adjudication_charges_only_the_keyer_who_differs_from_the_paper(db, setup, make_user) -> None:
    from survey.models import Response
    from survey.paper.double_keying import adjudicate

    form, questionnaire = mismatched_form(
        db,
        setup,
        {"ngay_tra_ket_qua": "2026-03-15", "y_kien": "Cán bộ tốt", "A2": 5},
        {"ngay_tra_ket_qua": "2026-03-16", "y_kien": "Cán bộ tồi", "A2": 3},
    )
    # The supervisor types what the paper says under "Khác": a date as written, text from an
    # NFD keyboard, a scale code that neither keyer typed.
    resolved = {"ngay_tra_ket_qua": "15/03/2026", "y_kien": unicodedata.normalize("NFD", "Cán bộ tốt"), "A2": "4"}
    adjudicate(db.session, form, resolved, make_user("supervisor"), questionnaire)
    db.session.commit()
    charged = {d.question_code: (d.attributed_to, d.resolved_value) for d in db.session.scalars(sa.select(Discrepancy))}
    assert charged == {
        "ngay_tra_ket_qua": ("second", "2026-03-15"),
        "y_kien": ("second", "Cán bộ tốt"),
        "A2": ("both", "4"),
    }
    answers = db.session.get(Response, form.response_id).answers
    assert (answers["ngay_tra_ket_qua"], answers["y_kien"], answers["A2"]) == ("2026-03-15", "Cán bộ tốt", 4)


def test_adjudication_refuses_an_impossible_date_and_control_characters(db, setup, make_user) -> None:
    from survey.paper.double_keying import adjudicate

    form, questionnaire = mismatched_form(
        db, setup, {"ngay_tra_ket_qua": "2026-03-15", "y_kien": "a"}, {"ngay_tra_ket_qua": "2026-03-16", "y_kien": "b"}
    )
    supervisor = make_user("supervisor")
    with pytest.raises(KeyingError, match="ngày 31/02/2026 không hợp lệ"):
        adjudicate(db.session, form, {"ngay_tra_ket_qua": "31/02/2026", "y_kien": "a"}, supervisor, questionnaire)
    db.session.rollback()
    with pytest.raises(KeyingError, match="ký tự không hợp lệ"):
        adjudicate(db.session, form, {"ngay_tra_ket_qua": "15/03/2026", "y_kien": "a\x00"}, supervisor, questionnaire)
    db.session.rollback()
    assert db.session.get(PaperForm, form.id).status == "mismatch"


def test_keying_form_normalises_text_to_nfc_and_refuses_control_characters(app) -> None:
    from werkzeug.datastructures import MultiDict

    from survey.paper.keying_form import build_keying_form_class

    definition = questionnaires.load_directory(app.config["QUESTIONNAIRES_DIR"])[("sipas-dich-vu", 1)].data
    form_class = build_keying_form_class(definition)
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict({"y_kien": NFD_TEXT}), meta={"csrf": False})
        assert form.validate(), form.errors
        assert form.y_kien.data == NFC_TEXT
        for bad in ("nhanh\x00", "bad \x1b[31m", "m\ufffdt"):
            refused = form_class(formdata=MultiDict({"y_kien": bad}), meta={"csrf": False})
            assert not refused.validate()
            assert refused.errors["y_kien"] == ["Nội dung có ký tự không hợp lệ; vui lòng nhập lại."]
