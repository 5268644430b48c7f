"""A fresh, untrained model of the configured family (training's entry into the model layer)."""

from __future__ import annotations

from typing import Any

from imdb.contract.config import Config
from imdb.contract.model_files import NUM_CLASSES, ModelError


def build_model(config: Config, vocab_size: int | None = None, num_classes: int = NUM_CLASSES) -> Any:
    """A fresh, untrained Keras model of the configured family with ``num_classes`` logits."""
    from imdb.models import word

    if config.model == "dense":
        return word.build_dense(_require_vocab(vocab_size), config.text.sequence_length, config.dense, num_classes)
    if config.model == "cnn":
        return word.build_cnn(_require_vocab(vocab_size), config.text.sequence_length, config.cnn, num_classes)
    if config.model == "rnn":
        return word.build_rnn(_require_vocab(vocab_size), config.text.sequence_length, config.rnn, num_classes)
    if config.is_ngram:
        from imdb.models.ngram import build_ngram

        return build_ngram(_require_vocab(vocab_size), config.ngram.max_ngrams, num_classes)
    from imdb.models import bert

    return bert.build_classifier(config, num_classes=num_classes)


def _require_vocab(vocab_size: int | None) -> int:
    if vocab_size is None:
        raise ModelError("word and n-gram models need the vocabulary size to be built")
    return vocab_size
