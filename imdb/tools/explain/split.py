"""A classifier split at its word-embedding layer: embed the tokens, then run the rest from there.

Why split there: attributions are taken with respect to the word (or WordPiece) embedding
output, the last place where every input position still is one token. Token ids themselves
are integers and have no gradient.

How: ``embed`` runs the embedding layer alone; ``logits`` runs the *whole* model while that
layer's output is substituted by a given tensor. Substituting one layer's output, rather
than rebuilding the graph downstream of it, is what lets one mechanism serve both families:
in the word models the embedding is a top-level layer, while in the BERT classifier it sits
inside the keras-hub backbone, where a rebuilt graph would have to re-create the position
and segment embeddings and the attention masks from private Keras internals. Here every
other input (attention mask, segment ids) keeps flowing through the model untouched.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import numpy as np
import tensorflow as tf

from imdb.contract.config import Config
from imdb.contract.model_files import ATTENTION_MASK, EMBEDDING_LAYER

# keras-hub's WordPiece embedding inside the BERT backbone (the word models' is
# imdb.contract.model_files.EMBEDDING_LAYER).
BERT_EMBEDDING_LAYER = "token_embedding"
TOKEN_ID_DTYPE = tf.int32


@dataclass(frozen=True)
class TokenSpec:
    """Where a family keeps its tokens, and which positions are words of the review.

    ``special_ids`` ([CLS], [SEP]) are neither attributed nor ever deleted; ``mask_input``
    (BERT's attention mask) is zeroed where a word is deleted, so a deleted word is exactly
    what padding looks like to the model.
    """

    token_input: str
    embedding_layer: str
    pad_id: int
    special_ids: frozenset[int]
    mask_input: str | None

    def review_positions(self, token_ids: np.ndarray) -> np.ndarray:
        """Boolean mask, same shape as ``token_ids``: True where a word of the review sits."""
        ids = np.asarray(token_ids).astype(np.int64)
        excluded = np.isin(ids, list(self.special_ids | {self.pad_id}))
        return ~excluded


def token_spec(config: Config, encoder: Any) -> TokenSpec:
    """The family's token layout, read from its encoder (the binder's own).

    The ensemble is attributed at its BERT member's WordPiece embedding (found inside the nested
    model): its heatmaps show the words as BERT reads them, and a word deleted in the deletion test
    leaves the n-gram ids as they were, so that test measures the BERT half's share of the verdict."""
    token_input = encoder.input_names[0]
    if config.uses_bert:
        return TokenSpec(token_input=token_input, embedding_layer=BERT_EMBEDDING_LAYER, pad_id=encoder.pad_id,
                         special_ids=frozenset({encoder.cls_id, encoder.sep_id}), mask_input=ATTENTION_MASK)
    from imdb.text.words import PAD_ID

    return TokenSpec(token_input=token_input, embedding_layer=EMBEDDING_LAYER, pad_id=PAD_ID,
                     special_ids=frozenset(), mask_input=None)


def find_layer(model: Any, name: str) -> Any:
    """The layer called ``name``, searched depth-first through nested models (BERT's backbone)."""
    for layer in getattr(model, "layers", ()):
        if layer.name == name:
            return layer
        nested = find_layer(layer, name) if getattr(layer, "layers", None) else None
        if nested is not None:
            return nested
    return None


class EmbeddingSplit:
    """``embed(inputs)`` then ``logits(embedded, inputs)`` for a Keras classifier."""

    def __init__(self, model: Any, spec: TokenSpec, input_names: tuple[str, ...]) -> None:
        layer = find_layer(model, spec.embedding_layer)
        if layer is None:
            raise ValueError(f"model {model.name!r} has no layer named {spec.embedding_layer!r}: attributions "
                             "need the word-embedding layer of the layer-name contract (imdb.contract.model_files)")
        self.model = model
        self.spec = spec
        self.input_names = input_names
        self.layer = layer

    def embed(self, inputs: Mapping[str, np.ndarray]) -> tf.Tensor:
        """The embedding layer's output for the batch: ``(batch, length, dim)``."""
        return self.layer(tf.cast(inputs[self.spec.token_input], TOKEN_ID_DTYPE))

    def token_embedding(self, token_id: int) -> tf.Tensor:
        """One token's embedding vector ``(dim,)`` (the padding baseline)."""
        return self.layer(tf.constant([token_id], dtype=TOKEN_ID_DTYPE))[0]

    def logits(self, embedded: tf.Tensor, inputs: Mapping[str, np.ndarray]) -> tf.Tensor:
        """The model's logits when the embedding layer outputs ``embedded``; differentiable in it."""
        with _substituted_output(self.layer, embedded):
            return self.model([tf.constant(inputs[name]) for name in self.input_names], training=False)


@contextlib.contextmanager
def _substituted_output(layer: Any, output: tf.Tensor) -> Iterator[None]:
    """For the duration of the block, ``layer`` returns ``output`` whatever it is called on.

    The override is an instance attribute shadowing the class's ``call`` and is always
    removed afterwards, so the (process-wide, cached) model is left exactly as it was.
    """
    layer.call = lambda *args, **kwargs: output
    try:
        yield
    finally:
        del layer.call
