"""Exact word heatmaps of the n-gram linear family, in NumPy from the model's own weights.

Why exact: the n-gram model's logits are ``bias + the sum of the weights of the distinct
n-grams present``, so a review's evidence decomposes without gradients or approximation. An
n-gram's score towards class ``c`` is its weight for ``c`` minus the mean of its weights for the
other classes (with two classes: positive minus negative logit contribution); a word's score is
the sum of the scores of the n-grams it is part of, each n-gram's score split equally among its
words (half of a bigram's to each of its two words). The words' scores then add up to the
review's logit contrast minus the bias's, exactly (to float32 rounding).

What a word is: the model reads a bag of distinct n-grams, so a word is one word type of the
review, placed where it first appears; repeated occurrences add nothing to the model and get no
second entry. The words are read from the model input alone (the n-gram ids), which is all the
platform's heatmap function receives.

Why here and not in the models layer: the binder's heatmap function runs on the platform, where
TensorFlow is not imported; the weights travel beside the vocabulary as a NumPy asset
(``ngram_weights_path``), written by training from the Keras model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from imdb.contract.config import Config
from imdb.contract.model_files import ModelError, model_stem
from imdb.text.ngrams import SEPARATOR
from imdb.text.words import RESERVED_TOKENS

WEIGHTS_SUFFIX = "_weights.npz"
# Array names inside the asset.
TABLE_KEY = "table"
BIAS_KEY = "bias"
COUNTS_KEY = "document_counts"


@dataclass(frozen=True)
class NgramWeights:
    """The linear model's weights and the training split's document counts, by n-gram id.

    ``table``: (vocabulary, classes) float32, the weight of each n-gram per class (padding row
    zero); ``bias``: (classes,); ``document_counts``: (vocabulary, classes) int, training reviews
    of each class containing the n-gram."""

    table: np.ndarray
    bias: np.ndarray
    document_counts: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(self.table.shape[1])


def ngram_weights_path(config: Config) -> Path:
    """``<stem>_weights.npz`` beside the n-gram vocabulary (``ngram_weights.npz``,
    ``rating-ngram_weights.npz``): pushed with the assets, one per trained model."""
    return config.ngram.vocab_file.parent / f"{model_stem(config)}{WEIGHTS_SUFFIX}"


def save_ngram_weights(path: Path, weights: NgramWeights) -> Path:
    """Write the asset (compressed NumPy archive) atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        np.savez_compressed(handle, **{TABLE_KEY: weights.table.astype(np.float32),
                                       BIAS_KEY: weights.bias.astype(np.float32),
                                       COUNTS_KEY: weights.document_counts.astype(np.int32)})
    partial.replace(path)
    return path


def load_ngram_weights(path: Path) -> NgramWeights:
    """The asset ``save_ngram_weights`` wrote; a missing or malformed file names itself and the fix."""
    if not path.is_file():
        raise ModelError(f"n-gram weights asset {path} is missing: train the n-gram model "
                         "(`imdb-leap train --model ngram`), which writes it beside the vocabulary")
    with np.load(path) as archive:
        missing = {TABLE_KEY, BIAS_KEY, COUNTS_KEY} - set(archive.files)
        if missing:
            raise ModelError(f"n-gram weights asset {path} lacks {', '.join(sorted(missing))}: retrain the model")
        weights = NgramWeights(table=archive[TABLE_KEY], bias=archive[BIAS_KEY],
                               document_counts=archive[COUNTS_KEY])
    if weights.table.ndim != 2 or weights.bias.shape != (weights.num_classes,) or \
            weights.document_counts.shape != weights.table.shape:
        raise ModelError(f"n-gram weights asset {path} has inconsistent shapes (table {weights.table.shape}, "
                         f"bias {weights.bias.shape}, counts {weights.document_counts.shape}): retrain the model")
    return weights


