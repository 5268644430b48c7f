"""Latent vectors and logits of a whole split in one batched pass.

Why one pass: the population map needs the ``latent`` layer and everything else needs the
logits; a two-output view of the same Keras model reads each batch once instead of twice,
which on 25,000 reviews is the difference between one and two inference runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from tqdm.auto import tqdm

from imdb.models.inference import DEFAULT_BATCH_SIZE, batch_inputs
from imdb.contract.model_files import ModelError
from imdb.runtime.pipeline import Pipeline
from imdb.tools.report.settings import DEFAULT_LAYER


@dataclass(frozen=True)
class ModelOutputs:
    """Per sample, in the order of the ids: the chosen layer's (pooled) output and the logits."""

    latent: np.ndarray
    logits: np.ndarray


def latent_model(model: Any, layer: str) -> Any:
    """A Keras model with the same inputs returning ``[layer output, logits]``."""
    import keras

    try:
        hidden = model.get_layer(layer).output
    except ValueError as exc:
        names = ", ".join(item.name for item in model.layers)
        raise ModelError(f"model {model.name!r} has no layer {layer!r} to map (layers: {names})") from exc
    return keras.Model(model.inputs, [hidden, model.outputs[0]], name=f"{model.name}_with_{layer}")


def pooled(hidden: np.ndarray) -> np.ndarray:
    """``(batch, features)``: a sequence layer's output (``embedding``, a convolution) is averaged
    over its positions, as the word models' own pooling does; flattening 600 positions would
    make a 25,000-review matrix of several gigabytes."""
    if hidden.ndim <= 2:
        return hidden.reshape(len(hidden), -1)
    return hidden.reshape(len(hidden), -1, hidden.shape[-1]).mean(axis=1)


def extract(pipeline: Pipeline, model: Any, ids: Sequence[str], *, layer: str = DEFAULT_LAYER,
            batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = True) -> ModelOutputs:
    """Batched ``(latent, logits)`` for ``ids`` from a Keras model."""
    viewer = latent_model(model, layer)
    latents, logits = [], []
    starts = range(0, len(ids), batch_size)
    for start in tqdm(starts, desc=f"latent + logits ({layer})", unit="batch", disable=not progress or len(starts) < 2):
        inputs = batch_inputs(pipeline, ids[start:start + batch_size])
        hidden, output = viewer([inputs[name] for name in pipeline.encoder.input_names], training=False)
        latents.append(pooled(np.asarray(hidden, dtype=np.float32)))
        logits.append(np.asarray(output, dtype=np.float32))
    return ModelOutputs(latent=np.concatenate(latents), logits=np.concatenate(logits))
