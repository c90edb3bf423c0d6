"""Uploaded frame files waiting for confirmation.

A file with problems is kept (it holds personal data) only until the user imports its valid
rows, a later upload succeeds, or the round's personal data is purged."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

_UPLOAD_RE = re.compile(r"^(?P<round>\d+)-[0-9a-f]{32}\.(csv|xlsx|txt)$")


def _upload_dir(instance_path: str) -> Path:
    path = Path(instance_path) / "uploads"
    path.mkdir(exist_ok=True)
    return path


def save_stream(instance_path: str, round_id: int, stream: BinaryIO, filename: str) -> str:
    """Copy an uploaded file to disk in chunks (a frame can be hundreds of MB); its token."""
    suffix = Path(filename).suffix.lower()
    token = f"{round_id}-{uuid.uuid4().hex}{suffix if suffix in ('.csv', '.xlsx', '.txt') else '.csv'}"
    with (_upload_dir(instance_path) / token).open("wb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
    return token


def remove_upload(instance_path: str, token: str) -> None:
    if _UPLOAD_RE.match(token):
        (_upload_dir(instance_path) / token).unlink(missing_ok=True)


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
