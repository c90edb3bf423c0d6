"""Fixtures for the analysis tests: the seeded data set and its designs, mirroring
tests/analysis/r/reference.R (the R code that produced the reference numbers)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.design import Design, make_design
from analysis.questionnaire import IndexSpec, load_index_spec
from analysis.weighting import calibrate_design, trim_design

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRE = ROOT / "questionnaires" / "sipas-dich-vu" / "v1.yaml"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def spec() -> IndexSpec:
    """The SIPAS services index as the questionnaire file defines it."""
    return load_index_spec(QUESTIONNAIRE)


@pytest.fixture(scope="session")
def items(spec: IndexSpec) -> list[str]:
    return list(spec.items)


@pytest.fixture(scope="session")
def responses() -> pd.DataFrame:
    return pd.read_csv(DATA / "responses.csv", dtype={"period": str, "psu": str})


@pytest.fixture(scope="session")
def margins() -> pd.DataFrame:
    return pd.read_csv(DATA / "margins_rake.csv")


@pytest.fixture(scope="session")
def reference() -> pd.DataFrame:
    return pd.read_csv(DATA / "reference.csv", dtype={"domain": str})


@pytest.fixture(scope="session")
def reference_weights() -> pd.DataFrame:
    return pd.read_csv(DATA / "reference_weights.csv")


@pytest.fixture(scope="session")
def designs(responses: pd.DataFrame, margins: pd.DataFrame, reference_weights) -> dict[str, Design]:
    r = responses
    d1 = make_design(weights=r["w"], strata=r["stratum"], psu=r["psu"], fpc=r["fpc"])
    d2 = make_design(strata=r["stratum"], fpc=r["fpc"] * 40)
    d3 = make_design(weights=r["w"], strata=r["stratum"], psu=r["psu"])
    d1_remove = make_design(weights=r["w"], strata=r["stratum"], psu=r["psu"], fpc=r["fpc"], lonely_psu="remove")
    factors = {"field_group": r["field_group"], "age": r["age"]}
    cal, _ = calibrate_design(d1, factors, margins)
    ps, _ = calibrate_design(d1, {"age": r["age"]}, margins[margins.variable == "age"], method="poststratify")
    upper = float(reference_weights["trim_upper"].iloc[0])
    trim = trim_design(cal, upper=upper)
    return {
        "d1": d1,
        "d1_elements": d1,
        "d2": d2,
        "d3": d3,
        "d1_remove": d1_remove,
        "cal": cal,
        "ps": ps,
        "trim": trim,
    }


@pytest.fixture(scope="session")
def answers(responses: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    return responses[items]
