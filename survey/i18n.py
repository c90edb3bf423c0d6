"""Languages and local time. Vietnamese is the source language, English a translation
(``?lang=en``). "Today" is the calendar day in ``SIPAS_TIMEZONE`` (Vietnam), whatever the
server's clock is set to: every date check and every daily window uses `local_today`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, has_request_context, request, session

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def select_locale() -> str:
    """The language of this request: ``?lang=``, then the one remembered in the session,
    then the default (Vietnamese). Outside a request (a command such as ``flask report
    build`` writing the PDF report) the default."""
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    lang = request.args.get("lang") or session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return str(lang)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def remember_language() -> None:
    """Keep a language chosen with ``?lang=`` for the rest of the session."""
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang


def local_zone() -> ZoneInfo:
    """The configured time zone (``SIPAS_TIMEZONE``; Vietnam outside an app context)."""
    name = current_app.config.get("TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(name)


def local_today(now: datetime | None = None) -> date:
    """The local calendar day at `now` (default: the current instant)."""
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # naive datetimes in this app are UTC
    return moment.astimezone(local_zone()).date()


def local_day_start(day: date) -> datetime:
    """The instant (in UTC) the local calendar day `day` begins."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)
