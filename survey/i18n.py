"""Languages: Vietnamese is the source language, English a translation (``?lang=en``)."""

from __future__ import annotations

from flask import current_app, request, session


def select_locale() -> str:
    """The language of this request: ``?lang=``, then the one remembered in the session,
    then the default (Vietnamese)."""
    lang = request.args.get("lang") or session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return str(lang)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def remember_language() -> None:
    """Keep a language chosen with ``?lang=`` for the rest of the session."""
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
