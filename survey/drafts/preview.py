"""A draft as a citizen sees it: the citizen's form template, rendered from the draft's
definition for a phone-width page. Nothing here records anything: no counter, no CSRF token,
no idempotency key — the citizen's channel would refuse it. (The clerk's view is the keying
form of `survey.paper.keying_form`, shown read-only.)"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup

from survey.models import FIELD_GROUPS
from survey.questionnaires.definition import text_of
from survey.questionnaires.forms import Version, form_groups, layout

#: The template the citizen's page is rendered from (survey/public/form_page.py).
CITIZEN_TEMPLATE = "public/_questionnaire_form.html"
CHANNEL = "qr"


def citizen_form(slug: str, content_hash: str, definition: dict[str, Any], *, lang: str, where: str) -> Markup:
    """The citizen's form of a draft in `lang`, as at a counter serving every field group
    (the field-group question shown). No CSRF token and no idempotency key: it cannot be
    submitted to the citizen's channel."""
    version = Version(slug, 0, content_hash, definition)  # version 0: never a published one
    sections = layout(version, channel=CHANNEL, lang=lang, field_groups=form_groups(tuple(FIELD_GROUPS)))
    with force_locale(lang):
        html = render_template(
            CITIZEN_TEMPLATE,
            definition=definition,
            t=lambda block: text_of(block, lang),
            sections=sections,
            labels={q.code: q.label for s in sections for q in s.questions},
            values={},
            errors={},
            where=where,
            csrf=None,
            idem="",
        )
    return Markup(html)
