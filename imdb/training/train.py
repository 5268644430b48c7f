"""``imdb-leap train``: the configured family's trainer (word models or BERT fine-tuning)."""

from __future__ import annotations

from typing import Any

from imdb.contract.config import Config


def train(config: Config, *, progress: bool = True) -> dict[str, Any]:
    """Train the configured family (the recipe is the configuration's ``dense.*``, ``cnn.*`` or ``bert.*``)."""
    if config.is_bert:
        from imdb.training.bert import train_bert

        return train_bert(config, progress=progress)
    from imdb.training.word import train_word_model

    return train_word_model(config, progress=progress)
