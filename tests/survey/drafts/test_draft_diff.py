"""The difference between a draft and the previous published version, kind by kind."""

from __future__ import annotations

import copy

from survey.drafts.diff import KINDS, differences
from tests.survey.drafts.questionnaire_files import question, shipped, v2


def rows(old, new) -> set[tuple[str, str, str, str, str]]:
    return {(c.kind, c.code, c.lang, c.old, c.new) for c in differences(old, new)}


def test_identical_definitions_have_no_difference() -> None:
    assert differences(shipped(), shipped()) == []


def test_each_kind_of_change_is_reported() -> None:
    old = shipped()
    new = copy.deepcopy(old)
    v2(new)
    found = rows(old, new)
    assert ("added", "A4", "", "", "Nơi chờ sạch sẽ, thoáng mát") in found
    assert ("removed", "A2", "", "Có đủ chỗ ngồi, bàn viết cho người dân, tổ chức", "") in found
    assert ("recoded", "gioi", "", "gioi_tinh", "gioi") in found
    assert (
        "reworded",
        "A1",
        "en",
        "Signs and directions to the reception desk are clear and easy to see",
        "Signs to the reception desk are clear",
    ) in found
    assert not any(kind == "reworded" and code == "A1" and lang == "vi" for kind, code, lang, *_ in found)
    assert ("options", "gioi", "vi", "nu: Nữ", "nu: Nữ giới") in found
    assert ("index", "index.satisfied", "", "4, 5", "5") in found
    # Nothing else: the re-coded question is neither removed nor added.
    assert len(found) == 6, found
    kinds = [c.kind for c in differences(old, new)]
    assert kinds == sorted(kinds, key=KINDS.index)


def test_vietnamese_rewording_type_scale_and_elements() -> None:
    old = shipped()
    new = copy.deepcopy(old)
    question(new, "B1")["text"]["vi"] = "Thủ tục được niêm yết công khai"
    question(new, "B2")["element"] = "C"
    new["elements"].append({"code": "F", "label": {"vi": "Chuyển đổi số", "en": "Digital"}})
    new["elements"][0]["label"]["en"] = "Access"
    new["scales"]["hai_long"]["options"][2]["label"]["vi"] = "Trung bình"
    question(new, "gioi_tinh")["options"].append({"code": "khac", "label": {"vi": "Khác", "en": "Other"}})
    found = rows(old, new)
    assert (
        "reworded",
        "B1",
        "vi",
        "Thủ tục hành chính được niêm yết công khai, đầy đủ, dễ đọc",
        "Thủ tục được niêm yết công khai",
    ) in found
    assert ("index", "B2", "", "B", "C") in found
    assert ("index", "elements.F", "", "", "Chuyển đổi số") in found
    assert ("index", "elements.A", "en", "Access to services", "Access") in found
    assert ("options", "scales.hai_long", "vi", "3: Bình thường", "3: Trung bình") in found
    assert ("options", "gioi_tinh", "", "", "khac: Khác") in found


def test_a_change_of_code_with_other_wording_is_a_removal_and_an_addition() -> None:
    old = shipped()
    new = copy.deepcopy(old)
    q = question(new, "C1")
    q["code"], q["text"] = "C9", {"vi": "Câu khác hẳn"}
    found = rows(old, new)
    assert ("added", "C9", "", "", "Câu khác hẳn") in found
    assert any(kind == "removed" and code == "C1" for kind, code, *_ in found)
