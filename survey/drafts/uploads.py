"""Questionnaire drafts: upload (every problem at once, nothing stored on failure),
publish as the next version (once, whatever the number of clicks), discard."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Questionnaire, QuestionnaireDraft, User
from survey.questionnaires.loader import Definition, Problem, QuestionnaireError, parse
from survey.questionnaires.publishing import version_row

#: The largest file accepted (the shipped questionnaire is ~20 kB).
DEFAULT_MAX_BYTES = 256 * 1024


class DraftError(Exception):
    """A draft that cannot be published or discarded (already decided, or a lost race)."""


@dataclass(frozen=True)
class Published:
    questionnaire: Questionnaire
    #: False when the draft had already been published (a second click): nothing was added.
    new: bool


def upload(
    session: Session,
    filename: str,
    raw: bytes,
    *,
    actor: User,
    schema_path: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> QuestionnaireDraft:
    """Check `raw` (the bytes of an uploaded file) and keep it as a draft. Raise
    `QuestionnaireError` with every problem (path and Vietnamese message) and store nothing
    when the file is not a valid questionnaire. Flushes; the caller commits."""
    name = Path(filename or "").name or "phieu.yaml"
    if not raw:
        raise QuestionnaireError([Problem(name, "", "tệp rỗng")])
    if len(raw) > max_bytes:
        raise QuestionnaireError(
            [Problem(name, "", f"tệp {len(raw):,} byte, quá giới hạn {max_bytes:,} byte".replace(",", "."))]
        )
    data = parse(raw, name, schema_path)
    content_hash = hashlib.sha256(raw).hexdigest()
    same = session.scalars(
        sa.select(Questionnaire).where(Questionnaire.slug == data["slug"], Questionnaire.content_hash == content_hash)
    ).first()
    if same is not None:
        raise QuestionnaireError(
            [Problem(name, "", f"tệp giống hệt phiếu {same.slug} v{same.version} đã công bố; không có gì mới")]
        )
    newest = previous(session, data["slug"])
    if newest is not None and same_content(newest.definition, data):
        raise QuestionnaireError([Problem(name, "", _unchanged(newest))])
    draft = QuestionnaireDraft(
        slug=data["slug"],
        declared_version=data["version"],
        filename=name[:255],
        source=raw.decode("utf-8"),
        content_hash=content_hash,
        status="draft",
        uploaded_by_id=actor.id,
    )
    session.add(draft)
    session.flush()
    return draft


def same_content(published: dict[str, Any], data: dict[str, Any]) -> bool:
    """The same questionnaire, whatever the file's bytes (a BOM, spacing, comments, key order):
    equal parsed definitions, version number aside."""
    return {k: v for k, v in published.items() if k != "version"} == {k: v for k, v in data.items() if k != "version"}


def _unchanged(newest: Questionnaire) -> str:
    return (
        f"nội dung giống hệt phiếu {newest.slug} v{newest.version} đang dùng (chỉ khác cách viết tệp); "
        "công bố nó sẽ chia các phiếu trả lời thành hai phiên bản mà không có gì khác"
    )


def definition_of(draft: QuestionnaireDraft, schema_path: Path) -> dict[str, Any]:
    """The parsed definition of a draft (checked again: the schema may have moved on)."""
    return parse(draft.source.encode("utf-8"), draft.filename, schema_path)


def next_version(session: Session, slug: str, files: dict[tuple[str, int], Definition]) -> int:
    """The number the slug's next version gets: one above every published version and every
    file shipped in ``questionnaires/`` (so a shipped file is never shadowed)."""
    published = session.scalar(sa.select(sa.func.max(Questionnaire.version)).where(Questionnaire.slug == slug))
    shipped = max((version for (s, version) in files if s == slug), default=0)
    return max(published or 0, shipped) + 1


def previous(session: Session, slug: str, *, below: int | None = None) -> Questionnaire | None:
    """The newest published version of `slug` (below version `below` if given): what a
    draft is compared with."""
    stmt = sa.select(Questionnaire).where(Questionnaire.slug == slug).order_by(Questionnaire.version.desc())
    if below is not None:
        stmt = stmt.where(Questionnaire.version < below)
    return session.scalars(stmt.limit(1)).first()


def publish(
    session: Session,
    draft_id: int,
    *,
    actor: User,
    schema_path: Path,
    files: dict[tuple[str, int], Definition],
) -> Published:
    """Publish a draft as its slug's next version. The draft is claimed with a conditional
    UPDATE (draft → published), so of two clicks or two admins only one publishes; the other
    gets the version the first one published (`Published.new` False). A draft whose content is
    the newest version's (uploaded before that version was published) is refused. The version
    row is immutable afterwards and audited (slug, version, sha256, who). Flushes; the caller
    commits."""
    waiting = session.get(QuestionnaireDraft, draft_id)
    if waiting is not None and waiting.status == "draft":
        newest = previous(session, waiting.slug)
        if newest is not None and same_content(newest.definition, definition_of(waiting, schema_path)):
            raise DraftError(f"Không công bố: {_unchanged(newest)}.")
    claimed = session.execute(
        sa.update(QuestionnaireDraft)
        .where(QuestionnaireDraft.id == draft_id, QuestionnaireDraft.status == "draft")
        .values(status="published", decided_by_id=actor.id, decided_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.expire_all()
        draft = session.get(QuestionnaireDraft, draft_id)
        if draft is not None and draft.status == "published" and draft.questionnaire_id is not None:
            row = session.get(Questionnaire, draft.questionnaire_id)
            assert row is not None
            return Published(row, new=False)
        raise DraftError("Bản nháp không còn để công bố (đã huỷ hoặc không tồn tại).")
    draft = session.get(QuestionnaireDraft, draft_id, populate_existing=True)
    assert draft is not None
    data = definition_of(draft, schema_path)
    version = next_version(session, draft.slug, files)
    definition = Definition(
        slug=draft.slug,
        version=version,
        path=Path(draft.filename),
        content_hash=draft.content_hash,
        data={**data, "version": version},
    )
    row = version_row(definition)
    session.add(row)
    session.flush()  # a version another admin published a moment ago fails the unique (slug, version)
    draft.questionnaire_id = row.id
    session.flush()
    return Published(row, new=True)


def discard(session: Session, draft: QuestionnaireDraft, *, actor: User) -> None:
    """Discard a draft that has not been published. Flushes; the caller commits."""
    claimed = session.execute(
        sa.update(QuestionnaireDraft)
        .where(QuestionnaireDraft.id == draft.id, QuestionnaireDraft.status == "draft")
        .values(status="discarded", decided_by_id=actor.id, decided_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise DraftError("Bản nháp đã được công bố hoặc đã huỷ.")
    session.expire(draft)


def drafts() -> sa.Select[tuple[QuestionnaireDraft]]:
    """Drafts waiting to be published, newest first."""
    return (
        sa.select(QuestionnaireDraft)
        .where(QuestionnaireDraft.status == "draft")
        .order_by(QuestionnaireDraft.uploaded_at.desc(), QuestionnaireDraft.id.desc())
    )


@dataclass(frozen=True)
class DraftPage:
    """What a draft's page shows."""

    draft: QuestionnaireDraft
    definition: dict[str, Any]
    previous: Questionnaire | None
    next_version: int
    problems: list[Problem]  # the draft no longer passes the checks (the schema changed since)


def draft_page(
    session: Session, draft: QuestionnaireDraft, *, schema_path: Path, files: dict[tuple[str, int], Definition]
) -> DraftPage:
    try:
        definition = definition_of(draft, schema_path)
        problems: list[Problem] = []
    except QuestionnaireError as exc:
        definition, problems = {}, exc.problems
    became = session.get(Questionnaire, draft.questionnaire_id) if draft.questionnaire_id is not None else None
    before = previous(session, draft.slug, below=became.version if became is not None else None)
    return DraftPage(draft, definition, before, next_version(session, draft.slug, files), problems)
