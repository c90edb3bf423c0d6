"""Benchmark of the analysis engine against R's survey package (issue 5, docs/benchmarks.md).

    .venv/bin/python bench/analysis.py                 # 1,000,000 rows; R on 100,000 rows
    .venv/bin/python bench/analysis.py --rows 200000 --r-rows 50000 --r-timeout 900

Data: seeded synthetic responses, 16 items (codes 1-5, 9, blank), 400 strata (100 places x 4
field groups), 10 PSUs per stratum, fpc in PSUs, unequal weights. Work: read the CSV, build the
design, rake to two margins (place, field group), then every item, element and SIPAS overall,
by field group and by place, with calibration SEs, df, deff and logit intervals.

Every Python run happens in a fresh process so that the peak RSS it reports is its own. R
(`Rscript bench/analysis_r.R`) runs the items overall and by field group on the calibrated
design of a smaller file (it needs minutes at 1M rows); Python does the same work on that file
and the two are compared at rtol 1e-6.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# this file is called analysis.py: keep its folder off sys.path so `import analysis` is the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
ITEMS = [f"{e}{i}" for e, k in zip("ABCDE", (3, 4, 3, 3, 3), strict=True) for i in range(1, k + 1)]
GROUPS = ["dat_dai", "xay_dung", "dau_tu", "khac"]


def generate(rows: int, out: Path, seed: int = 5) -> None:
    """Write ``responses.csv`` and ``margins.csv`` of ``rows`` respondents into ``out``."""
    rng = np.random.default_rng(seed)
    n_place, n_group, n_psu = 100, 4, 10
    per_psu = rows // (n_place * n_group * n_psu)
    if per_psu < 2:
        raise SystemExit("need at least 8000 rows")
    psu = np.repeat(np.arange(n_place * n_group * n_psu), per_psu)
    n = psu.size
    stratum = psu // n_psu
    place = stratum // n_group
    group = stratum % n_group
    pop_psu = (n_psu * rng.integers(3, 30, n_place * n_group))[stratum]
    w = pop_psu / n_psu * per_psu * rng.uniform(0.7, 1.4, n)
    eff = (
        np.array([-0.6, -0.4, -0.2, 0.3])[group]
        + rng.normal(0, 0.3, n_place)[place]
        + rng.normal(0, 0.3, psu.max() + 1)[psu]
        + rng.normal(1.0, 0.8, n)
    )
    df = pd.DataFrame(
        {
            "place": np.char.add("p", place.astype(str)),
            "field_group": np.array(GROUPS)[group],
            "stratum": stratum,
            "psu": psu,
            "fpc": pop_psu,
            "w": np.round(w, 3),
        }
    )
    for j, it in enumerate(ITEMS):
        x = np.clip(np.round(3.3 + eff + 0.2 * np.sin(j) + rng.normal(0, 0.8, n)), 1, 5)
        u = rng.uniform(size=n)
        p9 = 0.2 if it[0] == "E" else 0.03
        x[u < p9] = 9
        x[(u >= p9) & (u < p9 + 0.02)] = np.nan
        df[it] = pd.array(x, dtype="Int8")
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "responses.csv", index=False)
    tot = float(df["w"].sum()) * 1.05
    pl = df.groupby("place")["w"].sum()
    pl_t = pl.to_numpy() * rng.uniform(0.9, 1.1, pl.size)
    pl_t *= tot / pl_t.sum()
    fg = df.groupby("field_group")["w"].sum()
    fg_t = fg.to_numpy() * rng.uniform(0.9, 1.1, fg.size)
    fg_t *= tot / fg_t.sum()
    margins = pd.concat(
        [
            pd.DataFrame({"variable": "place", "category": pl.index, "total": pl_t}),
            pd.DataFrame({"variable": "field_group", "category": fg.index, "total": fg_t}),
        ],
        ignore_index=True,
    )
    margins.to_csv(out / "margins.csv", index=False, float_format="%.17g")


def run_python(folder: Path, work: str) -> dict:
    """Time one full run (in this process) and report peak RSS."""
    from analysis.design import make_design
    from analysis.questionnaire import load_index_spec
    from analysis.rates import estimate_rates
    from analysis.weighting import calibrate_design

    spec = load_index_spec(ROOT / "questionnaires" / "sipas-dich-vu" / "v1.yaml")
    t = {}
    t0 = time.perf_counter()
    dtypes = {c: "float64" for c in ITEMS} | {"place": str, "field_group": str}
    df = pd.read_csv(folder / "responses.csv", dtype=dtypes)
    margins = pd.read_csv(folder / "margins.csv")
    t["read_csv"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    design = make_design(
        weights=df["w"].to_numpy(),
        strata=df["stratum"].to_numpy(),
        psu=df["psu"].to_numpy(),
        fpc=df["fpc"].to_numpy(),
    )
    t["design"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    factors = {"place": df["place"].to_numpy(), "field_group": df["field_group"].to_numpy()}
    cal, res = calibrate_design(design, factors, margins)
    t["rake"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    by = {"field_group": df["field_group"]}
    if work == "full":
        by["place"] = df["place"]
        comps = spec.composites()
    else:
        comps = []
    tab = estimate_rates(df[ITEMS], cal, composites=comps, by=by, percent=False)
    t["estimates"] = time.perf_counter() - t3
    t["compute"] = t["design"] + t["rake"] + t["estimates"]
    t["total"] = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": int(df.shape[0]),
        "seconds": t,
        "peak_rss_mib": peak_kib / 1024,
        "rake_iterations": res.iterations,
        "estimates": int(tab.shape[0]),
        "table": tab.to_dict(orient="list") if work == "items" else None,
    }


def _child(folder: Path, work: str) -> dict:
    r = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), "--work", work],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(r.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--r-rows", type=int, default=100_000)
    ap.add_argument("--r-timeout", type=float, default=900.0)
    ap.add_argument("--dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "sipas-bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--work", default="full", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(run_python(args.child, args.work)))
        return 0

    big = args.dir / f"n{args.rows}"
    if not (big / "responses.csv").exists():
        print(f"generating {args.rows} rows in {big} ...", flush=True)
        generate(args.rows, big)
    runs = [_child(big, "full") for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["seconds"]["total"])
    s = best["seconds"]
    print(f"Python, {best['rows']:,} rows, full work ({best['estimates']} estimates), best of {args.repeat}:")
    for k in ("read_csv", "design", "rake", "estimates", "compute", "total"):
        print(f"  {k:10s} {s[k]:7.3f} s")
    print(f"  peak RSS   {max(r['peak_rss_mib'] for r in runs):7.0f} MiB  (rake: {best['rake_iterations']} IPF cycles)")
    if args.no_r:
        return 0

    small = args.dir / f"n{args.r_rows}"
    if not (small / "responses.csv").exists():
        generate(args.r_rows, small)
    py = min((_child(small, "items") for _ in range(args.repeat)), key=lambda r: r["seconds"]["total"])
    out = small / "r_result.csv"
    t0 = time.perf_counter()
    try:
        subprocess.run(
            ["Rscript", str(ROOT / "bench" / "analysis_r.R"), str(small), str(out)],
            check=True,
            timeout=args.r_timeout,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except subprocess.TimeoutExpired:
        print(f"R did not finish within {args.r_timeout:.0f} s on {args.r_rows} rows")
        return 1
    r_wall = time.perf_counter() - t0
    r = pd.read_csv(out, dtype={"domain": str})
    r_timing = json.loads((small / "r_result.json").read_text())
    tab = pd.DataFrame(py["table"])
    m = r.merge(tab, on=["domain_var", "domain", "indicator"], suffixes=("_r", ""))
    rel = {
        c: float(np.max(np.abs(m[c] - m[f"{c}_r"]) / np.abs(m[f"{c}_r"])))
        for c in ("estimate", "se", "ci_low", "ci_high")
    }
    py_s = py["seconds"]
    print(
        f"\nSame work on {py['rows']:,} rows (16 items overall and by field group, calibrated "
        f"design, {len(m)} estimates):"
    )
    print(f"  R survey   read {r_timing['read']:.2f} s + compute {r_timing['compute']:.2f} s  (wall {r_wall:.1f} s)")
    print(f"  Python     read {py_s['read_csv']:.2f} s + compute {py_s['compute']:.2f} s")
    print(
        f"  speed-up (compute) {r_timing['compute'] / py_s['compute']:.0f}x; "
        f"(read + compute) {(r_timing['read'] + r_timing['compute']) / (py_s['read_csv'] + py_s['compute']):.0f}x"
    )
    print("  max relative difference: " + ", ".join(f"{k} {v:.1e}" for k, v in rel.items()))
    print(f"  df equal: {bool((m['df'] == m['df_r']).all())}; n equal: {bool((m['n'] == m['n_r']).all())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
