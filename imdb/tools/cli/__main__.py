"""``python -m imdb.tools.cli``: the same as the ``imdb-leap`` command."""

import sys

from imdb.tools.cli.main import main

sys.exit(main())
