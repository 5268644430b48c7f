"""``imdb-leap evaluate``: accuracy, loss, macro-F1 and confusion counts on one split."""

from __future__ import annotations

from typing import Any

from imdb.contract.config import Config
from imdb.models.inference import score_ids
from imdb.models.loading import load_inference_model
from imdb.runtime.pipeline import Pipeline


def evaluate(config: Config, split: str, *, limit: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Score the configured model on ``split`` (optionally its first ``limit`` samples, label-balanced)."""
    pipeline = Pipeline(config.with_overrides(sample_limit_per_split=limit) if limit else config)
    ids = pipeline.split_ids(split)
    summary = score_ids(pipeline, load_inference_model(config, pipeline.labels), ids, progress=progress, desc=f"evaluate {split}")
    return {"model": config.model, "format": config.model_format, "split": split, **summary}
