"""Questionnaires as data: load and validate ``questionnaires/<slug>/v<N>.yaml`` files,
publish them into the database, and refuse a published version whose file has changed.

Every problem is reported with the file, the path inside it and a message, all at once
(`QuestionnaireError.problems`), so an author fixes a file in one pass.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

FILE_RE = re.compile(r"^v(?P<version>[1-9][0-9]*)\.yaml$")
#: PyYAML's safe loader, in C (libyaml) where PyYAML was built with it: the five shipped files
#: parse in a fraction of the pure-Python loader's second at every start-up.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(gốc)'}: {self.message}"


class QuestionnaireError(Exception):
    """One or more problems in questionnaire files."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class PublishedQuestionnaireChanged(Exception):
    """A published questionnaire's file no longer matches what was published."""


@dataclass(frozen=True)
class Definition:
    """A validated questionnaire file."""

    slug: str
    version: int
    path: Path
    content_hash: str
    data: dict[str, Any] = field(repr=False)

    @property
    def title(self) -> str:
        return self.data["title"]["vi"]

    def questions(self) -> Iterator[dict[str, Any]]:
        for section in self.data["sections"]:
            yield from section["questions"]

    @property
    def coded_layout(self) -> list[str]:
        """Codes of the ``scale`` questions, in file order (layout of ``Response.coded``)."""
        return [q["code"] for q in self.questions() if q["type"] == "scale"]

    @property
    def items(self) -> list[str]:
        """Codes of the index items (questions attached to an element)."""
        return [q["code"] for q in self.questions() if "element" in q]


