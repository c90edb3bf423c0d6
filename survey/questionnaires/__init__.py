"""Questionnaires: loading and validating the files in ``questionnaires/``, publishing them
into the database, reading a definition, and generating the citizen's form from it.

- `loader` — read and validate ``<slug>/v<N>.yaml`` (schema + semantic rules, NFC text);
- `publishing` — publish new versions, refuse a changed published file, look a version up;
- `definition` — wording in a language, which questions a channel asks, which question
  fills a response column;
- `forms` — the WTForms class of the citizen's QR form, generated from the definition.

The loader's and the publisher's functions are re-exported here: ``questionnaires.get(…)``.
"""

from survey.questionnaires.loader import (
    Definition,
    Problem,
    PublishedQuestionnaireChanged,
    QuestionnaireError,
    load_directory,
    load_file,
)
from survey.questionnaires.publishing import check_published, get, publish, slugs

__all__ = [
    "Definition",
    "Problem",
    "PublishedQuestionnaireChanged",
    "QuestionnaireError",
    "check_published",
    "get",
    "load_directory",
    "load_file",
    "publish",
    "slugs",
]
