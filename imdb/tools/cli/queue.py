"""``imdb-leap label-queue``: the unlabelled reviews most worth labelling, as a CSV.

Prints one JSON object as its last line: the CSV's path, how many candidates were ranked, the
signals combined and the first rows' ids.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from imdb.contract.config import MODEL_FAMILIES
from imdb.tools.cli.common import add_config_options, add_progress_option, config_from_args, positive_int, print_result

DEFAULT_QUEUE_SIZE = 500
# Rows of the queue repeated in the printed summary.
SHOWN_IDS = 5


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``label-queue`` to the ``imdb-leap`` sub-commands."""
    parser = subparsers.add_parser(
        "label-queue", help="CSV of the unlabelled reviews most worth labelling (uncertainty, disagreement, coverage)")
    add_config_options(parser)
    parser.add_argument("--compare", choices=MODEL_FAMILIES,
                        help="second model family: adds the two models' disagreement as a signal")
    parser.add_argument("--compare-model-dir", help="directory of the second model (default: --model-dir)")
    parser.add_argument("--n", type=positive_int, default=DEFAULT_QUEUE_SIZE,
                        help=f"reviews in the queue (default: {DEFAULT_QUEUE_SIZE})")
    parser.add_argument("--limit", type=positive_int,
                        help="rank only the first N unlabelled reviews (default: all that are served)")
    parser.add_argument("--out", type=Path, help="CSV to write (default: reports/label-queue-<model>[-<other>].csv)")
    add_progress_option(parser)
    parser.set_defaults(func=run, command_name="label-queue")


def run(args: argparse.Namespace) -> int:
    from imdb.tools.label_queue import build_queue, write_queue
    from imdb.tools.report import settings

    config = config_from_args(args)
    compare = None
    if args.compare:
        compare = config.with_overrides(model=args.compare, model_dir=args.compare_model_dir, model_format="h5")
    queue = build_queue(config, compare, n=args.n, limit=args.limit, progress=not args.no_progress)
    names = "-".join(queue["models"])
    out = (args.out or Path(settings.REPORTS_DIR) / f"label-queue-{names}.csv").expanduser().resolve()
    write_queue(queue["rows"], out)
    return print_result({"out": str(out), "rows": len(queue["rows"]), "candidates": queue["candidates"],
                         "signals": queue["signals"], "models": queue["models"],
                         "first": [row["sample_id"] for row in queue["rows"][:SHOWN_IDS]]})
