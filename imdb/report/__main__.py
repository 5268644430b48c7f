"""``python -m imdb.report analyze ...``: the analysis command without the rest of the CLI."""

import sys

import imdb  # noqa: F401  (analytics off before anything imports code_loader)
from imdb.report.commands import main

sys.exit(main())
