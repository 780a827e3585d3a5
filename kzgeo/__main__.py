"""Run the kzgeo command line: ``python -m kzgeo --help``."""

import sys

from kzgeo.cli import main

sys.exit(main())
