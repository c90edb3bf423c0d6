"""Uploaded frame files waiting for confirmation.

A file with problems is kept (it holds personal data) only until the user imports its valid
rows, a later upload succeeds, or the round's personal data is purged."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

_UPLOAD_RE = re.compile(r"^(?P<round>\d+)-[0-9a-f]{32}\.(csv|xlsx|txt)$")


def _upload_dir(instance_path: str) -> Path:
    path = Path(instance_path) / "uploads"
    path.mkdir(exist_ok=True)
    return path


def keep_upload(instance_path: str, round_id: int, data: bytes, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    token = f"{round_id}-{uuid.uuid4().hex}{suffix if suffix in ('.csv', '.xlsx', '.txt') else '.csv'}"
    (_upload_dir(instance_path) / token).write_bytes(data)
    return token


def read_upload(instance_path: str, round_id: int, token: str) -> bytes | None:
    match = _UPLOAD_RE.match(token)
    path = _upload_dir(instance_path) / token
    if match is None or int(match["round"]) != round_id or not path.exists():
        return None
    return path.read_bytes()


def remove_uploads(instance_path: str, round_id: int) -> int:
    removed = 0
    for path in _upload_dir(instance_path).iterdir():
        match = _UPLOAD_RE.match(path.name)
        if match and int(match["round"]) == round_id:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
