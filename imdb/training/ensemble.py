"""Ensemble training: mix the trained BERT and n-gram models with one weight fit on the training split.

Why fit on the training split, and how it stays honest there: validation scores the result, so
it may choose nothing. On training reviews the n-gram regression has seen every label, and its
logits there are far more confident than on new text — a weight fit on them would over-trust it.
So the weight is fit on ``ensemble.fit_samples`` training reviews whose n-gram logits come from
the same regression (same C, same naive Bayes scaling) refitted on the rest of the training split
without them. BERT's logits on them are its own: it read each training review once (one epoch),
and the card records its accuracy there beside validation's, so the optimism is visible.
The weight minimises the mixture's cross-entropy over a grid of ``WEIGHT_STEPS`` values in [0, 1].
"""

from __future__ import annotations

import logging
import time
from typing import Any, Sequence

import numpy as np

from imdb.contract.config import ENSEMBLE_MEMBERS, Config
from imdb.contract.model_files import ModelError, read_card
from imdb.contract.names import TRAINING, VALIDATION
from imdb.models.inference import predict_logits
from imdb.models.loading import load_keras_model
from imdb.runtime.pipeline import Pipeline
from imdb.training.artifacts import CARD_DIGITS, classes_card, save_keras_model, score_shipped_file, write_card

LOG = logging.getLogger(__name__)
# Candidate mixing weights: 0, 0.01, ..., 1.
WEIGHT_STEPS = 101


def mixture_loss(weight: float, first: np.ndarray, second: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of ``softmax(weight * first + (1 - weight) * second)``."""
    logits = weight * first + (1.0 - weight) * second
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probabilities[np.arange(len(labels)), labels].mean())


def fit_weight(first: np.ndarray, second: np.ndarray, labels: np.ndarray) -> tuple[float, dict[str, float]]:
    """The grid weight of ``first`` with the least mixture loss, and the loss at every tenth."""
    grid = np.linspace(0.0, 1.0, WEIGHT_STEPS)
    losses = np.array([mixture_loss(weight, first, second, labels) for weight in grid])
    best = float(grid[int(np.argmin(losses))])
    tenths = {f"{weight:.1f}": round(float(loss), CARD_DIGITS) for weight, loss in zip(grid, losses)
              if round(weight * 10, 6).is_integer()}
    return best, tenths


def held_out_ngram_logits(config: Config, fit_ids: Sequence[str]) -> np.ndarray:
    """The n-gram logits of ``fit_ids`` from its regression refitted on the other training reviews."""
    from imdb.training.ngram import refitted_logits

    held = set(fit_ids)
    pipeline = Pipeline(config)
    rest_ids = [sample_id for sample_id in pipeline.split_ids(TRAINING) if sample_id not in held]
    return refitted_logits(pipeline, rest_ids, fit_ids)


def _require_members(config: Config) -> None:
    for family in ENSEMBLE_MEMBERS:
        if not read_card(config.member(family)):
            raise ModelError(f"the ensemble mixes trained {', '.join(ENSEMBLE_MEMBERS)} models, and {family} has no "
                             f"model card in {config.model_dir}: run `imdb-leap train --model {family}` first "
                             f"(same data and model_dir)")


def train_ensemble(config: Config, *, progress: bool = True) -> dict[str, Any]:
    """Fit the mixing weight, save the one served model and its card."""
    from imdb.models.ensemble import build_ensemble

    _require_members(config)
    started = time.perf_counter()
    bert_config, ngram_config = (config.member(family) for family in ENSEMBLE_MEMBERS)
    pipeline = Pipeline(config)
    labels = pipeline.labels
    bert, ngram = load_keras_model(bert_config, labels), load_keras_model(ngram_config, labels)
    fit_ids = pipeline.split_ids(TRAINING, _fit_count(config, len(pipeline.split_ids(TRAINING))))
    fit_labels = np.array([pipeline.corpus.label(sample_id) for sample_id in fit_ids], dtype=np.int64)
    bert_logits = predict_logits(Pipeline(bert_config), bert, fit_ids, progress=progress, desc="bert (fit reviews)")
    ngram_logits = held_out_ngram_logits(ngram_config, fit_ids)
    weight, losses = fit_weight(bert_logits, ngram_logits, fit_labels)
    LOG.info("ensemble: bert weight %.2f (fit loss by weight %s)", weight, losses)
    files = save_keras_model(build_ensemble(bert, ngram, weight), config)
    seconds = time.perf_counter() - started
    validation_ids = pipeline.split_ids(VALIDATION)
    shipped = score_shipped_file(config, pipeline, validation_ids)
    summary = shipped["summary"]
    card = {
        "family": config.model,
        "data": config.as_given("data"),
        "members": {family: {"validation_accuracy": read_card(member).get("validation_accuracy")}
                    for family, member in zip(ENSEMBLE_MEMBERS, (bert_config, ngram_config))},
        "bert_weight": weight,
        "fit_samples": len(fit_ids),
        "fit_loss_by_weight": losses,
        "fit_accuracy": {"bert": _accuracy(bert_logits, fit_labels),
                         "ngram_held_out": _accuracy(ngram_logits, fit_labels)},
        "validation_samples": len(validation_ids),
        "train_seconds": round(seconds, 1),
        "validation_accuracy": shipped["accuracy"],
        "validation_loss": shipped["loss"],
        "validation_macro_f1": round(summary["macro_f1"], CARD_DIGITS),
        **classes_card(config, pipeline, summary),
        "params": {"fit_samples": config.ensemble.fit_samples, "members": list(ENSEMBLE_MEMBERS)},
        "files": [str(path.name) for path in files],
    }
    write_card(config, card)
    return card


def _fit_count(config: Config, training_reviews: int) -> int:
    """``ensemble.fit_samples``, but never more than half the served training reviews: the n-gram
    regression is refitted on the rest (a sample limit can leave few)."""
    return max(1, min(config.ensemble.fit_samples, training_reviews // 2))


def _accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return round(float(np.mean(np.argmax(logits, axis=1) == labels)), CARD_DIGITS) if len(labels) else 0.0
