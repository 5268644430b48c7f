"""``imdb-leap train``, ``evaluate`` and ``export``: the model's life cycle on the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from imdb.contract.config import MODEL_FORMATS
from imdb.contract.names import SPLITS, VALIDATION
from imdb.tools.cli.common import add_config_options, add_progress_option, config_from_args, print_result


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_train(subparsers)
    _register_evaluate(subparsers)
    _register_export(subparsers)
    _register_content_space(subparsers)


def _register_train(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model family and save it with its model card")
    add_config_options(parser)
    parser.add_argument("--max-len", type=int, help="BERT: maximum sequence length in WordPieces")
    parser.add_argument("--train-samples", type=int, help="BERT: number of training reviews (balanced)")
    parser.add_argument("--epochs", type=int, help="BERT: number of epochs")
    parser.add_argument("--stop-at-checkpoint", action="store_true",
                        help="BERT: end the run at its last checkpoint; save and score that model")
    add_progress_option(parser)
    parser.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    from imdb.training.train import train

    config = config_from_args(args, **{"bert.max_len": args.max_len, "bert.epochs": args.epochs,
                                       "bert.train_samples": args.train_samples})
    return print_result(train(config, progress=not args.no_progress, stop_at_checkpoint=args.stop_at_checkpoint))


def _register_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="accuracy, loss, macro-F1 and confusion on a split")
    add_config_options(parser)
    parser.add_argument("--split", default=VALIDATION, choices=SPLITS)
    parser.add_argument("--limit", type=int, help="evaluate at most N samples (label-balanced)")
    parser.add_argument("--calibrate", action="store_true",
                        help="fit a temperature on the training split and report the ECE it leaves")
    add_progress_option(parser)
    parser.set_defaults(func=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    from imdb.tools.evaluate import evaluate

    config = config_from_args(args)
    return print_result(evaluate(config, args.split, limit=args.limit, progress=not args.no_progress,
                                 calibrate=args.calibrate))


def _register_export(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write the model as .h5 or verified .onnx for leap push")
    add_config_options(parser)
    parser.add_argument("--format", required=True, choices=MODEL_FORMATS, help="h5 (Keras), onnx (float32) or onnx-int8 (dynamic int8)")
    parser.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from imdb.tools.export import export

    return print_result(export(config_from_args(args), args.format))


def _register_content_space(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "content-space", help="fit the model-independent content space (TF-IDF + SVD) on the training split")
    add_config_options(parser, model=False)
    parser.add_argument("--out", type=Path, help="asset to write (default: imdb/assets/content_space.npz)")
    parser.set_defaults(func=_content_space)


def _content_space(args: argparse.Namespace) -> int:
    from imdb.runtime.content_space import CONTENT_SPACE_FILE
    from imdb.training.content_space import fit_content_space

    return print_result(fit_content_space(config_from_args(args), out=args.out or CONTENT_SPACE_FILE))
