"""``imdb-leap probe``: the behavioural probes on one model, or two side by side.

Prints one JSON object as its last line: the report's path and, per capability, the pass rate
of each model; the page (``index.html``), its PNG and ``probes.json`` go to ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from imdb.contract.config import MODEL_FAMILIES
from imdb.contract.names import LABEL_NAMES as POLARITY_NAMES
from imdb.tools.cli.common import (add_config_options, add_progress_option, config_from_args, positive_int,
                                   print_result)
from imdb.tools.explain.methods import ALL_METHODS, DEFAULT_METHOD, DEFAULT_STEPS, EXACT, EXACT_FAMILIES, default_method
from imdb.tools.report import settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``probe`` to the ``imdb-leap`` sub-commands."""
    parser = subparsers.add_parser(
        "probe", help="behavioural probes (negation, contrast, intensity, invariance) per capability and model")
    add_config_options(parser)
    parser.add_argument("--compare", choices=MODEL_FAMILIES, help="second model family to probe beside --model")
    parser.add_argument("--compare-model-dir", help="directory of the second model (default: --model-dir)")
    parser.add_argument("--out", type=Path, help="output directory (default: reports/probes-<model>[-<other>]/)")
    parser.add_argument("--failing", type=int, default=settings.DEFAULT_PROBE_FAILING,
                        help="failing cases shown with a heatmap per capability and model (0: none)")
    parser.add_argument("--explain", dest="method", choices=ALL_METHODS,
                        help=f"word attribution method for the heatmaps (default: {EXACT} for the "
                             f"{'/'.join(sorted(EXACT_FAMILIES))} family, {DEFAULT_METHOD} otherwise, as in analyze)")
    parser.add_argument("--ig-steps", dest="steps", type=positive_int,
                        help=f"integrated-gradients steps (default: {DEFAULT_STEPS}; "
                             f"{settings.default_steps('bert')} for bert, as in analyze)")
    add_progress_option(parser)
    parser.set_defaults(func=run)


def _out_dir(args: argparse.Namespace, names: list[str]) -> Path:
    return (args.out or Path(settings.REPORTS_DIR) / ("probes-" + "-".join(names))).expanduser().resolve()


def run(args: argparse.Namespace) -> int:
    """Probe the model(s), write the report, print the pass rates last."""
    from imdb.tools.probes.run import run_probes, target_for
    from imdb.tools.probes.write import INDEX_FILE, write_probe_report
    from imdb.tools.report.analysis import compared_label

    config = config_from_args(args)
    targets = [target_for(config)]
    if args.compare:
        other = config.with_overrides(model=args.compare, model_dir=args.compare_model_dir, model_format="h5")
        targets.append(target_for(other, compared_label(other, config)))
    behaviour = run_probes(targets, failing_shown=args.failing, method=args.method or default_method(config.model),
                           steps=args.steps or settings.default_steps(config.model),
                           progress=not args.no_progress)
    files = write_probe_report(behaviour, POLARITY_NAMES, _out_dir(args, [target.name for target in targets]))
    return print_result({"out": str(files[INDEX_FILE]), "models": [target.name for target in targets],
                         "cases": len(behaviour.probes), "pass_rates": behaviour.pass_rates()})
