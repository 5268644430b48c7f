"""Run code-loader's own checks on an integration directory and print the verdict as JSON.

Why a separate process: code-loader registers every decorated function in one global
binder, so each check (each model family, the pushed bundle) needs a fresh interpreter.
``leap_test.py`` runs this file as a script, ``python .../imdb/tools/leap_check.py --root DIR``,
and reads the line that starts with ``RESULT_MARKER`` (code-loader prints its own status
tables around it, even at exit). Run as a script, it puts ``DIR`` first on ``sys.path`` before
importing anything of the project, so a bundle is checked with the ``imdb`` package it
carries (which holds no tools, this module included), never the checkout's.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path
from types import ModuleType

ENTRY_FILE = "leap_integration.py"
RESULT_MARKER = "IMDB_LEAP_CHECK "


def check_dataset(root: Path) -> dict[str, object]:
    """``LeapLoader.check_dataset()`` (which needs an absolute root) reduced to plain data."""
    imdb = _project_package()
    from code_loader import LeapLoader

    loader = LeapLoader(str(root.resolve()), ENTRY_FILE)
    result = loader.check_dataset()
    setup = result.setup
    return {
        "is_valid": bool(result.is_valid),
        "general_error": result.general_error,
        "payloads": [{"name": p.name, "is_passed": bool(p.is_passed), "display": p.display}
                     for p in result.payloads],
        "inputs": [inp.name for inp in setup.inputs] if setup else [],
        "metadata": [meta.name for meta in setup.metadata] if setup else [],
        "metadata_types": _declared_metadata_types(),
        "latent_spaces": loader.get_custom_latent_space_specs() if setup else {},
        "visualizers": [vis.name for vis in setup.visualizers] if setup else [],
        "imdb": imdb.__file__,
        "lengths": {"training": setup.preprocess.training_length, "validation": setup.preprocess.validation_length,
                    "test": setup.preprocess.test_length,
                    "additional": setup.preprocess.additional_length,
                    "unlabeled": setup.preprocess.unlabeled_length} if setup else {},
    }


def _declared_metadata_types() -> dict[str, str]:
    """Each dashboard field's declared type (``metadata_type`` of ``tensorleap_metadata``), flattened
    the way the dashboard names dict-valued metadata (``group_key``)."""
    from code_loader.inner_leap_binder.leapbinder_decorators import leap_binder

    declared: dict[str, str] = {}
    for handler in leap_binder.setup_container.metadata:
        kind = handler.metadata_type
        if isinstance(kind, dict):
            declared.update({f"{handler.name}_{key}": value.value for key, value in kind.items()})
        elif kind is not None:
            declared[handler.name] = kind.value
    return declared


def integration_test(root: Path, samples_per_split: int) -> dict[str, object]:
    """Run the entry file's integration test on the first samples of every served state.

    ``splits`` and ``samples_checked`` count the labelled states (the probes' included);
    ``unlabeled_checked`` the unlabelled state's samples (0 when the source has none)."""
    imdb = _project_package()
    import leap_integration
    from code_loader.contract.enums import DataStateType

    log = io.StringIO()
    with redirect_stdout(log):
        checked = leap_integration.run_local_check(samples_per_split)
    splits = len(leap_integration.preprocess())
    unlabeled = checked.pop(DataStateType.unlabeled.name, 0)
    from imdb.models.loading import load_inference_model

    model = load_inference_model(leap_integration.CONFIG, leap_integration.LABELS)
    return {"samples_checked": sum(checked.values()), "unlabeled_checked": unlabeled, "states": sorted(checked),
            "splits": splits, "labels": list(leap_integration.LABELS), "module": leap_integration.__file__,
            "imdb": imdb.__file__, "model_class": f"{type(model).__module__}.{type(model).__name__}"}


def _project_package() -> ModuleType:
    """``imdb`` from the checked directory (importing it switches code-loader's analytics off)."""
    return importlib.import_module("imdb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", type=Path, help="directory holding leap_integration.py")
    parser.add_argument("--integration-test", type=int, metavar="N",
                        help="run the integration test on N samples per split instead of check_dataset")
    args = parser.parse_args(argv)
    # Replaces the script's own folder (imdb/tools) at the head of the import path.
    sys.path[0] = str(args.root.resolve())
    if args.integration_test:
        result = integration_test(args.root, args.integration_test)
    else:
        result = check_dataset(args.root)
    print(RESULT_MARKER + json.dumps(result, default=str), flush=True)
    return 0


def parse_result(stdout: str) -> dict[str, object]:
    """The verdict printed by ``main`` in another process."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    raise ValueError(f"no {RESULT_MARKER.strip()} line in the check's output:\n{stdout[-2000:]}")


if __name__ == "__main__":
    sys.exit(main())
