"""One platform-like evaluation worker: every registered function on every sample, as JSON.

Why: Tensorleap evaluates a pushed integration in several worker processes at once, each
loading the entry file through code-loader and calling the registered encoders, ground truth,
metadata, loss, metrics and visualizers by name, with the model's predictions in between.
``tests/test_platform.py`` starts a few of these workers together (in a venv built from
``requirements.txt`` alone, on a copy of the pushed bundle, sharing one data root) and one in
the development environment, then compares what they computed and how many reviews each
scored with TextBlob (and textstat).

Run as a script, ``python .../imdb/tools/platform_worker.py --root DIR --out FILE``, with any
interpreter: like ``leap_check.py`` it puts ``DIR`` first on ``sys.path`` before importing
anything of the project, so a bundle is evaluated with the ``imdb`` package it carries.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import os
import sys
from pathlib import Path
from typing import Any

ENTRY_FILE = "leap_integration.py"
# The name the binder's loss, metrics and visualizers give the model's output.
PREDICTION_ARG = "prediction"


def plain(value: Any) -> Any:
    """Visualizer objects, confusion elements, arrays and enums as JSON-ready data."""
    import numpy as np

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def built_in_names() -> frozenset[str]:
    """Losses, metrics and visualizers code-loader registers itself in every binder: not the
    integration's (the platform offers them to the user, who maps their arguments by hand)."""
    from code_loader.default_losses import loss_name_to_function
    from code_loader.default_metrics import metrics_names_to_functions_and_direction
    from code_loader.visualizers.default_visualizers import DefaultVisualizer

    return frozenset({*loss_name_to_function, *metrics_names_to_functions_and_direction,
                      *(visualizer.value for visualizer in DefaultVisualizer)})


def _registered(handlers: dict[str, Any]) -> dict[str, Any]:
    built_in = built_in_names()
    return {name: handler for name, handler in handlers.items() if name not in built_in}


def evaluate(root: Path) -> dict[str, Any]:
    """Every sample of every state the preprocess serves, through code-loader's registry."""
    import numpy as np
    from code_loader import LeapLoader

    from imdb.models.loading import load_inference_model
    from imdb.runtime.pipeline import get_pipeline

    loader = LeapLoader(str(root.resolve()), ENTRY_FILE)
    loader.exec_script()
    pipeline = get_pipeline()
    model = load_inference_model(pipeline.config, pipeline.labels)
    samples: dict[str, Any] = {}
    for state, sample_ids in loader.get_preprocess_sample_ids().items():
        for sample_id in sample_ids:
            samples[f"{state.name}/{sample_id}"] = _one_sample(loader, model, state, sample_id, np)
    return {"samples": samples, "reviews": len(pipeline.corpus),
            "text_scored_in_process": pipeline.metadata_store.text_scores.computed_in_process,
            "text_scores_file": str(pipeline.metadata_store.text_scores.path),
            "imdb": sys.modules["imdb"].__file__, "pid": os.getpid()}


def _one_sample(loader: Any, model: Any, state: Any, sample_id: str, np: Any) -> dict[str, Any]:
    """Inputs, ground truth, metadata, logits, loss, metrics, visualizers and heatmaps of one sample."""
    sample = loader.get_sample(state, sample_id)
    inputs = {name: value[None] for name, value in sample.inputs.items()}
    ground_truth = {name: value[None] for name, value in sample.gt.items()}
    logits = model.run(None, inputs)[0]
    arguments = {**inputs, **ground_truth, PREDICTION_ARG: logits}
    ids = np.array([sample_id])
    result = {"inputs": plain(sample.inputs), "gt": plain(sample.gt), "metadata": plain(sample.metadata),
              "logits": plain(logits), "loss": {}, "metrics": {}, "visualizers": {}, "heatmaps": {}}
    for name, handler in _registered(loader.custom_loss_by_name()).items():
        result["loss"][name] = plain(loader.run_custom_loss(name, ids, state, _pick(arguments, handler.arg_names)))
    for name, handler in _registered(loader.metric_by_name()).items():
        result["metrics"][name] = plain(loader.run_metric(name, ids, state, _pick(arguments, handler.arg_names)))
    for name, handler in _registered(loader.visualizer_by_name()).items():
        chosen = _pick(arguments, handler.arg_names)
        result["visualizers"][name] = plain(loader.run_visualizer(name, ids, state, dict(chosen)))
        if len(chosen) == 1:
            heatmap = loader.run_heatmap_visualizer(name, ids, state, _heatmap_arguments(loader, name, chosen, np))
            if heatmap is not None:
                result["heatmaps"][name] = plain(heatmap)
    return result


def _attribution_like(chosen: dict[str, Any], np: Any) -> dict[str, Any]:
    """What the platform hands a heatmap function: an attribution map shaped like the
    visualizer's input (code-loader maps heatmaps of one-input visualizers only). A ramp over
    the positions stands in for the platform's gradients: it exercises the same mapping."""
    (name, value), = chosen.items()
    return {name: np.linspace(0.0, 1.0, value.size, dtype=np.float32).reshape(value.shape)}


def _heatmap_arguments(loader: Any, name: str, chosen: dict[str, Any], np: Any) -> dict[str, Any]:
    """The attribution map, plus the visualizer's raw inputs where the heatmap function asks for
    them (an argument typed ``RawInputsForHeatmap``, as the n-gram family's exact heatmap does)."""
    from code_loader.contract.datasetclasses import RawInputsForHeatmap

    arguments = _attribution_like(chosen, np)
    raw_name = loader.get_heatmap_visualizer_raw_vis_input_arg_name(name)
    if raw_name is not None:
        arguments[raw_name] = RawInputsForHeatmap(raw_input_by_vizualizer_arg_name=dict(chosen))
    return arguments


def _pick(arguments: dict[str, Any], names: list[str]) -> dict[str, Any]:
    missing = [name for name in names if name not in arguments]
    if missing:
        raise KeyError(f"a registered function takes {missing}, which no encoder, ground truth or prediction provides")
    return {name: arguments[name] for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, type=Path, help="directory holding leap_integration.py")
    parser.add_argument("--out", required=True, type=Path, help="JSON file the results are written to")
    args = parser.parse_args(argv)
    # Replaces the script's own folder (imdb/tools) at the head of the import path.
    sys.path[0] = str(args.root.resolve())
    import imdb  # noqa: F401  (the evaluated directory's package; switches code-loader analytics off)
    from imdb.contract.files import atomic_write_text

    atomic_write_text(args.out, json.dumps(evaluate(args.root), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
