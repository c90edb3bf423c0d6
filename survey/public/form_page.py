"""The citizen's questionnaire page, rendered once and reused.

A published questionnaire version never changes (its file's sha256 is checked at start-up),
so the HTML of its form is rendered once per (version, language, the counter's field-group
set as far as it changes the form, CSRF on or off) with placeholders where the per-request
values go — the counter's name, the CSRF token, the form's idempotency key — and kept in a
small LRU cache of the app; for a citizen (nobody signed in, no flashed message) the whole
page is cached so. A request only fills the placeholders (escaped) — or, for a signed-in user
or a waiting message, renders the page around the cached form (``base.html``).

A submitted form shown again (messages, answers kept) is rendered in full from the same
template, so the two cannot drift apart; `tests/survey/public/test_form_page.py` compares a
cached page with one rendered without the cache.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from flask import current_app, render_template, session
from flask_babel import force_locale
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from survey.models import Counter, Questionnaire
from survey.questionnaires.definition import text_of
from survey.questionnaires.forms import Version, form_groups, layout

CHANNEL = "qr"
TEMPLATE = "public/_questionnaire_form.html"
CACHE_SIZE = 64  # versions × languages × field-group sets: a handful in practice
#: Marks the per-request values in a cached rendering; random per process, so no
#: questionnaire text can contain it.
_MARK = "sipas-slot-" + secrets.token_hex(8) + "-"
_SLOT = re.compile(re.escape(_MARK) + r"(where|csrf|idem|receipt)")

Parts = tuple[str, ...]  # literal, slot name, literal, slot name, …, literal


def where(counter: Counter) -> str:
    return f"{counter.place.name} · {counter.name}"


def csrf_enabled() -> bool:
    return bool(current_app.config.get("WTF_CSRF_ENABLED", True))


def new_form_page(row: Questionnaire, counter: Counter, *, lang: str, idem: str, cached: bool = True) -> str:
    """The page of a new, empty form for `counter`, carrying the idempotency key `idem`.

    A citizen's page (nobody signed in, no message waiting) comes whole from the cache; a
    signed-in user's or one with a message gets the cached form inside a page rendered now."""
    values = {"where": where(counter), "csrf": generate_csrf() if csrf_enabled() else None, "idem": idem}
    groups = form_groups(tuple(counter.field_groups))
    if not cached or current_app.debug or current_app.config.get("TEMPLATES_AUTO_RELOAD"):
        return _page(_render_form(Version.of(row), lang, groups, values=values), lang)
    whole = not current_user.is_authenticated and not session.get("_flashes")
    parts = _cache()(Version.of(row), lang, groups, csrf_enabled(), whole)
    return _fill(parts, values) if whole else _page(_fill(parts, values), lang)


def form_again_page(row: Questionnaire, counter: Counter, form: FlaskForm, *, lang: str) -> str:
    """The page of a submitted form shown again: its answers, its messages, its key."""
    values = {
        "where": where(counter),
        "csrf": generate_csrf() if form.meta.csrf else None,
        "idem": form.idem.data or "",
    }
    answers = {f.name: str(f.raw_data[0]) for f in form if f.raw_data and f.name not in ("csrf_token", "idem")}
    groups = form_groups(tuple(counter.field_groups))
    body = _render_form(Version.of(row), lang, groups, values=values, answers=answers, errors=form.errors)
    return _page(body, lang)


def thanks_page(receipt: str, *, again: bool, lang: str) -> str:
    """The thank-you page with its receipt: cached too for a citizen (nobody signed in, no
    message waiting), rendered otherwise."""
    if current_user.is_authenticated or session.get("_flashes") or current_app.debug:
        return render_template("public/thanks.html", receipt=receipt, again=again)
    found = current_app.extensions.get("sipas_thanks_pages")
    if found is None:
        found = current_app.extensions.setdefault("sipas_thanks_pages", lru_cache(maxsize=8)(_thanks_parts))
    return _fill(found(again, lang), {"receipt": receipt})


def _thanks_parts(again: bool, lang: str) -> Parts:
    with force_locale(lang):
        html = render_template("public/thanks.html", receipt=_MARK + "receipt", again=again)
    return tuple(_SLOT.split(html))


def _page(body: str, lang: str) -> str:
    with force_locale(lang):
        return render_template("public/questionnaire.html", body=Markup(body))


def _render_form(
    version: Version,
    lang: str,
    groups: tuple[str, ...],
    *,
    values: Mapping[str, str | None],
    answers: Mapping[str, str] | None = None,
    errors: Mapping[str, Any] | None = None,
) -> str:
    sections = layout(version, channel=CHANNEL, lang=lang, field_groups=groups)
    with force_locale(lang):  # the interface strings in the language of the cache key, whatever came before
        return render_template(
            TEMPLATE,
            definition=version.definition,
            t=lambda block: text_of(block, lang),
            sections=sections,
            labels={q.code: q.label for s in sections for q in s.questions},
            values=answers or {},
            errors=errors or {},
            **values,
        )


def _cache() -> Callable[[Version, str, tuple[str, ...], bool, bool], Parts]:
    """This app's cache of rendered forms (an app's templates and settings are its own)."""
    found = current_app.extensions.get("sipas_form_pages")
    if found is None:
        found = current_app.extensions.setdefault("sipas_form_pages", lru_cache(maxsize=CACHE_SIZE)(_parts))
    return found  # type: ignore[no-any-return]


def _parts(version: Version, lang: str, groups: tuple[str, ...], csrf: bool, whole: bool) -> Parts:
    """Render once with placeholders — the form, or the whole page of an anonymous visitor
    without a message (`whole`) — and split at them."""
    marks = {name: _MARK + name for name in ("where", "idem")}
    html = _render_form(version, lang, groups, values={**marks, "csrf": _MARK + "csrf" if csrf else None})
    return tuple(_SLOT.split(_page(html, lang) if whole else html))


def _fill(parts: Parts, values: Mapping[str, str | None]) -> str:
    out = list(parts)
    for i in range(1, len(out), 2):
        out[i] = str(escape(values[out[i]] or ""))
    return "".join(out)
