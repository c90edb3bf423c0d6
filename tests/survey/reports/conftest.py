from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

SHIPPED = Path(__file__).resolve().parents[3] / "questionnaires" / "sipas-dich-vu" / "v1.yaml"


@pytest.fixture
def publish_v2(app, db, tmp_path):
    """Publish a version 2 of the shipped questionnaire; ``drop`` removes index items."""
    from survey import questionnaires
    from survey.questionnaires import load_directory

    def publish(*, drop: tuple[str, ...] = ()) -> None:
        doc = yaml.safe_load(SHIPPED.read_text("utf-8"))
        doc["version"] = 2
        for section in doc["sections"]:
            section["questions"] = [q for q in section["questions"] if q["code"] not in drop]
        shutil.copytree(SHIPPED.parents[1], tmp_path / "q")  # every shipped file: all are published
        folder = tmp_path / "q" / "sipas-dich-vu"
        (folder / "v2.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
        questionnaires.publish(db.session, load_directory(tmp_path / "q"))
        db.session.commit()

    return publish
