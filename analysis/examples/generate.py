"""Regenerate the worked example of docs/analysis-cli.md (seeded, reproducible).

    .venv/bin/python -m analysis.examples.generate

Writes analysis/examples/responses.csv (480 respondents of a stratified sample of dossiers,
strata = place of receipt x field group, fpc = dossiers in the stratum frame) and
analysis/examples/margins.csv (dossier totals by field group and by submission mode).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
ITEMS = [f"{e}{i}" for e, k in zip("ABCDE", (3, 4, 3, 3, 3), strict=True) for i in range(1, k + 1)]


def make(seed: int = 2026) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    places = {"tinh": 1.0, "tp_bac_ninh": 0.6, "tu_son": 0.4}
    groups = {"dat_dai": -0.5, "xay_dung": -0.3, "dau_tu": -0.1, "khac": 0.3}
    modes = ["truc_tiep", "truc_tuyen", "buu_chinh"]
    rows = []
    pid = 0
    for pl, size in places.items():
        for g, eff in groups.items():
            frame_size = int(np.round(size * rng.integers(300, 1500)))
            n = 40
            for _ in range(n):
                pid += 1
                rows.append(
                    {
                        "ma_ho_so": f"HS{pid:05d}",
                        "noi_tiep_nhan": pl,
                        "nhom_linh_vuc": g,
                        "tang": f"{pl}|{g}",
                        "so_ho_so_khung": frame_size,
                        "eff": eff,
                    }
                )
    df = pd.DataFrame(rows)
    n = len(df)
    df["hinh_thuc_nop"] = rng.choice(modes, size=n, p=[0.55, 0.35, 0.10])
    df["kenh"] = rng.choice(["paper", "qr"], size=n, p=[0.75, 0.25])
    lat = df["eff"].to_numpy() + np.where(df["kenh"] == "qr", 1.0, 0.0) + rng.normal(1.5, 0.9, n)
    for j, it in enumerate(ITEMS):
        z = lat + 0.25 * np.cos(j) + rng.normal(0, 0.8, n)
        x = np.clip(np.round(3.2 + z), 1, 5).astype(int).astype(str).astype(object)
        u = rng.uniform(size=n)
        p9 = 0.2 if it.startswith("E") else 0.03
        x[u < p9] = "9"
        x[(u >= p9) & (u < p9 + 0.02)] = ""
        df[it] = x
    df = df.drop(columns="eff")
    frame = df.drop_duplicates("tang")
    total = int(frame["so_ho_so_khung"].sum())
    fg = frame.groupby("nhom_linh_vuc")["so_ho_so_khung"].sum()
    share = np.array([0.5, 0.4, 0.1])
    mode_tot = np.floor(share * total).astype(int)
    mode_tot[0] += total - mode_tot.sum()
    margins = pd.concat(
        [
            pd.DataFrame({"variable": "nhom_linh_vuc", "category": fg.index, "total": fg.to_numpy()}),
            pd.DataFrame({"variable": "hinh_thuc_nop", "category": modes, "total": mode_tot}),
        ],
        ignore_index=True,
    )
    return df, margins


def main() -> None:
    df, margins = make()
    df.to_csv(HERE / "responses.csv", index=False)
    margins.to_csv(HERE / "margins.csv", index=False)
    print(f"{len(df)} responses, {len(margins)} margin rows written to {HERE}")


if __name__ == "__main__":
    main()
