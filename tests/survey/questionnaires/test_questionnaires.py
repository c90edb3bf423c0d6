"""Questionnaires as data: the shipped file, every kind of invalid file, immutability."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
import yaml

from survey import ConfigError, create_app, questionnaires
from survey.questionnaires import QuestionnaireError, load_directory, load_file

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "questionnaires" / "sipas-dich-vu" / "v1.yaml"


def test_shipped_questionnaire_has_the_method_content() -> None:
    d = load_file(SHIPPED)
    assert (d.slug, d.version) == ("sipas-dich-vu", 1)
    assert d.items == ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]
    assert [e["code"] for e in d.data["elements"]] == ["A", "B", "C", "D", "E"]
    sat = d.data["scales"]["hai_long"]["options"]
    assert [o["code"] for o in sat] == [1, 2, 3, 4, 5, 9]
    assert [o["label"]["vi"] for o in sat][:5] == [
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    ]
    assert d.data["index"]["satisfied"] == [4, 5]
    codes = {q["code"]: q for q in d.questions()}
    assert len([c for c in codes if c.startswith("M")]) == 10  # expectations
    assert {
        "P1",
        "P2",
        "gioi_tinh",
        "dan_toc",
        "tuoi",
        "hoc_van",
        "nghe_nghiep",
        "y_kien",
        "loai_nguoi_tra_loi",
    } <= set(codes)
    assert len(codes["tuoi"]["options"]) == 5
    assert len(codes["hoc_van"]["options"]) == 6
    assert len(codes["nghe_nghiep"]["options"]) == 7
    assert [o["code"] for o in codes["nhom_linh_vuc"]["options"]] == ["dat_dai", "xay_dung", "dau_tu", "khac"]
    for q in d.questions():  # every question is worded in Vietnamese and English
        assert q["text"]["vi"] and q["text"]["en"]


def test_shipped_text_is_nfc() -> None:
    text = SHIPPED.read_text("utf-8")
    assert unicodedata.normalize("NFC", text) == text


@pytest.fixture
def qdir(tmp_path: Path) -> Path:
    """A copy of the questionnaires folder to break."""
    target = tmp_path / "questionnaires"
    shutil.copytree(ROOT / "questionnaires", target)
    return target


def _edit(qdir: Path, change) -> Path:
    path = qdir / "sipas-dich-vu" / "v1.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(QuestionnaireError) as info:
        load_file(path)
    for p in info.value.problems:
        assert p.file == str(path)
    return [f"{p.path} | {p.message}" for p in info.value.problems]


def _q(data: dict, code: str) -> dict:
    return next(q for s in data["sections"] for q in s["questions"] if q["code"] == code)


BROKEN = {
    "missing slug": (lambda d: d.pop("slug"), "", "thiếu trường bắt buộc 'slug'"),
    "unknown key": (lambda d: d.update(colour="red"), "", "trường không được phép: 'colour'"),
    "wrong type": (lambda d: d.update(version="một"), "version", "'một' phải là số nguyên"),
    "scale code out of range": (
        lambda d: d["scales"]["hai_long"]["options"][0].update(code=10),
        "scales.hai_long.options[0].code",
        "10",
    ),
    "choice without options": (lambda d: _q(d, "gioi_tinh").pop("options"), "sections[4].questions[0]", "options"),
    "missing vietnamese": (
        lambda d: _q(d, "A1")["text"].pop("vi"),
        "sections[1].questions[0].text",
        "thiếu trường bắt buộc 'vi'",
    ),
    "unknown question type": (lambda d: _q(d, "A1").update(type="slider"), "sections[1].questions[0].type", "slider"),
    "duplicate question code": (
        lambda d: _q(d, "A2").update(code="A1"),
        "sections[1].questions[1].code",
        "mã câu hỏi 'A1' đã dùng",
    ),
    "unknown scale": (
        lambda d: _q(d, "A1").update(scale="khong_co"),
        "sections[1].questions[0].scale",
        "thang đo 'khong_co'",
    ),
    "unknown element": (lambda d: _q(d, "A1").update(element="Z"), "sections[1].questions[0].element", "yếu tố 'Z'"),
    "element without items": (
        lambda d: d["elements"].append({"code": "F", "label": {"vi": "Thừa"}}),
        "elements[5]",
        "không có câu hỏi",
    ),
    "satisfied code not valid": (lambda d: d["index"].update(satisfied=[4, 9]), "index.satisfied", "mã 9"),
    "unknown share": (lambda d: _q(d, "M01").update(share="khong_co"), "sections[3].questions[0].share", "khong_co"),
    "share code outside scale": (
        lambda d: d["shares"][0]["report"][0].update(codes=[7]),
        "shares[0].report[0].codes",
        "mã 7",
    ),
    "duplicate option code": (
        lambda d: _q(d, "gioi_tinh")["options"].append({"code": "nam", "label": {"vi": "Nam"}}),
        "sections[4].questions[0].options",
        "trùng",
    ),
    "bad regex": (
        lambda d: _q(d, "ma_ho_so").update(pattern="(["),
        "sections[0].questions[0].pattern",
        "biểu thức chính quy",
    ),
    "version differs from file name": (lambda d: d.update(version=2), "version", "khác với tên tệp"),
    "slug differs from folder": (lambda d: d.update(slug="khac-thu-muc"), "slug", "khác với tên thư mục"),
    "non-NFC text": (
        lambda d: _q(d, "A1")["text"].update(vi=unicodedata.normalize("NFD", "Biển hiệu")),
        "sections[1].questions[0].text.vi",
        "NFC",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_invalid_file_reports_file_path_and_message(qdir: Path, case: str) -> None:
    change, path_fragment, message_fragment = BROKEN[case]
    problems = _problems(_edit(qdir, change))
    assert any(path_fragment in p.split(" | ")[0] and message_fragment in p for p in problems), problems


def test_all_problems_are_reported_at_once(qdir: Path) -> None:
    def two(d: dict) -> None:
        _q(d, "A1").update(scale="khong_co")
        _q(d, "B1").update(element="Z")

    problems = _problems(_edit(qdir, two))
    assert len(problems) == 2


def test_not_utf8(qdir: Path) -> None:
    path = qdir / "sipas-dich-vu" / "v1.yaml"
    path.write_bytes(b"slug: th\xe1\n")
    assert _problems(path) == [" | tệp không phải UTF-8 (byte 8)"]


def test_yaml_syntax_error_gives_line_and_column(qdir: Path) -> None:
    path = qdir / "sipas-dich-vu" / "v1.yaml"
    path.write_text("slug: a\nversion: [1\n", "utf-8")
    [problem] = _problems(path)
    assert problem.startswith("dòng 3, cột 1 | YAML sai cú pháp")


def test_not_a_mapping(qdir: Path) -> None:
    path = qdir / "sipas-dich-vu" / "v1.yaml"
    path.write_text("- a\n- b\n", "utf-8")
    assert "mapping" in _problems(path)[0]


def test_bad_file_name(qdir: Path) -> None:
    src = qdir / "sipas-dich-vu" / "v1.yaml"
    bad = qdir / "sipas-dich-vu" / "phien-ban-1.yaml"
    src.rename(bad)
    assert any("v<N>.yaml" in p for p in _problems(bad))


def test_directory_collects_problems_of_every_file(qdir: Path) -> None:
    (qdir / "hong").mkdir()
    (qdir / "hong" / "v1.yaml").write_text("slug: hong\n", "utf-8")
    (qdir / "hong" / "v2.yaml").write_text("[", "utf-8")
    with pytest.raises(QuestionnaireError) as info:
        load_directory(qdir)
    files = {p.file for p in info.value.problems}
    assert files == {str(qdir / "hong" / "v1.yaml"), str(qdir / "hong" / "v2.yaml")}


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(QuestionnaireError, match="không có tệp phiếu"):
        load_directory(tmp_path)


# --- publication and immutability ------------------------------------------------------------
def test_publish_is_idempotent(app, db) -> None:
    definitions = app.extensions["sipas_questionnaires"]
    added = questionnaires.publish(db.session, definitions)
    assert [(q.slug, q.version) for q in added] == sorted(definitions)  # every shipped file
    services = next(q for q in added if q.slug == "sipas-dich-vu")
    assert services.coded_layout[:16] == definitions[("sipas-dich-vu", 1)].items
    db.session.commit()
    assert questionnaires.publish(db.session, definitions) == []
    assert questionnaires.get(db.session, "sipas-dich-vu").version == 1


def test_changed_published_file_is_refused(app, db, published, tmp_path: Path) -> None:
    qdir = tmp_path / "questionnaires"
    shutil.copytree(ROOT / "questionnaires", qdir)
    path = qdir / "sipas-dich-vu" / "v1.yaml"
    path.write_text(path.read_text("utf-8").replace("rõ ràng, dễ thấy", "rõ ràng"), "utf-8")
    changed = load_directory(qdir)
    with pytest.raises(questionnaires.PublishedQuestionnaireChanged, match="đã bị sửa"):
        questionnaires.check_published(db.session, changed)
    # ...and the application refuses to start on it.
    with pytest.raises(ConfigError, match="sipas-dich-vu v1 đã công bố nhưng tệp"):
        create_app(
            {"DATABASE_URL": app.config["DATABASE_URL"], "QUESTIONNAIRES_DIR": str(qdir), "SECRET_KEY": "s" * 40},
            instance_path=str(tmp_path / "i"),
        )


def test_removed_published_file_is_refused(app, db, published, tmp_path: Path) -> None:
    qdir = tmp_path / "questionnaires"
    shutil.copytree(ROOT / "questionnaires", qdir)
    (qdir / "sipas-dich-vu" / "v1.yaml").rename(qdir / "sipas-dich-vu" / "v2.yaml.bak")
    (qdir / "other").mkdir()
    other = yaml.safe_load(SHIPPED.read_text("utf-8"))
    other["slug"] = "other"
    (qdir / "other" / "v1.yaml").write_text(yaml.safe_dump(other, allow_unicode=True), "utf-8")
    with pytest.raises(questionnaires.PublishedQuestionnaireChanged, match="không còn tệp"):
        questionnaires.check_published(db.session, load_directory(qdir))


def test_new_version_is_published_beside_the_old(app, db, published, tmp_path: Path) -> None:
    qdir = tmp_path / "questionnaires"
    shutil.copytree(ROOT / "questionnaires", qdir)
    v2 = yaml.safe_load(SHIPPED.read_text("utf-8"))
    v2["version"] = 2
    (qdir / "sipas-dich-vu" / "v2.yaml").write_text(yaml.safe_dump(v2, allow_unicode=True), "utf-8")
    added = questionnaires.publish(db.session, load_directory(qdir))
    assert [(q.slug, q.version) for q in added] == [("sipas-dich-vu", 2)]
    assert questionnaires.get(db.session, "sipas-dich-vu").version == 2
    assert questionnaires.get(db.session, "sipas-dich-vu", 1).version == 1
