"""``imdb-leap train``: the configured family's trainer (word models, the n-gram regression, BERT fine-tuning
or the ensemble's mixing weight)."""

from __future__ import annotations

from typing import Any

from imdb.contract.config import Config


def train(config: Config, *, progress: bool = True, stop_at_checkpoint: bool = False) -> dict[str, Any]:
    """Train the configured family (the recipe is the configuration's ``dense.*``, ``cnn.*``, ``rnn.*``, ``ngram.*``, ``bert.*`` or ``ensemble.*``).

    ``stop_at_checkpoint`` (BERT only) saves the model of a run's last checkpoint instead of training on.
    """
    if config.is_bert:
        from imdb.training.bert import train_bert

        return train_bert(config, progress=progress, stop_at_checkpoint=stop_at_checkpoint)
    if config.is_ensemble:
        from imdb.training.ensemble import train_ensemble

        return train_ensemble(config, progress=progress)
    if config.is_ngram:
        from imdb.training.ngram import train_ngram_model

        return train_ngram_model(config, progress=progress)
    from imdb.training.word import train_word_model

    return train_word_model(config, progress=progress)
