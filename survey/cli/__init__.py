"""Command-line tools: one module per ``flask <group>``. Commands call services, never views."""

from survey.cli import db as db_commands  # noqa: F401  adds backup/restore to Flask-Migrate's `flask db`
from survey.cli.demo import demo_cli
from survey.cli.frame import frame_cli
from survey.cli.procedures import procedures_cli
from survey.cli.qr import qr_cli
from survey.cli.questionnaires import questionnaires_cli
from survey.cli.report import report_cli
from survey.cli.round import round_cli
from survey.cli.sample import sample_cli
from survey.cli.users import users_cli

COMMAND_GROUPS = (
    users_cli,
    questionnaires_cli,
    demo_cli,
    qr_cli,
    round_cli,
    frame_cli,
    sample_cli,
    procedures_cli,
    report_cli,
)

__all__ = ["COMMAND_GROUPS"]
