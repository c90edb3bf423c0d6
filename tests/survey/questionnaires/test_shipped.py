"""The shipped questionnaires: each passes `flask questionnaires check`, is bilingual, says it
is to be checked against the official form, and has the index definition its source gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.questionnaire import load_index_spec
from survey.questionnaires import load_directory

ROOT = Path(__file__).resolve().parents[3] / "questionnaires"
SHIPPED = ("hai-long-giao-duc", "hai-long-y-te", "sipas-dich-vu", "sipas-ngan", "sipas-quoc-gia")


def test_every_shipped_questionnaire_passes_the_check_command(runner) -> None:
    result = runner.invoke(args=["questionnaires", "check"])
    assert result.exit_code == 0, result.output
    for slug in SHIPPED:
        assert f"OK {slug} v1:" in result.output
    for slug in SHIPPED:  # one file at a time too
        one = runner.invoke(args=["questionnaires", "check", str(ROOT / slug / "v1.yaml")])
        assert one.exit_code == 0 and f"OK {slug} v1:" in one.output, one.output


def _texts(value, path=()):
    if isinstance(value, dict) and "vi" in value and all(isinstance(v, str) for v in value.values()):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _texts(item, (*path, i))


@pytest.mark.parametrize("slug", [s for s in SHIPPED if s != "sipas-dich-vu"])
def test_new_forms_are_in_vietnamese_and_english_and_marked_for_review(slug) -> None:
    data = load_directory(ROOT)[(slug, 1)].data
    missing = [path for path, text in _texts(data) if not text.get("en")]
    assert not missing, missing
    assert "đối chiếu với phiếu chính thức" in data["review"]["vi"]
    assert "check against the official form" in data["review"]["en"]


def test_index_definitions() -> None:
    short = load_index_spec(ROOT / "sipas-ngan" / "v1.yaml")
    services = load_index_spec(ROOT / "sipas-dich-vu" / "v1.yaml")
    assert short.items == services.items and short.elements == services.elements and short.code == "SIPAS"
    data = load_directory(ROOT)[("sipas-ngan", 1)].data
    context = [q["code"] for s in data["sections"] for q in s["questions"] if "element" not in q]
    assert context == ["nhom_linh_vuc"] and isinstance(data["answer_minutes"], int)

    national = load_index_spec(ROOT / "sipas-quoc-gia" / "v1.yaml")
    assert national.code == "SIPAS_TONG" and len(national.items) == 23 + 16
    subs = dict(national.subindices)
    assert subs == {"SIPAS_CS": ("CA", "CB", "CC", "CD"), "SIPAS_DV": ("A", "B", "C", "D", "E")}
    sizes = {e: len(items) for e, items in national.elements}
    assert (sizes["CA"], sizes["CB"], sizes["CC"], sizes["CD"]) == (2, 2, 9, 10)
    composites = {c.name: c.parts for c in national.composites()}
    assert composites["SIPAS_DV"] == services.items  # the services index: the 16 items of sipas-dich-vu
    assert len(composites["SIPAS_CS"]) == 23 and composites["SIPAS_TONG"] == national.items
    assert {s.id for s in national.shares} >= {"quan_tam", "kenh_phu_hop", "hinh_thuc", "nhan_thuc", "mong_doi"}
    assert national.indicators[:3] == ("SIPAS_TONG", "SIPAS_CS", "SIPAS_DV")

    health = load_index_spec(ROOT / "hai-long-y-te" / "v1.yaml")
    education = load_index_spec(ROOT / "hai-long-giao-duc" / "v1.yaml")
    assert (health.code, [e for e, _ in health.elements], len(health.items)) == (
        "HL_YTE",
        ["YA", "YB", "YC", "YD", "YE"],
        16,
    )
    assert (education.code, [e for e, _ in education.elements], len(education.items)) == (
        "HL_GDUC",
        ["GA", "GB", "GC", "GD", "GE"],
        15,
    )


def test_a_further_index_must_name_known_elements(tmp_path) -> None:
    import shutil

    import yaml

    from survey.questionnaires import QuestionnaireError, load_file

    (tmp_path / "sipas-quoc-gia").mkdir()
    shutil.copy(ROOT / "schema.json", tmp_path / "schema.json")
    doc = yaml.safe_load((ROOT / "sipas-quoc-gia" / "v1.yaml").read_text("utf-8"))
    doc["indices"][0]["elements"].append("ZZ")
    doc["indices"][1]["code"] = "A1"
    (tmp_path / "sipas-quoc-gia" / "v1.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        load_file(tmp_path / "sipas-quoc-gia" / "v1.yaml")
    messages = [(p.path, p.message) for p in caught.value.problems]
    assert ("indices[0].elements", "yếu tố 'ZZ' không có trong elements") in messages
    assert any(path == "indices[1].code" for path, _m in messages)
