"""Publishing a questionnaire from the admin pages, without a shell.

- `uploads` — an uploaded file checked (size, UTF-8, YAML, schema, semantic rules) and
  kept as a draft; publishing a draft as the slug's next version (the same service as
  ``flask questionnaires publish``), once however often it is asked; discarding a draft;
- `diff` — what changed from the previous published version (questions added, removed,
  reworded per language, codes, options, the index definition);
- `preview` — a draft as a citizen sees it and as a clerk keys it, recording nothing.
"""
