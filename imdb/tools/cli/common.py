"""What every ``imdb-leap`` sub-command shares: config options, result printing, error handling.

Every sub-command resolves its settings the same way (flag > environment > config file),
prints a single JSON object as its last line (so scripts and CI read results without parsing
logs), and reports a user error (bad setting, data, model, vocabulary) in one line, no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable

import imdb  # noqa: F401  (analytics off before anything imports code_loader)
from imdb.contract.config import MODEL_FAMILIES, MODEL_FORMATS, TASKS, Config, ConfigError, load_config

EXIT_OK = 0
# Exit status of a settings or input error (argparse uses the same for bad flags).
USAGE_ERROR = 2
# TensorFlow's native log threshold: 3 hides its INFO, WARNING and ERROR lines once it has read
# it; ``--tf-log``/``IMDB_TF_LOG=LEVEL`` bring them back (the start-up lines it prints before are
# filtered by ``native_logs``).
TF_LOG_ENV = "IMDB_TF_LOG"
TF_NATIVE_LOG_ENV = "TF_CPP_MIN_LOG_LEVEL"
TF_QUIET_LEVEL = "3"
TF_VERBOSE_LEVEL = "0"

Handler = Callable[[argparse.Namespace], int]


def add_config_options(parser: argparse.ArgumentParser, *, model: bool = True) -> None:
    """Flags shared by every sub-command that needs the project configuration."""
    parser.add_argument("--config", help="config file (default: imdb/project_config.yaml or $IMDB_CONFIG)")
    parser.add_argument("--data", help="dataset URI: aclImdb dir or .tar.gz, a .csv/.tsv/.jsonl/.parquet table "
                                       "(optionally .gz), local, gs://BUCKET/PREFIX or https://")
    parser.add_argument("--data-root", help="local cache directory")
    add_corpus_options(parser)
    if model:
        parser.add_argument("--model", choices=MODEL_FAMILIES, help="model family")
        parser.add_argument("--model-dir", help="directory of trained models")
        parser.add_argument("--model-format", choices=MODEL_FORMATS, help="h5 (Keras) or onnx")


def add_corpus_options(parser: argparse.ArgumentParser) -> None:
    """What the data's classes are: IMDB's task, or a table's columns."""
    parser.add_argument("--task", choices=TASKS, help="aclImdb classes: sentiment (2) or rating (8 star classes)")
    parser.add_argument("--text-column", help="a table source's text column")
    parser.add_argument("--label-column", help="a table source's label column")


def corpus_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"task": getattr(args, "task", None), "text_column": getattr(args, "text_column", None),
            "label_column": getattr(args, "label_column", None)}


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--no-progress``: the same flag on every long-running sub-command."""
    parser.add_argument("--no-progress", action="store_true", help="disable progress bars")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: 0 or more (0 turns an optional part off)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
    return value


def config_from_args(args: argparse.Namespace, **extra: Any) -> Config:
    return load_config(
        getattr(args, "config", None),
        model=getattr(args, "model", None),
        model_dir=getattr(args, "model_dir", None),
        model_format=getattr(args, "model_format", None),
        data=args.data,
        data_root=args.data_root,
        **corpus_overrides(args),
        **extra,
    )


def print_result(result: dict[str, Any]) -> int:
    print(json.dumps(result, sort_keys=False))
    return EXIT_OK


def quiet_tensorflow(verbose: bool) -> None:
    """Keep TensorFlow's start-up logs out of the terminal, before anything imports it (the
    sub-commands import it lazily): its log level, and a filter for the native lines it prints
    regardless (``imdb.tools.cli.native_logs``). ``--tf-log`` or ``$IMDB_TF_LOG`` (a level) show them."""
    requested = os.environ.get(TF_LOG_ENV)
    if verbose or requested:
        os.environ[TF_NATIVE_LOG_ENV] = TF_VERBOSE_LEVEL if verbose else requested
        return
    os.environ[TF_NATIVE_LOG_ENV] = TF_QUIET_LEVEL
    from imdb.tools.cli.native_logs import hide_native_logs

    hide_native_logs()


def user_errors() -> tuple[type[BaseException], ...]:
    """Errors caused by settings or inputs: reported in one line, without a traceback."""
    from imdb.contract.model_files import ModelError
    from imdb.data.errors import DataError
    from imdb.text.words import VocabularyError
    from imdb.tools.report.settings import AnalysisError

    return ConfigError, DataError, ModelError, VocabularyError, AnalysisError


def run_handler(command: str, handler: Handler, args: argparse.Namespace) -> int:
    """Run a sub-command; a user error becomes ``imdb-leap CMD: error: ...`` and exit status 2."""
    try:
        return int(handler(args) or EXIT_OK)
    except user_errors() as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"imdb-leap {command}: error: {message}", file=sys.stderr)
        return USAGE_ERROR
