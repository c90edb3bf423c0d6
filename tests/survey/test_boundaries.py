"""The boundaries of the code: `analysis/` is pure statistics; blueprints are independent;
web → feature packages → shared domain → models; no cycles; no private names imported across
modules; thin views. `docs/architecture.md` describes them."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "sqlalchemy", "survey", "psycopg", "sqlite3"}


def test_analysis_sources_import_nothing_forbidden() -> None:
    offenders = []
    for path in sorted((ROOT / "analysis").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_analysis_loads_no_web_module() -> None:
    code = "import sys, analysis, pkgutil, importlib\n"
    code += "for m in pkgutil.walk_packages(analysis.__path__, 'analysis.'):\n"
    code += "    importlib.import_module(m.name) if not m.name.endswith('__main__') else None\n"
    code += f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {sorted(FORBIDDEN)!r})\n"
    code += "print(','.join(bad))\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


def test_import_linter_contract_holds() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 5 kept, 0 broken." in proc.stdout


def _lint_copy(tmp_path: Path, edits: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on a copy of the packages with `edits` (path → line appended)."""
    for package in ("analysis", "survey"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for path, line in edits.items():
        with (tmp_path / path).open("a", encoding="utf-8") as fh:
            fh.write(f"\n{line}\n")
    lint = Path(sys.executable).parent / "lint-imports"
    env = {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(tmp_path), "LC_ALL": "C.UTF-8"}
    return subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, env=env, check=False)


@pytest.mark.parametrize(
    ("edits", "broken"),
    [
        ({"survey/entry/views.py": "from survey.admin import queries as _admin_queries"}, "blueprints are independent"),
        ({"survey/paper/rounds.py": "import survey.entry.views"}, "layers:"),
        ({"survey/responses/wide.py": "import survey.reports.estimates"}, "layers:"),
        ({"survey/models/base.py": "import survey.audit"}, "models import no service"),
        ({"analysis/intervals.py": "import analysis.rates"}, "no import cycles"),
    ],
    ids=[
        "blueprint-imports-blueprint",
        "feature-imports-web",
        "domain-imports-feature",
        "models-import-service",
        "cycle",
    ],
)
def test_contracts_catch_a_broken_boundary(tmp_path: Path, edits: dict[str, str], broken: str) -> None:
    proc = _lint_copy(tmp_path, edits)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert any(line.startswith(broken) and line.endswith("BROKEN") for line in proc.stdout.splitlines()), proc.stdout


def test_unedited_copy_keeps_every_contract(tmp_path: Path) -> None:
    """The copy the test above edits is checked for real (not the installed package)."""
    proc = _lint_copy(tmp_path, {})
    assert proc.returncode == 0 and "Contracts: 5 kept, 0 broken." in proc.stdout, proc.stdout + proc.stderr


def _sources() -> list[Path]:
    return sorted(p for package in ("analysis", "survey") for p in (ROOT / package).rglob("*.py"))


def test_no_private_name_is_imported_from_another_module() -> None:
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                private = [a.name for a in node.names if a.name.startswith("_")]
                offenders += [f"{path.relative_to(ROOT)}: {node.module}.{name}" for name in private]
    assert offenders == []


def test_views_are_thin() -> None:
    """A view parses the request, calls a service, renders or redirects: ~30 lines at most."""
    long_views = []
    for path in sorted((ROOT / "survey").glob("*/views.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "route" for d in node.decorator_list
            ):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 32:
                    long_views.append(f"{path.relative_to(ROOT)}:{node.name} ({length} lines)")
    assert long_views == []


def test_only_app_modules_sit_flat_in_survey() -> None:
    allowed = {"__init__", "config", "extensions", "security", "errors", "i18n", "audit", "users", "demo"}
    assert {p.stem for p in (ROOT / "survey").glob("*.py")} <= allowed
