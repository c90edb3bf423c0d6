"""The wide table the analysis reads: design columns plus one column per scale question."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sqlalchemy as sa

from survey.models import Counter, Questionnaire, Response
from survey.responses.coded import decode_coded, encode_coded
from survey.responses.wide import wide_table


def test_encode_and_decode_round_trip() -> None:
    layout = ["A1", "A2", "A3"]
    coded = encode_coded({"A1": 5, "A2": None, "A3": "9"}, layout)
    assert coded == "5.9"
    matrix = decode_coded([coded, "123"], 3)
    assert matrix[0, 0] == 5 and math.isnan(matrix[0, 1]) and matrix[0, 2] == 9
    np.testing.assert_array_equal(matrix[1], [1, 2, 3])


@pytest.mark.parametrize(("coded", "message"), [(["12", "123"], "expected 3"), (["1x3"], "neither a digit")])
def test_decode_rejects_malformed_strings(coded: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_coded(coded, 3)


def test_encode_rejects_codes_that_are_not_one_digit() -> None:
    with pytest.raises(ValueError, match="A1: code 12"):
        encode_coded({"A1": 12}, ["A1"])


def test_wide_table_from_stored_responses(db, demo) -> None:
    questionnaire = db.session.scalars(sa.select(Questionnaire)).one()
    layout = questionnaire.coded_layout
    counter = db.session.scalars(sa.select(Counter).order_by(Counter.id)).first()
    stored = []
    for i, (status, code) in enumerate([("submitted", 5), ("verified", 4), ("draft", 1), ("submitted", None)]):
        answers = dict.fromkeys(layout[:16], code)
        response = Response(
            questionnaire=questionnaire,
            channel="qr",
            status=status,
            place_id=counter.place_id,
            counter_id=counter.id,
            field_group="dat_dai",
            receipt_code=f"R{i}",
            answers=answers,
            coded=encode_coded(answers, layout),
        )
        db.session.add(response)
        stored.append(response)
    db.session.commit()

    frame = wide_table(db.session, questionnaire)
    assert list(frame["id"]) == [stored[0].id, stored[1].id, stored[3].id]  # drafts are left out
    assert list(frame.columns[-len(layout) :]) == layout
    assert list(frame["A1"][:2]) == [5.0, 4.0]
    assert frame["A1"].isna().tolist() == [False, False, True]
    assert frame["M01"].isna().all()
    assert set(frame["place_id"]) == {counter.place_id}
    assert wide_table(db.session, questionnaire, channel="paper").empty
    assert len(wide_table(db.session, questionnaire, channel="qr")) == 3
    with pytest.raises(ValueError, match="unknown channel"):
        wide_table(db.session, questionnaire, channel="fax")
