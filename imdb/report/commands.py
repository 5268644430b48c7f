"""``imdb-leap analyze``: the argparse sub-command (registered by ``imdb.cli``).

Prints one JSON object as its last line (out path, n, accuracy, timings), like every
``imdb-leap`` command, so scripts can read the result without parsing logs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from imdb.config import MODEL_FAMILIES, MODEL_FORMATS
from imdb.explain.methods import DEFAULT_METHOD, DEFAULT_STEPS, METHODS
from imdb.pipeline import SPLITS
from imdb.report import settings

def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``analyze`` to the ``imdb-leap`` sub-commands."""
    from imdb.cli import add_config_options

    parser = subparsers.add_parser(
        "analyze", help="offline Tensorleap-style analysis report (HTML, PNGs, samples.csv) of a split")
    add_config_options(parser)
    parser.add_argument("--split", default=settings.DEFAULT_SPLIT, choices=SPLITS)
    parser.add_argument("--limit", type=_positive, help="analyse at most N samples (label-balanced)")
    parser.add_argument("--out", type=Path, help="output directory (default: reports/<model>-<split>/)")
    parser.add_argument("--layer", default=settings.DEFAULT_LAYER,
                        help=f"layer whose output is mapped (default: {settings.DEFAULT_LAYER})")
    parser.add_argument("--projection", default=settings.DEFAULT_PROJECTION, choices=settings.PROJECTIONS)
    parser.add_argument("--cluster", dest="cluster_method", default=settings.DEFAULT_CLUSTER_METHOD,
                        choices=settings.CLUSTER_METHODS, help="k-means on the latent space, or HDBSCAN on the map")
    parser.add_argument("--clusters", type=_positive, default=settings.DEFAULT_CLUSTERS, help="k for k-means")
    parser.add_argument("--top", type=_positive, default=settings.DEFAULT_TOP,
                        help="samples shown with heatmaps per error kind, label issues and flips")
    parser.add_argument("--explain", dest="method", default=DEFAULT_METHOD, choices=METHODS,
                        help="word attribution method for the heatmaps")
    parser.add_argument("--ig-steps", dest="steps", type=_positive, default=DEFAULT_STEPS,
                        help="integrated-gradients steps")
    parser.add_argument("--faithfulness-samples", type=int, default=settings.DEFAULT_FAITHFULNESS_SAMPLES,
                        help="reviews for the heatmap deletion test, per method (0 skips it)")
    parser.add_argument("--compare", choices=MODEL_FAMILIES, help="second model family to compare with")
    parser.add_argument("--compare-model-dir", help="directory of the second model (default: --model-dir)")
    parser.add_argument("--compare-format", choices=MODEL_FORMATS, help="format of the second model's predictions")
    parser.add_argument("--no-progress", action="store_true", help="disable progress bars")
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    """Build the options from the flags, run the analysis, print its JSON summary last."""
    from imdb.cli import config_from_args, print_result
    from imdb.report.analysis import AnalyzeOptions, analyze

    config = config_from_args(args)
    options = AnalyzeOptions(
        split=args.split, limit=args.limit, out=args.out, layer=args.layer, projection=args.projection,
        cluster_method=args.cluster_method, clusters=args.clusters, top=args.top, method=args.method,
        steps=args.steps, faithfulness_samples=args.faithfulness_samples, compare=args.compare,
        compare_model_dir=args.compare_model_dir,
        compare_format=args.compare_format, progress=not args.no_progress)
    return print_result(analyze(config, options))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m imdb.report analyze ...``: the same command and error handling as ``imdb-leap``."""
    from imdb import cli

    return cli.main(argv)
