"""The steps of a frame upload — the column mapping when the headers are not all recognised,
then the check and the import — and the named mapping profiles that spare the next upload of
the same export its mapping step.

An upload goes straight to the check when its columns are clear: a saved profile fits its
headers (the one chosen on the form, else one whose headers match), or the recognised
headers cover every required field and no header is left unrecognised while a field still has
no column. Otherwise the user maps the columns on a page (the file is kept on disk, not
uploaded again), and may save the mapping as a profile. Services flush; the caller commits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO

import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from survey.models import FrameMappingProfile, SurveyRound
from survey.paper import frames, uploads

#: Rows read for the headers and the sample values of the mapping page.
SAMPLE_ROWS = 200
SAMPLES_PER_COLUMN = 3
#: The fields in the order the mapping page shows them.
FIELD_ORDER = (
    "dossier_code",
    "place",
    "result_date",
    "procedure_code",
    "linh_vuc",
    "field_group",
    "applicant_name",
    "phone",
    "address",
)
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
#: Headers of the usual exports the frame does not need: listed as unused, but they do not
#: call for the mapping step.
KNOWN_UNUSED = frozenset(
    frames.header_key(h)
    for h in (
        "STT",
        "TT",
        "Số thứ tự",
        "Tên thủ tục",
        "Tên TTHC",
        "Tên thủ tục hành chính",
        "Ngày tiếp nhận",
        "Ngày nhận",
        "Ngày hẹn trả",
        "Ngày hẹn trả kết quả",
        "Trạng thái",
        "Tình trạng",
        "Ghi chú",
        "Hình thức nộp",
        "Cấp thực hiện",
    )
)


@dataclass(frozen=True)
class Target:
    """A field of the frame the user maps a column to."""

    field: str
    label: str
    need: str  # "required", "group" (one of the field-group sources) or "optional"


def targets() -> list[Target]:
    def need(field: str) -> str:
        if field in frames.REQUIRED:
            return "required"
        return "group" if field in frames.GROUP_SOURCES else "optional"

    return [Target(f, frames.COLUMN_LABELS[f], need(f)) for f in FIELD_ORDER]


# --- profiles ----------------------------------------------------------------------------------------
def profiles(session: Session) -> list[FrameMappingProfile]:
    return list(session.scalars(sa.select(FrameMappingProfile).order_by(FrameMappingProfile.name)))


def clean_name(name: str) -> str:
    """A profile name as stored: NFC, single spaces, trimmed."""
    return re.sub(r"[ \t\r\n]+", " ", unicodedata.normalize("NFC", name)).strip()


def profile_by_name(session: Session, name: str) -> FrameMappingProfile | None:
    return session.scalar(sa.select(FrameMappingProfile).where(FrameMappingProfile.name == clean_name(name)))


def ordered_columns(columns: dict[str, str]) -> list[tuple[str, str]]:
    """A mapping's (field, header) pairs in the page's order (JSONB keeps no key order)."""
    return sorted(columns.items(), key=lambda item: FIELD_ORDER.index(item[0]) if item[0] in FIELD_ORDER else 99)


def fit_profile(profile: FrameMappingProfile, headers: list[str]) -> dict[str, str] | None:
    """The profile's mapping onto this file's headers (compared without diacritics, case and
    extra spaces); None if a column it maps is not in the file."""
    by_key = {frames.header_key(h): h for h in headers}
    fitted = {field: by_key.get(frames.header_key(header)) for field, header in profile.columns.items()}
    return None if None in fitted.values() else {f: h for f, h in fitted.items() if h is not None}


def missing_headers(profile: FrameMappingProfile, headers: list[str]) -> list[str]:
    keys = {frames.header_key(h) for h in headers}
    return [h for h in profile.columns.values() if frames.header_key(h) not in keys]


def matching_profile(session: Session, headers: list[str]) -> tuple[FrameMappingProfile, dict[str, str]] | None:
    """The saved profile for a file with these headers: one whose columns are all in the file,
    preferring one saved from a file with exactly these headers, then the one mapping most
    columns, then the most recently created."""
    keys = {frames.header_key(h) for h in headers}
    fits = []
    for profile in profiles(session):
        fitted = fit_profile(profile, headers)
        if fitted is None:
            continue
        exact = {frames.header_key(h) for h in profile.headers} == keys
        fits.append(((exact, len(fitted), profile.id), profile, fitted))
    if not fits:
        return None
    _rank, profile, fitted = max(fits, key=lambda f: f[0])
    return profile, fitted


def save_profile(
    session: Session, name: str, columns: dict[str, str], headers: list[str], *, actor_id: int | None
) -> tuple[FrameMappingProfile, bool]:
    """Save a checked mapping under `name` (a profile of that name is replaced); the profile and
    whether it is new. Raises `MappingError` for a bad name."""
    name = clean_name(name)
    if CONTROL_RE.search(name):
        raise frames.MappingError([_("Tên hồ sơ ánh xạ có ký tự điều khiển (không in được).")])
    if not name or len(name) > 120:
        raise frames.MappingError([_("Tên hồ sơ ánh xạ phải có từ 1 đến 120 ký tự.")])
    profile = profile_by_name(session, name)
    created = profile is None
    if profile is None:
        profile = FrameMappingProfile(name=name, created_by_id=actor_id)
        session.add(profile)
    profile.columns, profile.headers = dict(columns), list(headers)
    session.flush()
    return profile, created


def delete_profile(session: Session, profile: FrameMappingProfile) -> None:
    session.delete(profile)
    session.flush()


def profile_for_file(
    session: Session, headers: list[str], name: str | None
) -> tuple[dict[str, str], FrameMappingProfile] | None:
    """For the command line: the named profile fitted to the file's headers (raises
    `MappingError` if there is none of that name or it does not fit), else a matching one."""
    if not name:
        match = matching_profile(session, headers)
        return None if match is None else (match[1], match[0])
    profile = profile_by_name(session, name)
    if profile is None:
        names = ", ".join(p.name for p in profiles(session)) or _("chưa có hồ sơ nào")
        raise frames.MappingError([_("Không có hồ sơ ánh xạ “%(name)s” (có: %(names)s).", name=name, names=names)])
    fitted = fit_profile(profile, headers)
    if fitted is None:
        raise frames.MappingError([_profile_misfit(profile, headers)])
    return frames.validate_columns(dict(fitted), headers), profile


def _profile_misfit(profile: FrameMappingProfile, headers: list[str]) -> str:
    return _(
        "Hồ sơ ánh xạ “%(name)s” cần cột %(cols)s mà tệp không có.",
        name=profile.name,
        cols=", ".join(f"“{h}”" for h in missing_headers(profile, headers)),
    )


# --- which columns, and whether the user should look first ------------------------------------------
@dataclass(frozen=True)
class Plan:
    columns: dict[str, str]  # {field: header}: the choice, or the page's pre-filled guess
    profile: str | None  # the profile it came from
    reasons: list[str]  # why the mapping page comes first (empty: straight to the check)


def plan_columns(session: Session, headers: list[str], *, profile_id: int | None = None, review: bool = False) -> Plan:
    """The columns of a new upload and whether the mapping step is needed."""
    guess = frames.guess_columns(headers)
    chosen = None if profile_id is None else session.get(FrameMappingProfile, profile_id)
    if chosen is not None:
        fitted = fit_profile(chosen, headers)
        if fitted is None:
            prefill = _merged(fit_profile_partly(chosen, headers), guess)
            return Plan(prefill, chosen.name, [_profile_misfit(chosen, headers)])
        return _reviewed(Plan(fitted, chosen.name, _problems(fitted, headers)), review)
    match = matching_profile(session, headers)
    if match is not None:
        return _reviewed(Plan(match[1], match[0].name, _problems(match[1], headers)), review)
    reasons = _doubled(headers, guess) + _problems(guess, headers)
    unknown = [h for h in headers if not frames.guess_columns([h]) and frames.header_key(h) not in KNOWN_UNUSED]
    open_fields = [frames.COLUMN_LABELS[f] for f in FIELD_ORDER if f not in guess and f != "field_group"]
    if unknown and reasons:  # the fields without a column are already named
        reasons.append(_("Chưa nhận ra cột %(cols)s.", cols=", ".join(f"“{h}”" for h in unknown)))
    elif unknown and open_fields:
        reasons.append(
            _(
                "Chưa nhận ra cột %(cols)s, trong khi chưa có cột cho: %(fields)s. "
                "Hãy xem cột nào là trường nào (hoặc để “không dùng”).",
                cols=", ".join(f"“{h}”" for h in unknown),
                fields=", ".join(open_fields),
            )
        )
    return _reviewed(Plan(guess, None, reasons), review)


def fit_profile_partly(profile: FrameMappingProfile, headers: list[str]) -> dict[str, str]:
    """The columns of a profile that the file has (to pre-fill the mapping page)."""
    by_key = {frames.header_key(h): h for h in headers}
    return {f: by_key[frames.header_key(h)] for f, h in profile.columns.items() if frames.header_key(h) in by_key}


def _merged(first: dict[str, str], then: dict[str, str]) -> dict[str, str]:
    """`first`, completed with the fields of `then` whose header `first` does not use."""
    used = set(first.values())
    return first | {f: h for f, h in then.items() if f not in first and h not in used}


def _reviewed(plan: Plan, review: bool) -> Plan:
    if review and not plan.reasons:
        return Plan(plan.columns, plan.profile, [_("Bạn đã chọn xem ánh xạ cột trước khi nhập.")])
    return plan


def _problems(columns: dict[str, str], headers: list[str]) -> list[str]:
    try:
        frames.validate_columns(dict(columns), headers)
    except frames.MappingError as exc:
        return exc.reasons
    return []


def _doubled(headers: list[str], guess: dict[str, str]) -> list[str]:
    """Two recognised headers that mean the same field ("Ngày trả" and "Ngày trả kết quả")."""
    reasons = []
    for field, first in guess.items():
        others = [h for h in headers if h != first and frames.guess_columns([h]).get(field) == h]
        if others:
            reasons.append(
                _(
                    "Các cột %(cols)s cùng có thể là “%(field)s”: chọn một.",
                    cols=", ".join(f"“{h}”" for h in [first, *others]),
                    field=frames.COLUMN_LABELS[field],
                )
            )
    return reasons


# --- the steps of an upload --------------------------------------------------------------------------
@dataclass(frozen=True)
class Upload:
    """An uploaded frame file after a step: waiting for its mapping (`checked` None), checked
    with problems (kept under `token` for the report or the confirmation), or imported
    (`stored` rows)."""

    token: str | None
    checked: frames.FrameCheck | None
    stored: int | None
    profile: str | None = None
    saved_profile: str | None = None

    @property
    def needs_mapping(self) -> bool:
        return self.checked is None


def import_upload(
    session: Session,
    survey_round: SurveyRound,
    stream: BinaryIO,
    filename: str,
    *,
    instance_path: str,
    profile_id: int | None = None,
    review: bool = False,
) -> Upload:
    """Copy the uploaded file to disk, then either stop at the mapping step or check it and
    store it when it has no problem. A file that cannot be read at all raises `FrameError`
    (and is not kept)."""
    if not filename.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm")):
        raise frames.FrameError(_("Không đọc được tệp %(name)s: chỉ nhận CSV hoặc XLSX.", name=filename))
    token = uploads.save_stream(instance_path, survey_round.id, stream, filename)
    data = uploads.read_upload(instance_path, survey_round.id, token)
    assert data is not None
    try:
        headers = _headers(frames.read_table(data, filename, limit=SAMPLE_ROWS))
    except frames.FrameError:
        uploads.remove_upload(instance_path, token)
        raise
    plan = plan_columns(session, headers, profile_id=profile_id, review=review)
    meta = {"filename": filename, "columns": plan.columns, "profile": plan.profile, "reasons": plan.reasons}
    uploads.save_meta(instance_path, survey_round.id, token, meta)
    if plan.reasons:
        return Upload(token, None, None, plan.profile)
    return _check_and_store(session, survey_round, token, data, plan.columns, plan.profile, instance_path)


def _headers(table: pd.DataFrame) -> list[str]:
    headers = [str(c) for c in table.columns]
    if not headers:
        raise frames.FrameError(_("Tệp không có dòng tiêu đề."))
    return headers


def _check_and_store(
    session: Session,
    survey_round: SurveyRound,
    token: str,
    data: bytes,
    columns: dict[str, str],
    profile: str | None,
    instance_path: str,
    saved_profile: str | None = None,
) -> Upload:
    filename = str(uploads.read_meta(instance_path, survey_round.id, token).get("filename") or token)
    try:
        table = frames.read_table(data, token)
    except frames.FrameError:
        uploads.remove_upload(instance_path, token)
        raise
    checked = frames.check(session, survey_round, table, columns)
    if checked.problems:
        return Upload(token, checked, None, profile, saved_profile)
    stored = frames.store(session, survey_round, checked)
    survey_round.frame_file = filename
    uploads.remove_uploads(instance_path, survey_round.id)
    return Upload(None, checked, stored, profile, saved_profile)


@dataclass(frozen=True)
class MappingStep:
    """What the mapping page shows for a kept upload."""

    filename: str
    headers: list[str]
    samples: dict[str, list[str]]  # {header: the first distinct non-empty values}
    columns: dict[str, str]  # pre-filled {field: header}
    reasons: list[str]
    profile: str | None

    @property
    def unused(self) -> list[str]:
        return [h for h in self.headers if h not in self.columns.values()]


def _sample_text(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    text = frames.CONTROL_RE.sub(lambda m: f"U+{ord(m.group()):04X}", str(value).strip())
    return text if len(text) <= 40 else text[:37] + "…"


def samples(table: pd.DataFrame, n: int = SAMPLES_PER_COLUMN) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for header in table.columns:
        values: list[str] = []
        for value in table[header]:
            text = _sample_text(value)
            if text and text not in values:
                values.append(text)
                if len(values) == n:
                    break
        out[str(header)] = values
    return out


def mapping_step(session: Session, survey_round: SurveyRound, token: str, *, instance_path: str) -> MappingStep | None:
    """The mapping page of a kept upload (None if it is gone or not this round's)."""
    data = uploads.read_upload(instance_path, survey_round.id, token)
    if data is None:
        return None
    meta = uploads.read_meta(instance_path, survey_round.id, token)
    table = frames.read_table(data, token, limit=SAMPLE_ROWS)
    headers = _headers(table)
    columns = {f: h for f, h in dict(meta.get("columns") or frames.guess_columns(headers)).items() if h in headers}
    return MappingStep(
        filename=str(meta.get("filename") or token),
        headers=headers,
        samples=samples(table),
        columns=columns,
        reasons=list(meta.get("reasons") or []),
        profile=meta.get("profile"),
    )


def confirm_mapping(
    session: Session,
    survey_round: SurveyRound,
    token: str,
    columns: dict[str, str | None],
    *,
    save_as: str | None,
    actor_id: int | None,
    instance_path: str,
) -> Upload | None:
    """Check the mapping the user chose (`MappingError` with every reason: nothing is written),
    save it as a profile if named, then check and store the file as `import_upload` does.
    None if the kept upload is gone."""
    data = uploads.read_upload(instance_path, survey_round.id, token)
    if data is None:
        return None
    headers = _headers(frames.read_table(data, token, limit=SAMPLE_ROWS))
    chosen = frames.validate_columns(columns, headers)
    saved = None
    if save_as and save_as.strip():
        saved = save_profile(session, save_as, chosen, headers, actor_id=actor_id)[0].name
    meta = uploads.read_meta(instance_path, survey_round.id, token)
    uploads.save_meta(instance_path, survey_round.id, token, meta | {"columns": chosen, "reasons": []})
    return _check_and_store(session, survey_round, token, data, chosen, saved, instance_path, saved)


def check_kept_upload(
    session: Session, survey_round: SurveyRound, token: str, *, instance_path: str
) -> frames.FrameCheck | None:
    """The check of a kept upload again, with the columns chosen for it (None if it is gone
    or not this round's)."""
    data = uploads.read_upload(instance_path, survey_round.id, token)
    if data is None:
        return None
    columns = uploads.read_meta(instance_path, survey_round.id, token).get("columns")
    return frames.check(session, survey_round, frames.read_table(data, token), columns or None)


def import_valid_rows(
    session: Session, survey_round: SurveyRound, checked: frames.FrameCheck, *, label: str, instance_path: str
) -> int:
    """Store the valid rows of a kept upload the user confirmed, then drop the kept file."""
    stored = frames.store(session, survey_round, checked, valid_only=True)
    survey_round.frame_file = label
    uploads.remove_uploads(instance_path, survey_round.id)
    return stored
