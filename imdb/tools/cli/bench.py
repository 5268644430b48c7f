"""``imdb-leap bench``: the benchmark's flags (the figures are ``imdb.tools.bench.run``'s)."""

from __future__ import annotations

import argparse

from imdb.tools.cli.common import add_config_options, add_progress_option, config_from_args, print_result


def register(subparsers: argparse._SubParsersAction) -> None:
    from imdb.tools.bench.run import FAITHFULNESS_SAMPLES, NAIVE_SAMPLES

    parser = subparsers.add_parser("bench", help="data, binder, inference and memory figures, with the naive ratio")
    add_config_options(parser)
    parser.add_argument("--limit", type=int, help="bench on the first N samples only (quick check)")
    parser.add_argument("--naive-samples", type=int, default=NAIVE_SAMPLES,
                        help="samples timed for the per-call latencies and the naive baseline")
    parser.add_argument("--no-inference", action="store_true", help="skip the Keras/ONNX throughput section")
    parser.add_argument("--faithfulness-samples", type=int, default=FAITHFULNESS_SAMPLES,
                        help="reviews for the heatmap deletion test (0 skips it)")
    parser.add_argument("--no-linear-reference", action="store_true",
                        help="skip the TF-IDF + logistic regression reference on the same split")
    parser.add_argument("--no-probes", action="store_true", help="skip the behavioural probe pass rates per family")
    add_progress_option(parser)
    parser.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from imdb.tools.bench.run import run_bench

    result = run_bench(config_from_args(args), limit=args.limit, naive_samples=args.naive_samples,
                       inference=not args.no_inference, faithfulness_samples=args.faithfulness_samples,
                       linear=not args.no_linear_reference, probes=not args.no_probes, progress=not args.no_progress)
    return print_result(result)
