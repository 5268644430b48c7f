"""The ``inference`` section's int8 columns: onnxruntime's dynamic quantisation, speed and accuracy.

Why the accuracy change is measured on the whole validation split: int8 moves every logit a
little, and what matters is how many reviews change side; a few hundred reviews could not
resolve the 0.3-point budget the project allows for it. Both accuracies (float32 and int8
ONNX) are taken here, in one run, on the same reviews.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imdb.contract.config import Config
from imdb.contract.names import VALIDATION
from imdb.runtime.pipeline import Pipeline
from imdb.tools.bench.timing import Stopwatch

BATCH = 64
POINTS = 100  # accuracy differences are reported in percentage points
ROUND = 4


def _accuracy(pipeline: Pipeline, session: Any, ids: list[str]) -> float:
    from imdb.models.inference import predict_logits

    logits = predict_logits(pipeline, session, ids, batch_size=BATCH, progress=False)
    labels = np.array([pipeline.corpus.label(i) for i in ids])
    return float((logits.argmax(axis=1) == labels).mean())


def int8_columns(config: Config, pipeline: Pipeline, fp32_onnx: Path, workdir: Path,
                 speed_ids: list[str]) -> dict[str, Any]:
    """int8 reviews/s on ``speed_ids`` and the accuracy change against float32 on the validation split."""
    from imdb.models.inference import predict_logits
    from imdb.models.loading import open_onnx
    from imdb.tools.export import export_int8

    exported = export_int8(config, target=workdir / f"{config.model}.int8.onnx", source=fp32_onnx)
    int8 = open_onnx(exported["path"])
    predict_logits(pipeline, int8, speed_ids[:BATCH], batch_size=BATCH, progress=False)
    with Stopwatch() as watch:
        predict_logits(pipeline, int8, speed_ids, batch_size=BATCH, progress=False)
    validation = pipeline.split_ids(VALIDATION)
    fp32_accuracy = _accuracy(pipeline, open_onnx(fp32_onnx), validation)
    int8_accuracy = _accuracy(pipeline, int8, validation)
    return {"onnx_int8_samples_per_s": round(len(speed_ids) / watch.seconds, 1),
            "onnx_int8_mb": round(Path(exported["path"]).stat().st_size / 2**20, 1),
            "onnx_fp32_mb": round(fp32_onnx.stat().st_size / 2**20, 1),
            "accuracy_samples": len(validation), "onnx_fp32_accuracy": round(fp32_accuracy, ROUND),
            "onnx_int8_accuracy": round(int8_accuracy, ROUND),
            "int8_accuracy_change_points": round((int8_accuracy - fp32_accuracy) * POINTS, 2)}
