"""``imdb-leap bench``: the benchmark's flags (the figures are ``imdb.tools.bench.run``'s)."""

from __future__ import annotations

import argparse

from imdb.contract.config import MODEL_FAMILIES
from imdb.tools.cli.common import add_config_options, add_progress_option, config_from_args, print_result


def register(subparsers: argparse._SubParsersAction) -> None:
    from imdb.tools.bench.settings import BERT_TRAINING_SAMPLES, NAIVE_SAMPLES

    parser = subparsers.add_parser("bench", help="cold start, binder, pass, inference and memory figures, and the ratio to the official example")
    add_config_options(parser)
    parser.add_argument("--limit", type=int, help="bench on N label-balanced samples per split only (quick check)")
    parser.add_argument("--naive-samples", type=int, default=NAIVE_SAMPLES,
                        help="label-balanced samples timed for the per-call latencies and the baselines")
    parser.add_argument("--no-inference", action="store_true", help="skip the Keras/ONNX throughput section")
    parser.add_argument("--faithfulness-samples", type=int,
                        help="reviews for the heatmap deletion test (0 skips it; default: the family's, "
                             "as in analyze)")
    parser.add_argument("--no-linear-reference", action="store_true",
                        help="skip the TF-IDF + logistic regression reference on the same split")
    parser.add_argument("--no-projection", action="store_true",
                        help="skip the population-map methods timed cold in fresh processes")
    parser.add_argument("--no-probes", action="store_true", help="skip the behavioural probe pass rates per family")
    parser.add_argument("--no-cold-start", action="store_true",
                        help="skip the text scores of every served review (unlabelled ones too) timed cold")
    parser.add_argument("--no-bert-training", action="store_true",
                        help="with --model bert: skip the fine-tuning throughput section")
    parser.add_argument("--bert-training-samples", type=int, default=BERT_TRAINING_SAMPLES,
                        help="training reviews each fine-tuning step variant runs over")
    parser.add_argument("--families", type=_families, default=MODEL_FAMILIES,
                        help="comma-separated families the per-family sections (inference, faithfulness, "
                             f"probes) run (default: all, {','.join(MODEL_FAMILIES)})")
    add_progress_option(parser)
    parser.set_defaults(func=_bench)


def _families(value: str) -> tuple[str, ...]:
    """``dense,cnn`` -> ``("dense", "cnn")``, every name a family (argparse reports the error)."""
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in MODEL_FAMILIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"families must be among {', '.join(MODEL_FAMILIES)}; got {value!r}")
    return names


def _bench(args: argparse.Namespace) -> int:
    from imdb.tools.bench.run import run_bench

    result = run_bench(config_from_args(args), limit=args.limit, naive_samples=args.naive_samples,
                       inference=not args.no_inference, faithfulness_samples=args.faithfulness_samples,
                       linear=not args.no_linear_reference, probes=not args.no_probes, progress=not args.no_progress,
                       bert_training=args.bert_training_samples if not args.no_bert_training else 0,
                       projection=not args.no_projection, cold_start=not args.no_cold_start,
                       families=args.families)
    return print_result(result)
