""" "Today" is the Vietnam calendar day whatever the server's clock says: the helper around
00:00–07:00 Vietnam time (17:00–24:00 UTC the day before), and the daily duplicate window."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from survey.i18n import local_day_start, local_today

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    "utc, vn_day",
    [
        (datetime(2026, 11, 29, 16, 59, tzinfo=UTC), date(2026, 11, 29)),  # 23:59 in Hà Nội
        (datetime(2026, 11, 29, 17, 0, tzinfo=UTC), date(2026, 11, 30)),  # 00:00
        (datetime(2026, 11, 29, 20, 30, tzinfo=UTC), date(2026, 11, 30)),  # 03:30
        (datetime(2026, 11, 29, 23, 59, tzinfo=UTC), date(2026, 11, 30)),  # 06:59
        (datetime(2026, 11, 30, 0, 0, tzinfo=UTC), date(2026, 11, 30)),  # 07:00
        (datetime(2026, 12, 31, 17, 0), date(2027, 1, 1)),  # naive values are UTC
    ],
)
def test_local_today_is_the_vietnam_day(utc: datetime, vn_day: date) -> None:
    assert local_today(utc) == vn_day


def test_the_vietnam_day_starts_at_17_utc_the_day_before() -> None:
    assert local_day_start(date(2026, 11, 30)) == datetime(2026, 11, 29, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize("server_tz", ["UTC", "America/Los_Angeles", "Asia/Ho_Chi_Minh"])
def test_the_server_clock_zone_does_not_matter(server_tz: str, monkeypatch) -> None:
    monkeypatch.setenv("TZ", server_tz)
    time.tzset()
    try:
        assert local_today() == datetime.now(VN).date()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert "TZ" not in os.environ or os.environ["TZ"] != server_tz


def test_the_zone_is_configurable(app) -> None:
    moment = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    with app.app_context():
        assert local_today(moment) == date(2026, 11, 30)
        app.config["TIMEZONE"] = "UTC"
        try:
            assert local_today(moment) == date(2026, 11, 29)
        finally:
            app.config["TIMEZONE"] = "Asia/Ho_Chi_Minh"


def test_a_bad_zone_is_refused_at_start(tmp_path) -> None:
    from survey import ConfigError, create_app

    with pytest.raises(ConfigError, match="SIPAS_TIMEZONE"):
        create_app({"SECRET_KEY": "s" * 40, "TIMEZONE": "Asia/Hanoi-Nope"}, instance_path=str(tmp_path))


@pytest.mark.parametrize("minutes, flagged", [(1, True), (-1, False)])
def test_the_daily_duplicate_window_turns_at_vietnam_midnight(app, db, published, demo, minutes, flagged) -> None:
    """A response from the same device at the same counter flags the next one only if it came
    the same Vietnam day: one just after Vietnam midnight does, one just before does not."""
    from survey.models import Counter, Response
    from survey.responses.recording import record_response

    questionnaire = published[0] if isinstance(published, list) else published
    counter = db.session.scalars(sa.select(Counter).order_by(Counter.id)).first()
    common = {"channel": "qr", "place_id": counter.place_id, "counter_id": counter.id, "field_group": "dat_dai"}
    first, _ = record_response(db.session, questionnaire, {}, device="d" * 32, **common)
    first.created_at = local_day_start(local_today()) + timedelta(minutes=minutes)
    db.session.flush()
    second, _ = record_response(db.session, questionnaire, {}, device="d" * 32, **common)
    assert second.possible_duplicate is flagged
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
