"""Uploaded frame files waiting for the next step: the column mapping, or the confirmation of
the valid rows.

A file is kept (it holds personal data) only until the user imports it or its valid rows, a
later upload succeeds, or the round's personal data is purged. With it, a small JSON file
(`steps/<token>.json`) holds what the steps need: the file's name as uploaded and the columns
chosen so far."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any, BinaryIO

_UPLOAD_RE = re.compile(r"^(?P<round>\d+)-[0-9a-f]{32}\.(csv|xlsx|txt)$")


def _upload_dir(instance_path: str) -> Path:
    path = Path(instance_path) / "uploads"
    path.mkdir(exist_ok=True)
    return path


def _meta_path(instance_path: str, token: str) -> Path:
    path = _upload_dir(instance_path) / "steps"
    path.mkdir(exist_ok=True)
    return path / f"{token}.json"


def save_stream(instance_path: str, round_id: int, stream: BinaryIO, filename: str) -> str:
    """Copy an uploaded file to disk in chunks (a frame can be hundreds of MB); its token."""
    suffix = Path(filename).suffix.lower().replace(".xlsm", ".xlsx")
    token = f"{round_id}-{uuid.uuid4().hex}{suffix if suffix in ('.csv', '.xlsx', '.txt') else '.csv'}"
    with (_upload_dir(instance_path) / token).open("wb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
    return token


def remove_upload(instance_path: str, token: str) -> None:
    if _UPLOAD_RE.match(token):
        (_upload_dir(instance_path) / token).unlink(missing_ok=True)
        _meta_path(instance_path, token).unlink(missing_ok=True)


def _path(instance_path: str, round_id: int, token: str) -> Path | None:
    match = _UPLOAD_RE.match(token)
    path = _upload_dir(instance_path) / token
    if match is None or int(match["round"]) != round_id or not path.exists():
        return None
    return path


def read_upload(instance_path: str, round_id: int, token: str) -> bytes | None:
    path = _path(instance_path, round_id, token)
    return None if path is None else path.read_bytes()


def save_meta(instance_path: str, round_id: int, token: str, meta: dict[str, Any]) -> None:
    """Keep `meta` (JSON) beside a kept upload of this round."""
    if _path(instance_path, round_id, token) is not None:
        _meta_path(instance_path, token).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")


def read_meta(instance_path: str, round_id: int, token: str) -> dict[str, Any]:
    """What `save_meta` kept for this upload ({} if nothing or not this round's)."""
    meta = None if _path(instance_path, round_id, token) is None else _meta_path(instance_path, token)
    if meta is None or not meta.exists():
        return {}
    loaded = json.loads(meta.read_text("utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def remove_uploads(instance_path: str, round_id: int) -> int:
    """Remove every kept upload of a round (and what was kept beside it); how many files."""
    removed = 0
    for path in _upload_dir(instance_path).iterdir():
        match = _UPLOAD_RE.match(path.name)
        if match and int(match["round"]) == round_id:
            remove_upload(instance_path, path.name)
            removed += 1
    for meta in _meta_path(instance_path, "x").parent.iterdir():  # steps of files already gone
        match = _UPLOAD_RE.match(meta.name.removesuffix(".json"))
        if match and int(match["round"]) == round_id:
            meta.unlink(missing_ok=True)
    return removed
