"""The crash test of bench/crash.py, bounded: gunicorn SIGKILLed mid-load and restarted;
every acknowledged response stored once with its receipt, the database sound, the outage
short. (The longer run and its figures: docs/benchmarks.md.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_crash", ROOT / "bench" / "crash.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_crash"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_sigkill_mid_load_loses_and_doubles_nothing(app, db) -> None:
    if not Path(sys.executable).with_name("gunicorn").exists():
        pytest.skip("gunicorn is not installed")
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    url = None if database_url.startswith("sqlite") else database_url  # SQLite: a file of its own
    result = load_bench().run(seconds=6, clients=4, database_url=url)
    assert result["acknowledged"] > 0, result
    assert result["acknowledged_missing"] == 0, result
    assert result["acknowledged_wrong_or_twice"] == 0, result
    assert result["keys_stored_twice"] == 0, result
    assert result.get("integrity_check", "ok") == "ok", result
    assert result["other_answers"] == {}, result
    # ≤ 5 s on the server (docs/benchmarks.md); slack for a shared test machine.
    assert result["outage_after_sigkill_s"] < 10, result
