"""``python -m analysis``: the sipas-analysis command line."""

import sys

from analysis.cli import main

sys.exit(main())
