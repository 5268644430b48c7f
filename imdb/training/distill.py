"""Distillation for the word families: a teacher labels unlabelled reviews, the word model learns from both.

Why: on IMDB's 8 star classes the word families (dense, CNN) trail the n-gram regression by
3–5 points of accuracy with the same 20,242 labelled reviews, while the source holds 50,000
unlabelled reviews of the same kind (aclImdb's ``train/unsup/``). The regression's class
probabilities on them are graded targets (an 8-star review that reads like a 7 says so), and
learning from them lets a student reach its teacher (Hinton et al. 2015; Tang et al. 2019 for
text, with unlabelled in-domain text as the transfer set).

How it stays honest: the teacher is refitted on exactly the reviews the student is fitted on
(never the early-stopping holdout, validation or test), and an unlabelled review of any movie
that has a review outside those is left out, so no movie of a held-out review reaches the
student through the teacher's view of it. The validation split is still scored once, at the end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from imdb.contract.config import NGRAM_FAMILY, NO_TEACHER, Config
from imdb.contract.model_files import ModelError, read_card
from imdb.runtime.pipeline import Pipeline
from imdb.runtime.scoring import softmax

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransferSet:
    """The unlabelled reviews a student learns from and its teacher's probabilities on them."""

    ids: list[str]
    probabilities: np.ndarray
    # The teacher's accuracy on the early-stopping holdout, for the card: how good the targets are.
    teacher_holdout_accuracy: float
    excluded_for_movies: int


def unlabeled_for_student(corpus: Any, fitted_ids: Sequence[str], limit: int | None,
                          seed: int) -> tuple[list[str], int]:
    """The unlabelled reviews of ``corpus`` whose movie has no labelled review outside
    ``fitted_ids`` (a seeded sample of ``limit`` of them when given), and how many were left out
    for their movie (none on aclImdb, whose unlabelled reviews are of movies of their own)."""
    fitted = set(fitted_ids)
    kept_out_movies = {corpus[i].movie_id for i in corpus if i not in fitted}
    candidates = corpus.unlabeled_ids()
    allowed = [i for i in candidates if corpus[i].movie_id not in kept_out_movies]
    excluded = len(candidates) - len(allowed)
    if limit is not None and limit < len(allowed):
        chosen = np.random.default_rng(seed).choice(len(allowed), size=limit, replace=False)
        allowed = [allowed[position] for position in sorted(chosen)]
    return allowed, excluded


def _require_teacher(config: Config) -> Config:
    teacher = config.with_overrides(model=NGRAM_FAMILY)
    if not read_card(teacher):
        raise ModelError(f"setting 'distillation.teacher: {NGRAM_FAMILY}' refits the trained n-gram model's "
                         f"regression, and there is no n-gram model card in {config.model_dir} for this corpus: run "
                         f"`imdb-leap train --model {NGRAM_FAMILY}` first (same data, task and model_dir), or set "
                         f"distillation.teacher to {NO_TEACHER}")
    return teacher


def transfer_set(config: Config, pipeline: Pipeline, fitted_ids: Sequence[str],
                 holdout_ids: Sequence[str]) -> TransferSet | None:
    """The teacher's view of the unlabelled reviews, or None without a teacher (``distillation.teacher``)."""
    if config.distillation.teacher == NO_TEACHER:
        return None
    from imdb.training.ngram import refitted_logits

    teacher = _require_teacher(config)
    ids, excluded = unlabeled_for_student(pipeline.corpus, fitted_ids, config.distillation.unlabeled, config.seed)
    if not ids:
        raise ModelError(f"setting 'distillation.teacher: {config.distillation.teacher}' needs unlabelled reviews, and "
                         f"{config.as_given('data')} holds none a student may use (aclImdb's train/unsup/; the "
                         f"official archive has 50,000): point data at a source that has them, or set "
                         f"distillation.teacher to {NO_TEACHER}")
    logits = refitted_logits(Pipeline(teacher), fitted_ids, [*ids, *holdout_ids])
    holdout_labels = np.array([pipeline.corpus.label(i) for i in holdout_ids])
    accuracy = float(np.mean(np.argmax(logits[len(ids):], axis=1) == holdout_labels)) if len(holdout_ids) else 0.0
    LOG.info("distillation: the n-gram teacher labels %d unlabelled reviews (%d left out for their movie); its "
             "holdout accuracy %.4f", len(ids), excluded, accuracy)
    return TransferSet(ids=ids, probabilities=softmax(logits[:len(ids)]), teacher_holdout_accuracy=accuracy,
                       excluded_for_movies=excluded)