def contrast(values: np.ndarray, target: int) -> np.ndarray:
    """``values[..., target]`` minus the mean of the other classes' values (last axis).

    Linear, so it maps the logits' decomposition onto one number per n-gram; with two classes
    it is the difference of the two logits' contributions."""
    values = np.asarray(values, dtype=np.float64)
    classes = values.shape[-1]
    others = (values.sum(axis=-1) - values[..., target]) / max(1, classes - 1)
    return values[..., target] - others


def split_among_words(grams: Sequence[str], scores: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each n-gram's score split equally among its words, summed per word.

    ``grams`` are the model's positions (``""`` for padding, which carries nothing); the words
    come back in order of first appearance, each once, so the scores sum to the n-grams' sum."""
    totals: dict[str, float] = {}
    for gram, score in zip(grams, np.asarray(scores, dtype=np.float64)):
        if not gram:
            continue
        parts = gram.split(SEPARATOR)
        share = float(score) / len(parts)
        for word in parts:
            totals[word] = totals.get(word, 0.0) + share
    return list(totals), np.array(list(totals.values()), dtype=np.float64)


def word_positions(grams: Sequence[str]) -> dict[str, list[int]]:
    """Each word (in order of first appearance) -> the positions of the n-grams containing it:
    what must go from the model input for the word to be gone from the review."""
    positions: dict[str, list[int]] = {}
    for index, gram in enumerate(grams):
        if gram:
            for word in dict.fromkeys(gram.split(SEPARATOR)):
                positions.setdefault(word, []).append(index)
    return positions


@dataclass(frozen=True)
class ExactHeatmap:
    """One review's exact decomposition towards ``target``: per model position and per word."""

    target: int
    logits: np.ndarray
    position_scores: np.ndarray
    words: list[str]
    word_scores: np.ndarray

    @property
    def explained(self) -> float:
        """What the scores add up to: the logit contrast minus the bias's (see ``contrast``)."""
        return float(self.position_scores.sum())


def exact_heatmap(token_ids: np.ndarray, grams: Sequence[str], weights: NgramWeights,
                  target: int | None = None) -> ExactHeatmap:
    """The exact heatmap of one model input (``grams``: its display tokens), towards ``target``
    (default: the class the weights predict)."""
    ids = np.asarray(token_ids).reshape(-1).astype(np.int64)
    if len(grams) != len(ids):
        raise ValueError(f"{len(grams)} display tokens for {len(ids)} model positions")
    if ids.size and (ids.min() < 0 or ids.max() >= weights.table.shape[0]):
        raise ModelError(f"n-gram ids up to {int(ids.max())} for a weight table of {weights.table.shape[0]} rows: "
                         "the weights asset and the vocabulary come from different trainings")
    rows = weights.table[ids].astype(np.float64)
    present = np.array([bool(gram) for gram in grams])
    rows[~present] = 0.0
    logits = weights.bias.astype(np.float64) + rows.sum(axis=0)
    chosen = int(np.argmax(logits)) if target is None else int(target)
    position_scores = contrast(rows, chosen)
    words, word_scores = split_among_words(grams, position_scores)
    return ExactHeatmap(target=chosen, logits=logits, position_scores=position_scores, words=words,
                        word_scores=word_scores)


@dataclass(frozen=True)
class Phrase:
    """One n-gram of the "words and phrases that decide" table."""

    ngram: str
    weight: float
    documents: int
    documents_per_class: tuple[int, ...]


def deciding_ngrams(weights: NgramWeights, tokens: Sequence[str], target: int, top: int,
                    towards: bool = True) -> list[Phrase]:
    """The ``top`` n-grams whose weight pushes hardest towards ``target`` (or, with
    ``towards=False``, against it), by ``contrast``; reserved tokens ([PAD], [UNK]) excluded."""
    scores = contrast(weights.table, target)
    scores[: len(RESERVED_TOKENS)] = np.nan
    order = np.argsort(-scores if towards else scores, kind="stable")
    order = [index for index in order if not np.isnan(scores[index])][:top]
    counts = weights.document_counts
    return [Phrase(ngram=tokens[index], weight=float(scores[index]), documents=int(counts[index].sum()),
                   documents_per_class=tuple(int(value) for value in counts[index])) for index in order]

