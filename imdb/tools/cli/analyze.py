"""``imdb-leap analyze``: the argparse sub-command (registered by ``imdb.tools.cli.main``).

Prints one JSON object as its last line (out path, n, accuracy, timings), like every
``imdb-leap`` command, so scripts can read the result without parsing logs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from imdb.contract.config import KERAS_FORMAT, MODEL_FAMILIES, MODEL_FORMATS
from imdb.contract.names import SPLITS
from imdb.tools.cli.common import (add_config_options, add_progress_option, config_from_args, non_negative_int,
                                   positive_int, print_result)
from imdb.tools.explain.methods import ALL_METHODS, DEFAULT_METHOD, DEFAULT_STEPS, EXACT, EXACT_FAMILIES
from imdb.tools.report import settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``analyze`` to the ``imdb-leap`` sub-commands."""
    parser = subparsers.add_parser(
        "analyze", help="offline Tensorleap-style analysis report (HTML, PNGs, samples.csv) of a split")
    add_config_options(parser)
    parser.add_argument("--split", default=settings.DEFAULT_SPLIT, choices=SPLITS)
    parser.add_argument("--limit", type=positive_int, help="analyse at most N samples (label-balanced)")
    parser.add_argument("--out", type=Path, help="output directory (default: reports/<model>-<split>/)")
    parser.add_argument("--layer", default=settings.DEFAULT_LAYER,
                        help=f"layer whose output is mapped (default: {settings.DEFAULT_LAYER})")
    parser.add_argument("--space", default=settings.DEFAULT_SPACE, choices=settings.SPACES,
                        help="map and cluster the model's latent layer, or the model-independent content "
                             "space (TF-IDF + SVD topics; the cluster table then gives accuracy per topic)")
    parser.add_argument("--projection", default=settings.DEFAULT_PROJECTION, choices=settings.PROJECTIONS)
    parser.add_argument("--cluster", dest="cluster_method", default=settings.DEFAULT_CLUSTER_METHOD,
                        choices=settings.CLUSTER_METHODS, help="k-means on the latent space, or HDBSCAN on the map")
    parser.add_argument("--clusters", type=positive_int, default=settings.DEFAULT_CLUSTERS, help="k for k-means")
    parser.add_argument("--top", type=positive_int, default=settings.DEFAULT_TOP,
                        help="samples shown with heatmaps per error kind, label issues and flips")
    parser.add_argument("--explain", dest="method", choices=ALL_METHODS,
                        help=f"word attribution method for the heatmaps (default: {EXACT} for the "
                             f"{'/'.join(sorted(EXACT_FAMILIES))} family, {DEFAULT_METHOD} otherwise)")
    parser.add_argument("--ig-steps", dest="steps", type=positive_int,
                        help=f"integrated-gradients steps (default: {DEFAULT_STEPS}; "
                             f"{settings.default_steps('bert')} for bert)")
    parser.add_argument("--faithfulness-samples", type=int,
                        help=f"reviews for the heatmap deletion test, per method (0 skips it; default: "
                             f"{settings.DEFAULT_FAITHFULNESS_SAMPLES} and both methods; "
                             f"{settings.default_faithfulness_samples('bert')} and the heatmap method for bert)")
    parser.add_argument("--no-probes", action="store_true", help="leave out the Behaviour section (probes)")
    parser.add_argument("--probe-failing", type=int, default=settings.DEFAULT_PROBE_FAILING,
                        help="failing probe cases shown with a heatmap per capability and model")
    parser.add_argument("--compare", choices=MODEL_FAMILIES, help="second model family to compare with")
    parser.add_argument("--compare-model-dir", help="directory of the second model (default: --model-dir)")
    parser.add_argument("--compare-format", choices=MODEL_FORMATS, default=KERAS_FORMAT,
                        help="format of the second model's predictions (default: h5, the Keras model)")
    parser.add_argument("--unlabeled-limit", type=non_negative_int, default=settings.DEFAULT_UNLABELED_LIMIT,
                        help="unlabelled reviews (train/unsup/, a seeded sample) in the 'Unlabelled reviews' "
                             f"section; 0 leaves it out (default: {settings.DEFAULT_UNLABELED_LIMIT})")
    add_progress_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the options from the flags, run the analysis, print its JSON summary last."""
    from imdb.tools.report.analysis import AnalyzeOptions
    from imdb.tools.report.run import analyze

    config = config_from_args(args)
    options = AnalyzeOptions(
        split=args.split, limit=args.limit, out=args.out, layer=args.layer, space=args.space, projection=args.projection,
        cluster_method=args.cluster_method, clusters=args.clusters, top=args.top, method=args.method,
        steps=args.steps, faithfulness_samples=args.faithfulness_samples, compare=args.compare,
        compare_model_dir=args.compare_model_dir,
        compare_format=args.compare_format, probes=not args.no_probes, probe_failing=args.probe_failing,
        unlabeled_limit=args.unlabeled_limit,
        progress=not args.no_progress)
    return print_result(analyze(config, options))
