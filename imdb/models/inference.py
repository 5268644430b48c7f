"""Batched inference over sample ids, for Keras models and onnxruntime sessions alike.

Why batched: Tensorleap calls the model per sample, but evaluate, analyze and bench run
whole splits, where batching is what makes a 25,000-review pass take seconds, not minutes.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from tqdm.auto import tqdm

from imdb.contract.model_files import ATTENTION_MASK
from imdb.runtime.pipeline import Pipeline

DEFAULT_BATCH_SIZE = 256
# Rows per pass where the model attends (BERT, the ensemble): the attention scores of 256 rows of
# 256 WordPieces are 0.8 GB a layer, and a deletion test's passes at that size held 10 GB.
TRANSFORMER_BATCH_SIZE = 32


def rows_per_pass(input_names: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """``batch_size``, capped at ``TRANSFORMER_BATCH_SIZE`` for a model with an attention mask,
    so one pass of a transformer stays within its family's memory ceiling."""
    return min(batch_size, TRANSFORMER_BATCH_SIZE) if ATTENTION_MASK in input_names else batch_size


def batch_inputs(pipeline: Pipeline, ids: Sequence[str]) -> dict[str, np.ndarray]:
    """The model inputs of ``ids`` stacked per input name (float32, batch first)."""
    names = pipeline.encoder.input_names
    return {name: np.stack([pipeline.model_input(sample_id, name) for sample_id in ids]) for name in names}


def run_model(model: Any, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Logits for one batch from a Keras model or an onnxruntime session (the first output of
    a served model, which also returns its latent vector)."""
    if hasattr(model, "get_inputs") and hasattr(model, "run"):
        feed = {node.name: inputs[node.name].astype(np.float32) for node in model.get_inputs()}
        return np.asarray(model.run([model.get_outputs()[0].name], feed)[0], dtype=np.float32)
    # Models take a list of inputs, as code-loader feeds them (``model([x])``).
    output = model(list(inputs.values()), training=False)
    if isinstance(output, (list, tuple)):
        output = output[0]
    return np.asarray(output, dtype=np.float32)


def run_model_batched(model: Any, inputs: dict[str, np.ndarray], batch_size: int | None = None) -> np.ndarray:
    """Logits for already-encoded inputs of any length, ``batch_size`` rows at a time (by default
    ``rows_per_pass`` of the inputs)."""
    rows = len(next(iter(inputs.values())))
    batch_size = rows_per_pass(list(inputs)) if batch_size is None else batch_size
    return np.concatenate([
        run_model(model, {name: values[start:start + batch_size] for name, values in inputs.items()})
        for start in range(0, rows, batch_size)])


def predict_logits(pipeline: Pipeline, model: Any, ids: Sequence[str], *,
                   batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = True, desc: str = "inference") -> np.ndarray:
    """Logits ``(len(ids), classes)`` in the order of ``ids``."""
    chunks = []
    starts = range(0, len(ids), batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=not progress or len(starts) < 2):
        chunks.append(run_model(model, batch_inputs(pipeline, ids[start:start + batch_size])))
    if not chunks:
        return np.zeros((0, len(pipeline.labels)), dtype=np.float32)
    return np.concatenate(chunks)


def score_ids(pipeline: Pipeline, model: Any, ids: Sequence[str], *, progress: bool = True,
              desc: str = "inference") -> dict[str, object]:
    """``runtime.scoring.summarize`` of ``model`` on ``ids``: what ``imdb-leap evaluate`` prints
    and what training records on a card, computed one way for both."""
    from imdb.runtime import scoring

    logits = predict_logits(pipeline, model, ids, progress=progress, desc=desc)
    labels = np.array([pipeline.corpus.label(sample_id) for sample_id in ids], dtype=np.int64)
    return scoring.summarize(labels, logits, pipeline.labels)
