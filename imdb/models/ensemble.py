"""The ensemble family: BERT and the n-gram model as one Keras model (Tensorleap serves one file).

Why one graph rather than two models averaged outside: the platform loads one model per
integration, and the dashboard's loss, metrics and latent space must describe what is served.
Both members end in a linear head over their ``latent`` layer (BERT: pooled vector -> dropout ->
Dense; n-gram: summed n-gram weights -> Dense), so ``weight * bert + (1 - weight) * ngram`` is
itself one Dense layer over the two latents side by side, with the members' heads stacked and
scaled. The graph takes both members' inputs (BERT's three, then the n-gram ids), runs each
member up to its latent as a nested model, concatenates the latents (the ensemble's ``latent``:
the map then shows where either member places a review) and applies that head — built-in layers
only, so it saves, reloads and exports to ONNX like every family.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from imdb.contract.model_files import LATENT_LAYER, LOGITS_LAYER


def _up_to_latent(member: keras.Model, name: str) -> keras.Model:
    return keras.Model(member.inputs, member.get_layer(LATENT_LAYER).output, name=name)


def _fresh_inputs(member: keras.Model) -> list[Any]:
    return [keras.Input(shape=tuple(tensor.shape[1:]), dtype=tensor.dtype, name=tensor.name.split(":")[0])
            for tensor in member.inputs]


def _head(member: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    kernel, bias = member.get_layer(LOGITS_LAYER).get_weights()
    return np.asarray(kernel, np.float32), np.asarray(bias, np.float32)


def build_ensemble(bert: keras.Model, ngram: keras.Model, weight: float) -> keras.Model:
    """One model over ``[input_ids, attention_mask, token_type_ids, input_tokens]`` whose logits are
    ``weight * bert + (1 - weight) * ngram`` (at inference, where dropout is the identity)."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the ensemble's mixing weight must lie in [0, 1], got {weight}")
    bert_inputs, ngram_inputs = _fresh_inputs(bert), _fresh_inputs(ngram)
    latent = keras.layers.Concatenate(name=LATENT_LAYER)([_up_to_latent(bert, "bert")(bert_inputs),
                                                          _up_to_latent(ngram, "ngram")(ngram_inputs)])
    (bert_kernel, bert_bias), (ngram_kernel, ngram_bias) = _head(bert), _head(ngram)
    head = keras.layers.Dense(bert_kernel.shape[1], name=LOGITS_LAYER)
    logits = head(latent)
    head.set_weights([np.concatenate([weight * bert_kernel, (1.0 - weight) * ngram_kernel]),
                      weight * bert_bias + (1.0 - weight) * ngram_bias])
    return keras.Model([*bert_inputs, *ngram_inputs], logits, name="imdb_ensemble")
