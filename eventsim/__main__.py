"""Run the command line: ``python -m eventsim --help``."""

import sys

from eventsim.cli import main

sys.exit(main())
