"""``imdb-leap``'s entry point: the parser built from every sub-command module, and ``main``."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

import imdb  # noqa: F401  (analytics off before anything imports code_loader)
from imdb.tools.cli import analyze, bench, data, models, probe, queue
from imdb.tools.cli.common import TF_LOG_ENV, quiet_tensorflow, run_handler

# In the order ``imdb-leap --help`` lists them.
SUBCOMMAND_MODULES = (data, models, bench, analyze, probe, queue)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imdb-leap", description="Data, training, evaluation, export, analysis and benchmarks for IMDB sentiment.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--tf-log", action="store_true",
                        help=f"show TensorFlow's own start-up and device logs (also ${TF_LOG_ENV}=LEVEL)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_tensorflow(args.tf_log)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    return run_handler(getattr(args, "command_name", args.command), args.func, args)


if __name__ == "__main__":
    sys.exit(main())