@cache
def _schema_validator(schema_path: str) -> jsonschema.protocols.Validator:
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TYPES_VI = {
    "integer": "số nguyên",
    "number": "số",
    "string": "chuỗi văn bản",
    "object": "bảng (mapping)",
    "array": "danh sách",
    "boolean": "true hoặc false",
    "null": "rỗng",
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def schema_message(err: jsonschema.ValidationError) -> str:
    """A schema violation in Vietnamese (jsonschema's own messages are English)."""
    kind, want, value = err.validator, err.validator_value, err.instance
    if kind == "required":
        missing = [name for name in want if isinstance(value, dict) and name not in value]
        return f"thiếu trường bắt buộc {missing[0]!r}" if missing else "thiếu trường bắt buộc"
    if kind == "additionalProperties" and isinstance(value, dict):
        known = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
        extra = ", ".join(repr(k) for k in value if k not in known)
        return f"trường không được phép: {extra}"
    if kind == "type":
        wanted = [want] if isinstance(want, str) else list(want)
        return f"{_short(value)} phải là {' hoặc '.join(_TYPES_VI.get(t, t) for t in wanted)}"
    if kind == "pattern":
        return f"{_short(value)} không đúng mẫu {want}"
    if kind in ("enum", "const"):
        allowed = want if kind == "enum" else [want]
        return f"{_short(value)} không thuộc các giá trị cho phép: {', '.join(map(repr, allowed))}"
    if kind == "minLength":
        return "không được để trống" if want == 1 else f"cần ít nhất {want} ký tự"
    if kind == "maxLength":
        return f"dài quá {want} ký tự"
    if kind == "minItems":
        return f"cần ít nhất {want} phần tử"
    if kind == "maxItems":
        return f"nhiều nhất {want} phần tử"
    if kind == "minimum":
        return f"{_short(value)} phải từ {want} trở lên"
    if kind == "maximum":
        return f"{_short(value)} phải không quá {want}"
    if kind == "uniqueItems":
        return "có phần tử bị trùng"
    if kind in ("oneOf", "anyOf"):
        return f"{_short(value)} không khớp dạng nào được phép"
    return f"không đúng lược đồ ({kind}): {err.message}"


def _walk_strings(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_strings(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_strings(item, (*path, i))


def _semantic_problems(data: dict[str, Any], file: str) -> list[Problem]:
    """Rules JSON Schema cannot express: references and uniqueness."""
    problems: list[Problem] = []

    def bad(path: Iterable[Any], message: str) -> None:
        problems.append(Problem(file, _json_path(path), message))

    scales = data.get("scales", {})
    for name, scale in scales.items():
        codes = [o["code"] for o in scale["options"]]
        if len(set(codes)) != len(codes):
            bad(("scales", name, "options"), "mã phương án bị trùng")
    elements = [e["code"] for e in data.get("elements", [])]
    if len(set(elements)) != len(elements):
        bad(("elements",), "mã yếu tố bị trùng")
    share_ids = {s["id"]: s for s in data.get("shares", [])}

    seen: dict[str, tuple[Any, ...]] = {}
    used_elements: set[str] = set()
    section_ids: set[str] = set()
    for si, section in enumerate(data["sections"]):
        if section["id"] in section_ids:
            bad(("sections", si, "id"), f"mã phần {section['id']!r} bị trùng")
        section_ids.add(section["id"])
        for qi, q in enumerate(section["questions"]):
            path = ("sections", si, "questions", qi)
            code = q["code"]
            if code in seen:
                bad((*path, "code"), f"mã câu hỏi {code!r} đã dùng ở {_json_path(seen[code])}")
            seen.setdefault(code, path)
            if q["type"] == "scale" and q["scale"] not in scales:
                bad((*path, "scale"), f"thang đo {q['scale']!r} không được khai báo trong scales")
            if "element" in q:
                if q["type"] != "scale":
                    bad((*path, "element"), "chỉ câu hỏi loại scale mới thuộc một yếu tố")
                if q["element"] not in elements:
                    bad((*path, "element"), f"yếu tố {q['element']!r} không có trong elements")
                used_elements.add(q["element"])
            if "share" in q:
                share = share_ids.get(q["share"])
                if share is None:
                    bad((*path, "share"), f"nhóm tỉ lệ {q['share']!r} không có trong shares")
                elif q.get("scale") != share["scale"]:
                    bad((*path, "scale"), f"câu thuộc nhóm {q['share']!r} phải dùng thang {share['scale']!r}")
            if "options" in q:
                codes = [o["code"] for o in q["options"]]
                if len(set(codes)) != len(codes):
                    bad((*path, "options"), "mã phương án bị trùng")
            if "pattern" in q:
                try:
                    re.compile(q["pattern"])
                except re.error as exc:
                    bad((*path, "pattern"), f"biểu thức chính quy sai: {exc}")
    for ei, code in enumerate(elements):
        if code not in used_elements:
            bad(("elements", ei), f"yếu tố {code!r} không có câu hỏi nào")

    index = data.get("index")
    if elements and index is None:
        bad(("index",), "có elements thì phải khai báo index")
    if index is not None:
        if not elements:
            bad(("index",), "index cần ít nhất một yếu tố (elements)")
        scale = scales.get(index["scale"])
        if scale is None:
            bad(("index", "scale"), f"thang đo {index['scale']!r} không được khai báo trong scales")
        else:
            valid = {o["code"] for o in scale["options"] if not o.get("missing")}
            for code in index["satisfied"]:
                if code not in valid:
                    bad(("index", "satisfied"), f"mã {code} không phải phương án hợp lệ của thang {index['scale']!r}")
            for code, path in seen.items():
                question = next(q for q in data["sections"][path[1]]["questions"] if q["code"] == code)
                scale_name = question.get("scale")
                if "element" in question and scale_name in scales and scale_name != index["scale"]:
                    bad((*path, "scale"), f"câu thuộc chỉ số phải dùng thang {index['scale']!r}")
    taken = {index["code"]} if index is not None else set()
    taken |= set(elements) | set(seen)
    for i, sub in enumerate(data.get("indices", [])):
        if index is None:
            bad(("indices",), "có indices thì phải khai báo index")
        if sub["code"] in taken:
            bad(("indices", i, "code"), f"mã chỉ số {sub['code']!r} trùng với mã khác (chỉ số, yếu tố hoặc câu hỏi)")
        taken.add(sub["code"])
        for code in sub["elements"]:
            if code not in elements:
                bad(("indices", i, "elements"), f"yếu tố {code!r} không có trong elements")
    for i, share in enumerate(data.get("shares", [])):
        scale = scales.get(share["scale"])
        if scale is None:
            bad(("shares", i, "scale"), f"thang đo {share['scale']!r} không được khai báo trong scales")
        elif isinstance(share["report"], list):
            valid = {o["code"] for o in scale["options"]}
            for j, rep in enumerate(share["report"]):
                for code in rep["codes"]:
                    if code not in valid:
                        bad(("shares", i, "report", j, "codes"), f"mã {code} không có trong thang {share['scale']!r}")
    return problems


def load_file(path: Path, schema_path: Path | None = None) -> Definition:
    """Load and validate one questionnaire file; raise `QuestionnaireError` listing every
    problem found."""
    path = Path(path)
    schema_path = schema_path or path.parent.parent / "schema.json"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QuestionnaireError([Problem(str(path), "", f"không đọc được tệp: {exc.strerror}")]) from None

    def file_name_problems(data: dict[str, Any]) -> list[Problem]:
        problems = []
        match = FILE_RE.match(path.name)
        if match is None:
            problems.append(Problem(str(path), "", "tên tệp phải có dạng v<N>.yaml"))
        elif int(match["version"]) != data["version"]:
            problems.append(Problem(str(path), "version", f"version {data['version']} khác với tên tệp {path.name}"))
        if path.parent.name != data["slug"]:
            problems.append(
                Problem(str(path), "slug", f"slug {data['slug']!r} khác với tên thư mục {path.parent.name!r}")
            )
        return problems

    data = parse(raw, str(path), schema_path, more=file_name_problems)
    return Definition(
        slug=data["slug"],
        version=data["version"],
        path=path,
        content_hash=hashlib.sha256(raw).hexdigest(),
        data=data,
    )


def parse(
    raw: bytes,
    file: str,
    schema_path: Path,
    *,
    more: Callable[[dict[str, Any]], list[Problem]] | None = None,
) -> dict[str, Any]:
    """The parsed questionnaire in `raw` (a file's bytes, named `file` in the problems),
    checked against the schema, NFC and the semantic rules (and `more` rules once the
    schema holds) — not against a file name; raise `QuestionnaireError` listing every
    problem found."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QuestionnaireError([Problem(file, "", f"tệp không phải UTF-8 (byte {exc.start})")]) from None
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"dòng {mark.line + 1}, cột {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise QuestionnaireError([Problem(file, where, f"YAML sai cú pháp: {reason}")]) from None
    if not isinstance(data, dict):
        raise QuestionnaireError([Problem(file, "", "tệp phải là một bảng YAML (mapping)")])

    problems = [
        Problem(file, _json_path(err.absolute_path), schema_message(err))
        for err in sorted(
            _schema_validator(str(schema_path)).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
        )
    ]
    for spath, value in _walk_strings(data):
        if unicodedata.normalize("NFC", value) != value:
            problems.append(Problem(file, _json_path(spath), "văn bản chưa chuẩn hoá Unicode NFC"))
    if not problems:
        problems += _semantic_problems(data, file)
        if more is not None:
            problems += more(data)
    if problems:
        raise QuestionnaireError(problems)
    return data


def load_directory(directory: Path) -> dict[tuple[str, int], Definition]:
    """Load every ``<slug>/v<N>.yaml`` below `directory`; raise one `QuestionnaireError`
    with the problems of all files."""
    directory = Path(directory)
    definitions: dict[tuple[str, int], Definition] = {}
    problems: list[Problem] = []
    files = sorted(directory.glob("*/*.yaml")) + sorted(directory.glob("*/*.yml"))
    if not files:
        raise QuestionnaireError([Problem(str(directory), "", "không có tệp phiếu nào (<slug>/v<N>.yaml)")])
    for path in files:
        try:
            definition = load_file(path, directory / "schema.json")
        except QuestionnaireError as exc:
            problems += exc.problems
            continue
        definitions[(definition.slug, definition.version)] = definition
    if problems:
        raise QuestionnaireError(problems)
    return definitions
