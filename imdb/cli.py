"""``imdb-leap``: one command line for data, training, evaluation, export, analysis and benchmarks.

Every sub-command resolves its settings the same way (flag > environment > config file) and
prints a single JSON object as its last line, so scripts and CI can read results without
parsing logs.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Callable, Sequence

import imdb  # noqa: F401  (analytics off before anything imports code_loader)
from imdb.config import MODEL_FAMILIES, MODEL_FORMATS, Config, ConfigError, load_config

LOG = logging.getLogger("imdb")
# Exit status of a settings or input error (argparse uses the same for bad flags).
USAGE_ERROR = 2


def add_config_options(parser: argparse.ArgumentParser, *, model: bool = True) -> None:
    """Flags shared by every sub-command that needs the project configuration."""
    parser.add_argument("--config", help="config file (default: imdb/project_config.yaml or $IMDB_CONFIG)")
    parser.add_argument("--data", help="dataset URI: aclImdb dir, .tar.gz, or gs://BUCKET/PREFIX")
    parser.add_argument("--data-root", help="local cache directory")
    if model:
        parser.add_argument("--model", choices=MODEL_FAMILIES, help="model family")
        parser.add_argument("--model-dir", help="directory of trained models")
        parser.add_argument("--model-format", choices=MODEL_FORMATS, help="h5 (Keras) or onnx")


def config_from_args(args: argparse.Namespace, **extra: Any) -> Config:
    return load_config(
        args.config,
        model=getattr(args, "model", None),
        model_dir=getattr(args, "model_dir", None),
        model_format=getattr(args, "model_format", None),
        data=args.data,
        data_root=args.data_root,
        **extra,
    )


def print_result(result: dict[str, Any]) -> int:
    print(json.dumps(result, sort_keys=False))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from imdb.train import train

    config = config_from_args(args, **{"bert.max_len": args.max_len, "bert.epochs": args.epochs,
                                       "bert.train_samples": args.train_samples})
    return print_result(train(config, progress=not args.no_progress))


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from imdb.evaluate import evaluate

    config = config_from_args(args)
    return print_result(evaluate(config, args.split, limit=args.limit, progress=not args.no_progress))


def _cmd_export(args: argparse.Namespace) -> int:
    from imdb.export import export

    return print_result(export(config_from_args(args), args.format))


def _register_export(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write the model as .h5 or verified .onnx for leap push")
    add_config_options(parser)
    parser.add_argument("--format", required=True, choices=MODEL_FORMATS, help="h5 (Keras) or onnx")
    parser.set_defaults(func=_cmd_export)


def _cmd_bench(args: argparse.Namespace) -> int:
    from imdb.bench.run import run_bench

    result = run_bench(config_from_args(args), limit=args.limit, naive_samples=args.naive_samples,
                       inference=not args.no_inference, faithfulness_samples=args.faithfulness_samples,
                       linear=not args.no_linear_reference)
    return print_result(result)


def _register_bench(subparsers: argparse._SubParsersAction) -> None:
    from imdb.bench.run import FAITHFULNESS_SAMPLES, NAIVE_SAMPLES

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
    parser.set_defaults(func=_cmd_bench)


def _register_train(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model family and save it with its model card")
    add_config_options(parser)
    parser.add_argument("--max-len", type=int, help="BERT: maximum sequence length in WordPieces")
    parser.add_argument("--train-samples", type=int, help="BERT: number of training reviews (balanced)")
    parser.add_argument("--epochs", type=int, help="BERT: number of epochs")
    parser.add_argument("--no-progress", action="store_true", help="disable progress bars")
    parser.set_defaults(func=_cmd_train)


def _register_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="accuracy, loss, macro-F1 and confusion on a split")
    add_config_options(parser)
    parser.add_argument("--split", default="validation", choices=("training", "validation", "test"))
    parser.add_argument("--limit", type=int, help="evaluate at most N samples (label-balanced)")
    parser.add_argument("--no-progress", action="store_true", help="disable progress bars")
    parser.set_defaults(func=_cmd_evaluate)


REGISTRARS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _register_train, _register_evaluate, _register_export, _register_bench)


def build_parser() -> argparse.ArgumentParser:
    from imdb.data import commands as data_commands
    from imdb.report import commands as report_commands

    parser = argparse.ArgumentParser(prog="imdb-leap", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True)
    data_commands.register(subparsers)
    for register in REGISTRARS:
        register(subparsers)
    report_commands.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except user_errors() as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"imdb-leap {args.command}: error: {message}", file=sys.stderr)
        return USAGE_ERROR


def user_errors() -> tuple[type[BaseException], ...]:
    """Errors caused by settings or inputs: reported in one line, without a traceback."""
    from imdb.data import DataError
    from imdb.models import ModelError
    from imdb.report.settings import AnalysisError
    from imdb.text import VocabularyError

    return ConfigError, DataError, ModelError, VocabularyError, AnalysisError


if __name__ == "__main__":
    sys.exit(main())
