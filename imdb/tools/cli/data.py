"""``imdb-leap data upload`` and ``imdb-leap data info``: the data layer on the command line.

Settings resolve like every other command: flag, then environment variable, then
``imdb/project_config.yaml``; errors are reported by the CLI's one handler, naming the action.
"""

from __future__ import annotations

import argparse
import json

from imdb.contract.config import Config, load_config
from imdb.data.corpus import describe
from imdb.tools.cli.common import add_corpus_options, corpus_overrides
from imdb.data.settings import ENV_DATA, ENV_DATA_ROOT

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
    upload_parser.set_defaults(func=run_upload, command_name=f"{COMMAND} upload")

    info_parser = actions.add_parser("info", help="print counts per split and class, and the imbalance",
                                     description="Load a dataset and print its counts as one JSON line.")
    _add_source_options(info_parser)
    info_parser.set_defaults(func=run_info, command_name=f"{COMMAND} info")


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="config file (default: imdb/project_config.yaml or $IMDB_CONFIG)")
    add_corpus_options(parser)
    parser.add_argument("--data", default=None, metavar="SRC",
                        help=f"aclImdb/ directory, .tar.gz, gs://BUCKET/PREFIX or https://.../NAME.tar.gz "
                             f"(default: ${ENV_DATA}, "
                             "else `data` in the config)")
    parser.add_argument("--data-root", default=None, metavar="DIR",
                        help=f"cache directory (default: ${ENV_DATA_ROOT}, else `data_root` in the config)")


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config, data=args.data, data_root=args.data_root, **corpus_overrides(args))


def _source(args: argparse.Namespace) -> tuple[str, object]:
    """The data URI and cache directory in force for this command."""
    config = _config(args)
    return config.data, config.data_root


def run_upload(args: argparse.Namespace) -> int:
    from imdb.data.upload import upload

    source, data_root = _source(args)
    names = upload(source, args.bucket, data_root)
    print(f"uploaded {len(names)} object(s) from {source} to {args.bucket}")
    print(json.dumps({"source": source, "destination": args.bucket, "objects": len(names)}))
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Counts per split and class, and the imbalance ratio, of the source with its settings."""
    from imdb.runtime.pipeline import Pipeline

    corpus = Pipeline(_config(args)).corpus
    print(json.dumps(describe(corpus)))
    return 0
