"""Publishing a questionnaire from the admin pages: upload (every failure reported with its
path, nothing stored), preview (records nothing), difference, publish once under a double
submit, audit, and the start-up check of a version that has no file."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey import questionnaires
from survey.audit import set_actor
from survey.drafts import uploads
from survey.models import AuditLog, Questionnaire, QuestionnaireDraft, Response, User
from tests.survey.drafts.questionnaire_files import edited, question, v2

UPLOAD = "/admin/phieu-khao-sat/tai-len"


def send(client, raw: bytes | None, name: str = "v2.yaml"):
    data = {"file": (io.BytesIO(raw), name)} if raw is not None else {}
    return client.post(UPLOAD, data=data, content_type="multipart/form-data")


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _duplicate_code(d) -> None:
    question(d, "A3")["code"] = "A1"


def _unknown_scale(d) -> None:
    question(d, "B1")["scale"] = "khong_co"


def _no_title(d) -> None:
    del d["title"]


def _not_nfc(d) -> None:
    question(d, "A1")["text"]["vi"] = "Bie\u0302\u0309n hiệu"  # decomposed ể


FAILURES = {
    "bad YAML": (b"slug: x\nversion: [1\n", "v2.yaml", "dòng", "YAML sai cú pháp"),
    "wrong encoding": ("slug: phiếu\n".encode("utf-16"), "v2.yaml", "(gốc)", "tệp không phải UTF-8"),
    "not a mapping": (b"- 1\n- 2\n", "v2.yaml", "(gốc)", "bảng YAML"),
    "schema: missing title": (edited(_no_title), "v2.yaml", "(gốc)", "thiếu trường bắt buộc &#39;title&#39;"),
    "schema: wrong type": (edited(lambda d: d.update(version="hai")), "v2.yaml", "version", "phải là số nguyên"),
    "not NFC": (edited(_not_nfc), "v2.yaml", "sections[1].questions[0].text.vi", "chưa chuẩn hoá Unicode NFC"),
    "semantic: duplicate code": (edited(_duplicate_code), "v2.yaml", "sections[1].questions[2].code", "đã dùng ở"),
    "semantic: unknown scale": (
        edited(_unknown_scale),
        "v2.yaml",
        "sections[1].questions[3].scale",
        "không được khai báo",
    ),
    "empty file": (b"", "v2.yaml", "(gốc)", "tệp rỗng"),
    "no file": (None, "", "", "Vui lòng chọn tệp"),
    "not a YAML file": (edited(), "v2.txt", "", "Chỉ nhận tệp .yaml"),
    "too large": (b"# " + b"x" * (300 * 1024) + b"\n", "v2.yaml", "(gốc)", "quá giới hạn"),
}


@pytest.mark.parametrize("case", FAILURES, ids=list(FAILURES))
def test_an_invalid_file_lists_its_problems_and_stores_nothing(client, login_as, published, db, case) -> None:
    raw, name, path, message = FAILURES[case]
    login_as("admin")
    audit_before = count(db, AuditLog)
    response = send(client, raw, name)
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 422)
    assert message in html
    if path:
        assert f"<code>{path}" in html
        assert "Chưa lưu gì" in html
    assert count(db, QuestionnaireDraft) == 0
    assert count(db, Questionnaire) == len(published)
    assert count(db, AuditLog) == audit_before


def test_several_problems_are_listed_at_once(client, login_as, published, db) -> None:
    login_as("admin")

    def two(d) -> None:
        _duplicate_code(d)
        _unknown_scale(d)

    html = send(client, edited(two)).get_data(as_text=True)
    assert "2 lỗi" in html
    assert "sections[1].questions[2].code" in html and "sections[1].questions[3].scale" in html


def test_the_published_file_again_is_refused(client, login_as, published, db, project_root: Path) -> None:
    login_as("admin")
    raw = (project_root / "questionnaires" / "sipas-dich-vu" / "v1.yaml").read_bytes()
    response = send(client, raw, "v1.yaml")
    assert response.status_code == 422
    assert "giống hệt phiếu sipas-dich-vu v1" in response.get_data(as_text=True)
    assert count(db, QuestionnaireDraft) == 0


def test_the_published_content_in_other_bytes_is_refused(client, login_as, published, db, project_root: Path) -> None:
    """A BOM and a comment make other bytes, not another questionnaire: publishing it would split
    the responses between two versions with nothing different."""
    login_as("admin")
    raw = (project_root / "questionnaires" / "sipas-dich-vu" / "v1.yaml").read_bytes()
    response = send(client, b"\xef\xbb\xbf# the same, saved again\n" + raw, "v1-again.yaml")
    assert response.status_code == 422
    assert "nội dung giống hệt phiếu sipas-dich-vu v1 đang dùng" in response.get_data(as_text=True)
    assert count(db, QuestionnaireDraft) == 0


def test_a_draft_whose_content_was_published_meanwhile_is_not_published(client, login_as, published, db) -> None:
    login_as("admin")
    first = upload_v2(client, db)
    again = send(client, edited(v2) + b"\n# the same changes, uploaded twice\n", "v2-lan-2.yaml")
    assert again.status_code == 302, again.get_data(as_text=True)
    second = db.session.scalars(sa.select(QuestionnaireDraft).where(QuestionnaireDraft.id != first.id)).one()
    assert client.post(f"/admin/phieu-khao-sat/nhap/{first.id}/cong-bo").status_code == 302
    refused = client.post(f"/admin/phieu-khao-sat/nhap/{second.id}/cong-bo", follow_redirects=True)
    assert "Không công bố: nội dung giống hệt phiếu sipas-dich-vu v2 đang dùng" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(QuestionnaireDraft, second.id).status == "draft"
    versions = db.session.scalars(sa.select(Questionnaire.version).where(Questionnaire.slug == "sipas-dich-vu"))
    assert sorted(versions) == [1, 2]


def upload_v2(client, db) -> QuestionnaireDraft:
    response = send(client, edited(v2))
    assert response.status_code == 302, response.get_data(as_text=True)
    draft = db.session.scalars(sa.select(QuestionnaireDraft)).one()
    assert response.headers["Location"].endswith(f"/admin/phieu-khao-sat/nhap/{draft.id}")
    return draft


def test_the_draft_page_shows_the_difference_and_the_version_to_come(client, login_as, published, db) -> None:
    login_as("admin")
    draft = upload_v2(client, db)
    assert draft.status == "draft" and draft.slug == "sipas-dich-vu" and draft.questionnaire_id is None
    html = client.get(f"/admin/phieu-khao-sat/nhap/{draft.id}").get_data(as_text=True)
    assert "Khác biệt so với sipas-dich-vu v1 đã công bố" in html
    for row in ("Thêm câu hỏi", "Bỏ câu hỏi", "Đổi mã", "Đổi cách hỏi", "Đổi phương án", "Đổi định nghĩa chỉ số"):
        assert row in html
    assert "<code>A4</code>" in html and "Nơi chờ sạch sẽ, thoáng mát" in html
    assert "Công bố v2" in html
    listing = client.get("/admin/phieu-khao-sat").get_data(as_text=True)
    assert f"/admin/phieu-khao-sat/nhap/{draft.id}" in listing


def test_a_new_slug_has_no_previous_version(client, login_as, published, db) -> None:
    login_as("admin")
    response = send(client, edited(lambda d: d.update(slug="suc-khoe"), version=1))
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Phiếu mới: chưa có phiên bản nào đã công bố" in html
    assert "Công bố v1" in html


def test_previews_render_the_draft_and_record_nothing(client, login_as, published, db) -> None:
    login_as("admin")
    draft = upload_v2(client, db)
    audit_before = count(db, AuditLog)
    citizen = client.get(f"/admin/phieu-khao-sat/nhap/{draft.id}/xem-truoc")
    html = citizen.get_data(as_text=True)
    assert citizen.status_code == 200
    assert 'class="phone-frame"' in html and 'class="survey-form"' in html
    assert "Nơi chờ sạch sẽ, thoáng mát" in html  # the draft's new item, in the citizen's template
    assert 'name="gioi"' in html and 'name="A2"' not in html
    assert 'name="csrf_token"' not in html.split('class="phone-frame"')[1]
    english = client.get(f"/admin/phieu-khao-sat/nhap/{draft.id}/xem-truoc?lang=en").get_data(as_text=True)
    assert "The waiting area is clean and airy" in english
    answered = client.post(f"/admin/phieu-khao-sat/nhap/{draft.id}/xem-truoc", data={"A1": "5", "A4": "4"})
    assert answered.status_code == 200
    assert "không có câu trả lời nào được ghi nhận" in answered.get_data(as_text=True)
    keying = client.get(f"/admin/phieu-khao-sat/nhap/{draft.id}/nhap-lieu")
    khtml = keying.get_data(as_text=True)
    assert keying.status_code == 200
    assert 'name="A4"' in khtml and "readonly" in khtml and "<form" not in khtml.split('id="mau-nhap"')[1]
    assert count(db, Response) == 0
    assert count(db, Questionnaire) == len(published)
    assert db.session.get(QuestionnaireDraft, draft.id).status == "draft"
    assert count(db, AuditLog) == audit_before


def test_publish_once_under_a_double_submit_and_audit_it(client, login_as, published, db) -> None:
    admin = login_as("admin")
    draft = upload_v2(client, db)
    first = client.post(f"/admin/phieu-khao-sat/nhap/{draft.id}/cong-bo")
    second = client.post(f"/admin/phieu-khao-sat/nhap/{draft.id}/cong-bo")
    assert first.status_code == second.status_code == 302
    rows = db.session.scalars(
        sa.select(Questionnaire).where(Questionnaire.slug == "sipas-dich-vu").order_by(Questionnaire.version)
    ).all()
    assert [(q.slug, q.version) for q in rows] == [("sipas-dich-vu", 1), ("sipas-dich-vu", 2)]
    v2_row = rows[1]
    assert v2_row.content_hash == draft.content_hash
    assert v2_row.definition["version"] == 2 and "A4" in v2_row.coded_layout and "A2" not in v2_row.coded_layout
    db.session.expire_all()
    assert db.session.get(QuestionnaireDraft, draft.id).status == "published"
    assert db.session.get(QuestionnaireDraft, draft.id).questionnaire_id == v2_row.id
    page = client.get("/admin/phieu-khao-sat").get_data(as_text=True)
    assert "Đã công bố sipas-dich-vu v2." in page and "đã được công bố là sipas-dich-vu v2" in page
    after = client.get(f"/admin/phieu-khao-sat/nhap/{draft.id}").get_data(as_text=True)
    assert "Bản nháp này đã được công bố." in after and "Khác biệt so với sipas-dich-vu v1" in after
    assert 'id="cong-bo"' not in after
    entries = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "questionnaire", AuditLog.action == "create")
    ).all()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.user_id == admin.id and entry.entity_id == str(v2_row.id)
    assert entry.changes["slug"] == [None, "sipas-dich-vu"]
    assert entry.changes["version"] == [None, 2]
    assert entry.changes["content_hash"] == [None, draft.content_hash]
    assert "definition" not in entry.changes
    # Immutable afterwards: the start-up check accepts the version without a file, by its stored text.
    files = questionnaires.load_directory(Path(client.application.config["QUESTIONNAIRES_DIR"]))
    questionnaires.check_published(db.session, files)
    db.session.execute(sa.update(QuestionnaireDraft).values(source=QuestionnaireDraft.source + "\n# sửa"))
    db.session.execute(sa.update(QuestionnaireDraft).values(content_hash="0" * 64))
    with pytest.raises(questionnaires.PublishedQuestionnaireChanged):
        questionnaires.check_published(db.session, files)
    db.session.rollback()


def test_concurrent_publishes_of_one_draft_publish_once(app, client, login_as, published, db) -> None:
    admin_id = login_as("admin").id
    draft_id = upload_v2(client, db).id
    db.session.commit()
    schema = Path(app.config["QUESTIONNAIRES_DIR"]) / "schema.json"
    files = app.extensions["sipas_questionnaires"]
    barrier = threading.Barrier(2)
    results: list[object] = []

    def publish() -> None:
        with app.app_context():
            from survey.extensions import db as _db

            user = _db.session.get(User, admin_id)
            set_actor(_db.session, admin_id)
            barrier.wait()
            try:
                done = uploads.publish(_db.session, draft_id, actor=user, schema_path=schema, files=files)
                _db.session.commit()
                results.append(done.new)
            except Exception as exc:  # a lost race must say so, never publish twice
                _db.session.rollback()
                results.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert True in results
    assert results.count(True) == 1, results
    assert count(db, Questionnaire) == len(published) + 1
    assert (
        db.session.scalar(sa.select(sa.func.max(Questionnaire.version)).where(Questionnaire.slug == "sipas-dich-vu"))
        == 2
    )


def test_discard_then_publish_is_refused(client, login_as, published, db) -> None:
    login_as("admin")
    draft = upload_v2(client, db)
    assert client.post(f"/admin/phieu-khao-sat/nhap/{draft.id}/huy").status_code == 302
    db.session.expire_all()
    assert db.session.get(QuestionnaireDraft, draft.id).status == "discarded"
    response = client.post(f"/admin/phieu-khao-sat/nhap/{draft.id}/cong-bo", follow_redirects=True)
    assert "không còn để công bố" in response.get_data(as_text=True)
    assert count(db, Questionnaire) == len(published)
    assert client.post(f"/admin/phieu-khao-sat/nhap/{draft.id}/huy", follow_redirects=True).status_code == 200
    assert "Không có bản nháp nào." in client.get("/admin/phieu-khao-sat").get_data(as_text=True)


def test_version_numbers_skip_shipped_files_and_are_never_reused(app, db, make_user, published) -> None:
    admin = make_user("admin")
    schema = Path(app.config["QUESTIONNAIRES_DIR"]) / "schema.json"
    files = dict(app.extensions["sipas_questionnaires"])
    shipped_v1 = files[("sipas-dich-vu", 1)]
    files[("sipas-dich-vu", 3)] = shipped_v1  # a v3 file shipped but not yet published
    assert uploads.next_version(db.session, "sipas-dich-vu", files) == 4
    set_actor(db.session, admin.id)
    draft = uploads.upload(db.session, "x.yaml", edited(v2, version=7), actor=admin, schema_path=schema)
    done = uploads.publish(db.session, draft.id, actor=admin, schema_path=schema, files=files)
    db.session.commit()
    assert done.new and done.questionnaire.version == 4  # assigned by the service, not the file's 7

    def other(d) -> None:
        v2(d)
        d["title"]["en"] = "Another wording of the title"

    again = uploads.upload(db.session, "y.yaml", edited(other), actor=admin, schema_path=schema)
    assert (
        uploads.publish(db.session, again.id, actor=admin, schema_path=schema, files=files).questionnaire.version == 5
    )
    db.session.commit()


def test_the_app_starts_with_a_version_published_from_the_page_and_refuses_a_tampered_one(
    app, client, login_as, published, db, database_url, tmp_path: Path
) -> None:
    from survey import create_app
    from survey.config import ConfigError

    login_as("admin")
    draft_id = upload_v2(client, db).id
    assert client.post(f"/admin/phieu-khao-sat/nhap/{draft_id}/cong-bo").status_code == 302
    # the database the session app really uses (a browser test run before may have re-made the `database_url` fixture)
    settings = {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "TESTING": True,
    }
    started = create_app(settings, instance_path=str(tmp_path / "a"))  # v2 has no file in questionnaires/
    assert ("sipas-dich-vu", 2) not in started.extensions["sipas_questionnaires"]
    db.session.execute(sa.update(Questionnaire).where(Questionnaire.version == 2).values(content_hash="f" * 64))
    db.session.commit()
    with pytest.raises(ConfigError, match="sipas-dich-vu v2"):
        create_app(settings, instance_path=str(tmp_path / "b"))
