"""The rate engine alone, an older `analysis` package against this one (docs/benchmarks.md).

    cd /tmp && OPENBLAS_NUM_THREADS=1 /path/.venv/bin/python /path/bench/engine_ab.py SRC OUT.csv

SRC is a folder holding the `analysis` package to time (this worktree, or an old commit
unpacked with `git archive COMMIT analysis | tar -x -C DIR`); run it from a folder other than
the worktree so that SRC is the package imported. 300,000 seeded rows, a QR-like design (400
post-strata as strata, counter x week clusters), 16 items and 3 indices overall, by 100 places
and by 4 field groups. Prints the CPU and wall time; writes the table to OUT.csv.
"""

import sys
import time

sys.path.insert(0, sys.argv[1])
import numpy as np
import pandas as pd

import analysis.rates
from analysis.design import make_design
from analysis.rates import Composite, estimate_rates

rng = np.random.default_rng(1)
n = 300_000
place = rng.integers(0, 100, n)
fg = rng.integers(0, 4, n)
cell = place * 4 + fg
counter = rng.integers(0, 104, n)
week = rng.integers(0, 13, n)
psu = counter * 13 + week
codes = rng.choice([1, 2, 3, 4, 5, 9, np.nan], size=(n, 16), p=[0.02, 0.04, 0.09, 0.45, 0.34, 0.03, 0.03])
ans = pd.DataFrame(codes, columns=[f"i{j}" for j in range(16)])
comps = [
    Composite("A", ("i0", "i1", "i2")),
    Composite("B", tuple(f"i{j}" for j in range(3, 16))),
    Composite("S", ("A", "B")),
]
w = rng.uniform(1, 3, n)
c0 = time.process_time()
t0 = time.perf_counter()
d = make_design(strata=cell, psu=psu, weights=w)
tab = estimate_rates(ans, d, composites=comps, by={"place": place.astype(str), "fg": fg.astype(str)})
print(
    analysis.rates.__file__,
    "cpu",
    round(time.process_time() - c0, 2),
    "wall",
    round(time.perf_counter() - t0, 2),
    len(tab),
)
tab.to_csv(sys.argv[2])
