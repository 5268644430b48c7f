"""``imdb-leap evaluate``: accuracy, loss, macro-F1, recall per class, confusion counts, star MAE
(ordinal classes) and calibration (ECE, optionally after a temperature fit on the training split)."""

from __future__ import annotations

from typing import Any

import numpy as np

from imdb.contract.config import Config
from imdb.contract.names import TRAINING
from imdb.models.inference import predict_logits
from imdb.models.loading import load_inference_model
from imdb.runtime import scoring
from imdb.runtime.pipeline import Pipeline
from imdb.tools.calibration import calibration, fit_temperature


def _labels(pipeline: Pipeline, ids: list[str]) -> np.ndarray:
    return np.array([pipeline.corpus.label(sample_id) for sample_id in ids], dtype=np.int64)


def evaluate(config: Config, split: str, *, limit: int | None = None, progress: bool = True,
             calibrate: bool = False) -> dict[str, Any]:
    """Score the configured model on ``split`` (optionally its first ``limit`` samples, label-balanced).

    ``calibrate`` fits a temperature on the training split's logits (never on ``split`` itself,
    unless ``split`` is training) and reports the ECE it would leave.
    """
    pipeline = Pipeline(config.with_overrides(sample_limit_per_split=limit) if limit else config)
    model = load_inference_model(config, pipeline.labels)
    ids = pipeline.split_ids(split)
    logits = predict_logits(pipeline, model, ids, progress=progress, desc=f"evaluate {split}")
    labels = _labels(pipeline, ids)
    summary = scoring.summarize(labels, logits, pipeline.labels)
    temperature = None
    if calibrate:
        train_ids = pipeline.split_ids(TRAINING)
        train_logits = predict_logits(pipeline, model, train_ids, progress=progress, desc="calibrate on training")
        temperature = fit_temperature(train_logits, _labels(pipeline, train_ids))
    fit = calibration(logits, labels, config.seed, temperature)
    result = {"model": config.model, "format": config.model_format, "split": split, **summary}
    result["calibration"] = {key: value for key, value in fit.items() if not key.startswith("reliability")}
    return result
