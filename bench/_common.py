"""Set-up shared by the database benchmarks: arguments and a fresh app with demo data."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask_migrate import upgrade

from survey import create_app
from survey.demo import load
from survey.extensions import db


def arguments(doc: str, configure: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """``--rows`` and ``--database-url``, and what `configure` adds."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file in a temporary folder")
    if configure is not None:
        configure(parser)
    return parser.parse_args()


def fresh_app(database_url: str | None, prefix: str) -> tuple[Flask, Path]:
    """An app on a migrated database holding the demo places, counters and users."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b" * 40}, instance_path=str(workdir))
    with app.app_context():
        upgrade()
        load(db.session, app.extensions["sipas_questionnaires"], qr_responses=False)
        db.session.commit()
    return app, workdir
