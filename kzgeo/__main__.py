"""Run the kzgeo command line: ``python -m kzgeo --help``."""

import os
import sys

# numpy asks the kernel for huge pages for its large arrays; on the 2-core virtual machines
# measured (docs/performance.md) those page faults stall, and adding an article to a large
# archive took 9-11 s instead of 7. Set before numpy is imported; the variable overrides it.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

from kzgeo.cli import main  # noqa: E402  (after the variable is set)

sys.exit(main())
