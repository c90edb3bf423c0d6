"""What every command group shares: one precise error line, and looking a round up."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from survey.extensions import db
from survey.models import SurveyRound


def fail(message: str) -> NoReturn:
    """Print one precise line to stderr and exit 1."""
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(1)


def round_or_fail(round_id: int) -> SurveyRound:
    survey_round = db.session.get(SurveyRound, round_id)
    if survey_round is None:
        fail(f"không có đợt khảo sát số {round_id}")
    return survey_round
