"""The benchmarks' reference apps work on SQLite files (as `bench/load_qr.py` runs them)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return "sqlite:///" + str(tmp_path_factory.mktemp("bench-sqlite") / "test.db")
