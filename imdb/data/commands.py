"""``imdb-leap data upload`` and ``imdb-leap data info``: the data layer on the command line.

Why here and not in the main CLI: the options and the error handling belong to the data
layer; the main CLI only calls ``register``. Settings resolve like every other command:
flag, then environment variable, then ``imdb/project_config.yaml``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from imdb.data.corpus import describe, load_corpus
from imdb.data.errors import DataError
from imdb.data.settings import ENV_DATA, ENV_DATA_ROOT
from imdb.data.upload import upload

EXIT_OK = 0
# Same code the main CLI uses for every user error (bad settings, data, model).
EXIT_DATA_ERROR = 2
COMMAND = "data"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command (with ``upload`` and ``info``) to an argparse subparsers object."""
    data = subparsers.add_parser(COMMAND, help="stage and inspect the IMDB reviews",
                                 description="Stage the IMDB reviews into a bucket, or count them.")
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    upload_parser = actions.add_parser("upload", help="copy a dataset into gs://BUCKET/PREFIX",
                                       description="Validate a dataset, then copy it into a bucket.")
    _add_source_options(upload_parser)
    upload_parser.add_argument("--bucket", required=True, metavar="gs://BUCKET/PREFIX",
                               help="destination; the bucket is created when missing")
    upload_parser.set_defaults(func=run_upload)

    info_parser = actions.add_parser("info", help="print review counts per split and label",
                                     description="Load a dataset and print its counts as one JSON line.")
    _add_source_options(info_parser)
    info_parser.set_defaults(func=run_info)


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None, metavar="SRC",
                        help=f"aclImdb/ directory, .tar.gz or gs://BUCKET/PREFIX (default: ${ENV_DATA}, "
                             "else `data` in the config)")
    parser.add_argument("--data-root", default=None, metavar="DIR",
                        help=f"cache directory (default: ${ENV_DATA_ROOT}, else `data_root` in the config)")


def _source(args: argparse.Namespace) -> tuple[str, object]:
    """The data URI and cache directory in force for this command."""
    from imdb.config import load_config

    config = load_config(data=args.data, data_root=args.data_root)
    return config.data, config.data_root


def _reporting_errors(name: str, action: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], int]:
    """Run ``action``; a DataError becomes one line on stderr and a non-zero exit code."""
    def run(args: argparse.Namespace) -> int:
        try:
            action(args)
        except DataError as exc:
            print(f"imdb-leap {COMMAND} {name}: error: {exc}", file=sys.stderr)
            return EXIT_DATA_ERROR
        return EXIT_OK
    return run


def _upload(args: argparse.Namespace) -> None:
    source, data_root = _source(args)
    names = upload(source, args.bucket, data_root)
    print(f"uploaded {len(names)} object(s) from {source} to {args.bucket}")
    print(json.dumps({"source": source, "destination": args.bucket, "objects": len(names)}))


def _info(args: argparse.Namespace) -> None:
    corpus = load_corpus(*_source(args))
    print(json.dumps(describe(corpus)))


run_upload = _reporting_errors("upload", _upload)
run_info = _reporting_errors("info", _info)
