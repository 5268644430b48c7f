"""The model-file contract: where a trained model lives, what it is called inside, its errors.

Why in the contract layer: the runtime (encoders, visualizers), the loaders, training and the
tools must agree on input names, layer names and file names, and none of them should import
another's module (or TensorFlow) just to read a string.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imdb.contract.config import Config

KERAS_SUFFIX = ".keras"
H5_SUFFIX = ".h5"
ONNX_SUFFIX = ".onnx"
# onnxruntime's dynamic int8 quantisation of the float32 ONNX file (model_format: onnx-int8).
INT8_ONNX_SUFFIX = ".int8.onnx"
CARD_SUFFIX = ".json"

# Input names: the word models read one input, the BERT family three.
WORD_INPUT = "input_tokens"
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
TOKEN_TYPE_IDS = "token_type_ids"
WORD_INPUT_NAMES = (WORD_INPUT,)
BERT_INPUT_NAMES = (INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS)
# The ensemble reads both members' inputs: BERT's, then the n-gram ids.
ENSEMBLE_INPUT_NAMES = (*BERT_INPUT_NAMES, WORD_INPUT)

# Layer names: ``embedding`` is where word attributions are taken, ``latent`` is the
# penultimate representation the analysis maps, ``logits`` the raw two-class output.
EMBEDDING_LAYER = "embedding"
LATENT_LAYER = "latent"
LOGITS_LAYER = "logits"
NUM_CLASSES = 2
# What the served model returns (``load_model``, the exported ONNX graph), in this order: the
# logits, then the ``latent`` layer's output, which the binder declares as the model's latent
# space so the dashboard maps the same representation as the local report.
LOGITS_OUTPUT = "logits"
LATENT_OUTPUT = "latent"
SERVED_OUTPUTS = (LOGITS_OUTPUT, LATENT_OUTPUT)


# Entry of an exported ONNX file's metadata holding the SHA-256 of the Keras file it was
# converted from: the loader refuses an ONNX file that no longer matches the Keras model
# beside it (retrained, not re-exported), so the platform is never pushed a stale model.
ONNX_SOURCE_DIGEST_KEY = "imdb_keras_sha256"


class ModelError(ValueError):
    """A model file is missing or does not match the configuration; the message names both."""


def input_names(config: Config) -> tuple[str, ...]:
    """The configured family's model inputs, in the order the model takes them."""
    if config.is_ensemble:
        return ENSEMBLE_INPUT_NAMES
    return BERT_INPUT_NAMES if config.is_bert else WORD_INPUT_NAMES


def token_input(config: Config) -> str:
    """The input whose values are token ids (what the review visualizer shows)."""
    return INPUT_IDS if config.uses_bert else WORD_INPUT


def model_stem(config: Config) -> str:
    """``dense`` for IMDB sentiment, ``rating-dense`` for IMDB ratings, ``tweets-dense`` for
    ``tweets.csv``: one corpus's models never overwrite another's."""
    prefix = config.corpus_name
    return f"{prefix}-{config.model}" if prefix else config.model


def model_path(config: Config, suffix: str | None = None) -> Path:
    """``<model_dir>/<stem><suffix>``; the suffix defaults to the configured ``model_format``."""
    by_format = {"onnx": ONNX_SUFFIX, "onnx-int8": INT8_ONNX_SUFFIX}
    chosen = suffix or by_format.get(config.model_format, H5_SUFFIX)
    return config.model_dir / f"{model_stem(config)}{chosen}"


def card_path(config: Config) -> Path:
    """The JSON model card written beside every trained model (settings and measured numbers)."""
    return model_path(config, CARD_SUFFIX)


def read_card(config: Config) -> dict[str, Any]:
    path = card_path(config)
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))
