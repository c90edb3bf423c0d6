"""Generate the seeded test data set that R and the Python tests both read.

Run from the repository root:  .venv/bin/python tests/analysis/r/make_data.py
Writes tests/analysis/data/responses.csv and tests/analysis/data/margins_*.csv.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]
OUT = Path(__file__).resolve().parents[1] / "data"


def make(seed: int = 20260501) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    places = ["p1", "p2", "p3", "p4", "p5"]
    groups = ["dat_dai", "xay_dung", "khac"]
    rows = []
    psu_id = 0
    for pl in places:
        for g in groups:
            stratum = f"{pl}_{g}"
            # p5_khac is the lonely-PSU stratum
            n_psu = 1 if stratum == "p5_khac" else int(rng.integers(2, 5))
            pop_psu = n_psu * int(rng.integers(2, 8))
            for _ in range(n_psu):
                psu_id += 1
                m = int(rng.integers(12, 30))
                base_w = pop_psu / n_psu * rng.uniform(20, 40)
                for _ in range(m):
                    rows.append((pl, g, stratum, f"c{psu_id}", pop_psu, base_w))
    df = pd.DataFrame(rows, columns=["place", "field_group", "stratum", "psu", "fpc", "w0"])
    n = len(df)
    # weights vary within PSU (nonresponse adjustment)
    df["w"] = np.round(df["w0"] * rng.uniform(0.8, 1.25, n), 4)
    df = df.drop(columns="w0")
    df["channel"] = rng.choice(["paper", "qr"], size=n, p=[0.7, 0.3])
    df["age"] = rng.choice(["18-34", "35-49", "50+"], size=n, p=[0.3, 0.4, 0.3])
    df["period"] = rng.choice(["2025", "2026"], size=n)
    # a rare domain level living in a single PSU (df = 0) and a small one
    df["level"] = "tinh"
    df.loc[df["psu"] == "c3", "level"] = "xa"
    df.loc[df.index[df["psu"] == "c3"][:5], "level"] = "huyen"
    eff_g = df["field_group"].map({"dat_dai": -0.6, "xay_dung": -0.3, "khac": 0.2}).to_numpy()
    eff_c = np.where(df["channel"] == "qr", 1.0, 0.0)
    eff_psu = pd.Series(rng.normal(0, 0.4, df["psu"].nunique()), index=df["psu"].unique())
    lat = eff_g + eff_c + df["psu"].map(eff_psu).to_numpy() + rng.normal(0, 0.8, n)
    for j, it in enumerate(ITEMS):
        shift = 0.3 * np.sin(j)
        z = lat + shift + rng.normal(0, 0.9, n)
        x = np.clip(np.round(3.3 + z), 1, 5)
        miss = rng.uniform(size=n)
        p9 = 0.25 if it.startswith("E") else 0.04
        x = np.where(miss < p9, 9, x)
        x = np.where((miss >= p9) & (miss < p9 + 0.03), np.nan, x)
        df[it] = x
    # E3 never valid in stratum p1_khac (an item without data in a domain)
    df.loc[df["stratum"] == "p1_khac", "E3"] = 9
    df["satisfied_overall"] = (lat + rng.normal(0, 0.5, n) > -0.2).astype(int)
    return df


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    df = make()
    df.to_csv(OUT / "responses.csv", index=False, float_format="%.10g")
    rng = np.random.default_rng(7)
    total = 60000.0
    fg = df["field_group"].value_counts(normalize=True).sort_index()
    shares_fg = fg.to_numpy() * rng.uniform(0.8, 1.2, fg.size)
    shares_fg /= shares_fg.sum()
    age = df["age"].value_counts(normalize=True).sort_index()
    shares_age = age.to_numpy() * rng.uniform(0.8, 1.2, age.size)
    shares_age /= shares_age.sum()
    margins = pd.concat(
        [
            pd.DataFrame({"variable": "field_group", "category": fg.index, "total": np.round(total * shares_fg)}),
            pd.DataFrame({"variable": "age", "category": age.index, "total": np.round(total * shares_age)}),
        ],
        ignore_index=True,
    )
    # make both margins add to exactly the same total
    diff = (
        margins.loc[margins.variable == "field_group", "total"].sum()
        - margins.loc[margins.variable == "age", "total"].sum()
    )
    margins.loc[margins.index[-1], "total"] += diff
    margins.to_csv(OUT / "margins_rake.csv", index=False, float_format="%.10g")
    print(f"{len(df)} rows written to {OUT}")


if __name__ == "__main__":
    main()
