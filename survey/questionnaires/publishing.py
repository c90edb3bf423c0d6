"""Published questionnaire versions in the database: publish new files, refuse a published
version whose file changed, and look a version up.

A version published from the admin pages (`survey.drafts`) has no file in
`questionnaires/`; its uploaded text is kept in its draft, whose sha256 must still match."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey.models import Questionnaire, QuestionnaireDraft
from survey.questionnaires.loader import Definition, PublishedQuestionnaireChanged


def check_published(session: Session, definitions: dict[tuple[str, int], Definition]) -> None:
    """Raise `PublishedQuestionnaireChanged` if a published version's file was edited or
    removed: responses must never silently mix two wordings."""
    stmt = sa.select(Questionnaire.slug, Questionnaire.version, Questionnaire.content_hash)
    if sa.inspect(session.connection()).has_table(QuestionnaireDraft.__tablename__):  # not before its migration
        stmt = stmt.add_columns(QuestionnaireDraft.content_hash).outerjoin(
            QuestionnaireDraft, QuestionnaireDraft.questionnaire_id == Questionnaire.id
        )
    else:
        stmt = stmt.add_columns(sa.null())
    rows = session.execute(stmt.order_by(Questionnaire.slug, Questionnaire.version))
    for slug, version, content_hash, uploaded_hash in rows:
        definition = definitions.get((slug, version))
        if definition is None and uploaded_hash is not None:  # published from the admin pages
            if uploaded_hash != content_hash:
                raise PublishedQuestionnaireChanged(
                    f"Phiếu {slug} v{version} công bố từ trang quản trị nhưng nội dung lưu đã bị sửa "
                    f"(sha256 {uploaded_hash[:12]}… ≠ {content_hash[:12]}…)."
                )
            continue
        if definition is None:
            raise PublishedQuestionnaireChanged(
                f"Phiếu {slug} v{version} đã công bố nhưng không còn tệp {slug}/v{version}.yaml; hãy khôi phục tệp."
            )
        if definition.content_hash != content_hash:
            raise PublishedQuestionnaireChanged(
                f"Phiếu {slug} v{version} đã công bố nhưng tệp {definition.path} đã bị sửa "
                f"(sha256 {definition.content_hash[:12]}… ≠ {content_hash[:12]}…). Phiếu đã công bố "
                f"không được sửa: khôi phục tệp gốc, hoặc tạo phiên bản mới v{version + 1}.yaml."
            )


def version_row(definition: Definition) -> Questionnaire:
    """The database row of a published version (from a file, or a draft published from the
    admin pages)."""
    return Questionnaire(
        slug=definition.slug,
        version=definition.version,
        content_hash=definition.content_hash,
        title=definition.title,
        definition=definition.data,
        coded_layout=definition.coded_layout,
    )


def publish(session: Session, definitions: dict[tuple[str, int], Definition]) -> list[Questionnaire]:
    """Insert the versions not yet in the database (after `check_published`). Flushes; the
    caller commits. Safe when several workers start at once."""
    check_published(session, definitions)
    existing = {tuple(row) for row in session.execute(sa.select(Questionnaire.slug, Questionnaire.version))}
    added = []
    for key, definition in sorted(definitions.items()):
        if key in existing:
            continue
        row = version_row(definition)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another process published it a moment ago
            continue
        added.append(row)
    check_published(session, definitions)
    return added


def get(session: Session, slug: str, version: int | None = None) -> Questionnaire | None:
    """The published version `version` of `slug` (the newest if None)."""
    stmt = sa.select(Questionnaire).where(Questionnaire.slug == slug)
    if version is not None:
        stmt = stmt.where(Questionnaire.version == version)
    return session.scalars(stmt.order_by(Questionnaire.version.desc()).limit(1)).first()


def slugs(session: Session) -> list[tuple[str, str]]:
    """Every published questionnaire as (slug, title of its newest version), by slug."""
    newest = (
        sa.select(Questionnaire.slug, sa.func.max(Questionnaire.version).label("version"))
        .group_by(Questionnaire.slug)
        .subquery()
    )
    rows = session.execute(
        sa.select(Questionnaire.slug, Questionnaire.title)
        .join(newest, sa.and_(newest.c.slug == Questionnaire.slug, newest.c.version == Questionnaire.version))
        .order_by(Questionnaire.slug)
    )
    return [(str(slug), str(title)) for slug, title in rows]
