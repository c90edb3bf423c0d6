"""The `sipas-analysis` command as users run it: a process on a CSV file, start-up included.

    .venv/bin/python bench/analysis_cli.py                  # 1,000,000 rows
    .venv/bin/python bench/analysis_cli.py --rows 300000 --repeat 3

Data: the seeded synthetic file of `bench/analysis.py` (16 items, 400 strata, 4,000 PSUs,
unequal weights, margins by place and field group). Jobs, each a fresh process, timed wall
clock with its peak RSS (``wait4``):

* ``overall+group``: every indicator overall and by field group (strata, PSU, fpc, weight);
* ``raked+group+place``: raked to place and field-group margins (calibration SEs), by field
  group and by place;
* references, in the same run: a bare ``python -c pass`` (interpreter start-up) and a process
  that only imports pandas and reads the same file with pandas' C parser (``pd.read_csv``) —
  the floor any CSV command starts from.

The jobs run round-robin (every job once, then again…) so that a machine whose load changes
slows them alike; besides the wall time, the CPU time (user + system, all threads) of each
process is reported, which load inflates much less. Prints one line per job and a Markdown
table for docs/benchmarks.md. Files only.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
QUESTIONNAIRE = ROOT / "questionnaires" / "sipas-dich-vu" / "v1.yaml"


def _generator():  # bench/analysis.py shares its name with the package: load it by path
    spec = importlib.util.spec_from_file_location("bench_analysis", ROOT / "bench" / "analysis.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate


def run(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one process."""
    start = time.perf_counter()
    pid = os.spawnv(os.P_NOWAIT, argv[0], argv)
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per job (the median is reported)")
    parser.add_argument(
        "--baseline",
        help="a folder holding an older `analysis` package (e.g. `git archive COMMIT analysis | tar -x -C DIR`): "
        "its command runs the same two jobs in the same run",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sipas-bench-cli-"))
    _generator()(args.rows, folder)
    data, margins = str(folder / "responses.csv"), str(folder / "margins.csv")
    command = [str(BIN / "sipas-analysis"), "estimate", data, "--questionnaire", str(QUESTIONNAIRE)]
    design = ["--strata", "stratum", "--psu", "psu", "--fpc", "fpc"]
    jobs = {
        "reference: python -c pass": [sys.executable, "-c", "pass"],
        "reference: python -c 'pd.read_csv(file)'": [
            sys.executable,
            "-c",
            f"import pandas as pd; pd.read_csv({data!r})",
        ],
        "overall+group": [*command, *design, "--weight", "w", "--by", "field_group", "--out", str(folder / "a.csv")],
        "raked+group+place": [
            *command,
            *design,
            "--weight",
            "w",
            "--rake",
            margins,
            "--by",
            "field_group",
            "--by",
            "place",
            "--out",
            str(folder / "b.csv"),
        ],
    }
    if args.baseline:
        baseline = str(Path(args.baseline).resolve())
        launcher = [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {baseline!r}); from analysis.cli import main; sys.exit(main(sys.argv[1:]))",
        ]
        for name in ("overall+group", "raked+group+place"):
            jobs[f"baseline: {name}"] = [*launcher, *jobs[name][1:]]
    print(f"{args.rows:,} rows, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in jobs}
    for _ in range(args.repeat):
        for name, argv in jobs.items():
            runs[name].append(run(argv))
    rows = []
    for name, results in runs.items():
        wall = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        rss = max(r[2] for r in results)
        walls = ", ".join(f"{r[0]:.2f}" for r in results)
        print(f"{name:45s} {wall:6.2f} s (runs: {walls})  CPU {cpu:6.2f} s  peak RSS {rss:6.0f} MB")
        rows.append(f"| {name} | {wall:.2f} s ({walls}) | {cpu:.2f} s | {rss:.0f} MB |")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print("\n| job | wall, median (runs) | CPU, median | peak RSS |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
