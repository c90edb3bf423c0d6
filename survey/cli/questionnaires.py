"""``flask questionnaires``: check and publish questionnaire files."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from survey import questionnaires
from survey.cli.common import fail
from survey.extensions import db

questionnaires_cli = AppGroup("questionnaires", help="Kiểm tra và công bố phiếu khảo sát.")


@questionnaires_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
def check_questionnaires(paths: tuple[str, ...]) -> None:
    """Kiểm tra tệp phiếu (mặc định: cả thư mục questionnaires/) và đối chiếu với các
    phiên bản đã công bố."""
    directory = Path(current_app.config["QUESTIONNAIRES_DIR"])
    try:
        if paths:
            found = {}
            problems = []
            for path in paths:
                try:
                    d = questionnaires.load_file(Path(path), directory / "schema.json")
                    found[(d.slug, d.version)] = d
                except questionnaires.QuestionnaireError as exc:
                    problems += exc.problems
            if problems:
                raise questionnaires.QuestionnaireError(problems)
        else:
            found = questionnaires.load_directory(directory)
    except questionnaires.QuestionnaireError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} lỗi.", err=True)
        sys.exit(1)
    for (slug, version), d in sorted(found.items()):
        click.echo(f"OK {slug} v{version}: {len(list(d.questions()))} câu hỏi, {len(d.items)} câu tính chỉ số")


@questionnaires_cli.command("publish")
def publish_questionnaires() -> None:
    """Công bố các phiên bản phiếu mới trong questionnaires/ (phiên bản đã công bố không
    bao giờ bị sửa)."""
    definitions = current_app.extensions["sipas_questionnaires"]
    try:
        added = questionnaires.publish(db.session, definitions)
    except questionnaires.PublishedQuestionnaireChanged as exc:
        fail(str(exc))
    db.session.commit()
    for row in added:
        click.echo(f"Đã công bố {row.slug} v{row.version}.")
    if not added:
        click.echo("Không có phiên bản mới; các phiếu đã công bố khớp với tệp.")
