"""``imdb-leap evaluate``: accuracy, loss, macro-F1 and confusion counts on one split."""

from __future__ import annotations

from typing import Any

import numpy as np

from imdb.runtime import scoring
from imdb.contract.config import Config
from imdb.models.inference import predict_logits
from imdb.models.loading import load_inference_model
from imdb.runtime.pipeline import Pipeline


def evaluate(config: Config, split: str, *, limit: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Score the configured model on ``split`` (optionally its first ``limit`` samples, label-balanced)."""
    pipeline = Pipeline(config.with_overrides(sample_limit_per_split=limit) if limit else config)
    ids = pipeline.split_ids(split)
    model = load_inference_model(config)
    logits = predict_logits(pipeline, model, ids, progress=progress, desc=f"evaluate {split}")
    labels = np.array([pipeline.corpus[i].label for i in ids], dtype=np.int64)
    return {"model": config.model, "format": config.model_format, "split": split,
            **scoring.summarize(labels, logits, config.labels)}
