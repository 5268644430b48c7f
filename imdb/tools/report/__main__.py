"""``python -m imdb.tools.report ...``: the ``analyze`` sub-command alone, with the CLI's own options
and error handling (``imdb-leap analyze ...`` without the other sub-commands on its parser)."""

import argparse
import sys

import imdb  # noqa: F401  (analytics off before anything imports code_loader)
from imdb.tools.cli import analyze
from imdb.tools.cli.common import quiet_tensorflow, run_handler


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m imdb.tools.report", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    analyze.register(subparsers)
    args = parser.parse_args()
    quiet_tensorflow(verbose=False)
    return run_handler(args.command, args.func, args)


sys.exit(main())
