#!/usr/bin/env bash
# The fuzz properties of tests/survey/security/test_fuzz.py, run longer than in `make test`
# (default 20 examples each): the citizen form, raw bodies, the entry form, the frame import
# and the analysis CLI, on SQLite and PostgreSQL.
#   bench/fuzz.sh [EXAMPLES]        (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
SIPAS_TEST_FUZZ_EXAMPLES="${1:-500}" .venv/bin/pytest tests/survey/security/test_fuzz.py -q -p no:cacheprovider
