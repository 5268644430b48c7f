"""Linear reference: what a logistic regression reaches on the same split and vocabulary size.

Why in the benchmark: the dense model is a bag of words, so the question "is 0.88 the model's
fault or the features'?" has a measurable answer. The same standardised words, the same
vocabulary size, the same movie-grouped validation split; TF-IDF features (sublinear term
frequency) with unigrams only, and with unigrams and bigrams competing for the same number of
slots, and unigrams without the cap. The words are the seeds' recipe's, stated scores split ("7 10",
which the bigrams see) even where a task's models keep them whole (``<family>.keep_scores``): the
reference stays one fixed yardstick for every model of the task. The regularisation strength is
scikit-learn's default, never tuned on validation.
For ordinal classes (``task: rating``) each feature set also reports macro-F1 and the mean
absolute star error, and each shipped model of the task stands beside it on the same numbers.

"Beats" is a claim about reviews not yet seen, so each shipped model is also scored review by
review against the uni+bigram reference on the same validation reviews: the accuracy difference
with a paired bootstrap interval, the verdict it supports (beats, matches, below), and McNemar's
exact test on the reviews only one of the two gets right. A gap of one point on 2,500 reviews is
within what resampling the reviews moves.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from imdb.contract.config import MODEL_FAMILIES, Config
from imdb.contract.model_files import read_card
from imdb.probes.stats import CONFIDENCE
from imdb.runtime.pipeline import Pipeline
from imdb.runtime.scoring import class_values, confusion_counts, macro_f1
from imdb.text.words import words

VALIDATION_SPLIT = "validation"
TRAINING_SPLIT = "training"
# name -> (n-gram range, capped at the vocabulary size?); the uncapped set asks whether a bigger
# vocabulary would help a bag of single words.
FEATURE_SETS = {"unigram": ((1, 1), True), "unigram_bigram": ((1, 2), True), "unigram_all_words": ((1, 1), False)}
MAX_ITERATIONS = 2000
ROUND = 4
# The feature set the shipped models are compared with review by review (the reference).
REFERENCE = "unigram_bigram"
BOOTSTRAP_RESAMPLES = 100_000
BEATS, MATCHES, BELOW = "beats", "matches", "below"


def _texts_and_labels(pipeline: Pipeline, split: str, limit: int | None) -> tuple[list[str], list[str], np.ndarray]:
    """The split's ids, standardised texts and labels; ``limit`` takes a label-balanced subset."""
    corpus = pipeline.corpus
    ids = pipeline.split_ids(split, limit)
    return ids, [" ".join(words(corpus[i].text)) for i in ids], np.array([corpus[i].label for i in ids])


def linear_reference(config: Config, pipeline: Pipeline, limit: int | None = None,
                     families: Sequence[str] = MODEL_FAMILIES) -> dict[str, Any]:
    """Validation accuracy of TF-IDF + logistic regression per feature set, beside the shipped
    models' own (from their cards, only when the whole split was used) and each model's paired
    difference from the uni+bigram reference."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    _, train_texts, train_labels = _texts_and_labels(pipeline, TRAINING_SPLIT, limit)
    val_ids, val_texts, val_labels = _texts_and_labels(pipeline, VALIDATION_SPLIT, limit)
    result: dict[str, Any] = {"training": len(train_texts), "validation": len(val_texts)}
    predictions: dict[str, np.ndarray] = {}
    for name, (ngrams, capped) in FEATURE_SETS.items():
        vectorizer = TfidfVectorizer(max_features=config.text.vocab_size if capped else None, ngram_range=ngrams,
                                     token_pattern=r"\S+", sublinear_tf=True)
        classifier = LogisticRegression(max_iter=MAX_ITERATIONS)
        classifier.fit(vectorizer.fit_transform(train_texts), train_labels)
        predicted = predictions[name] = classifier.predict(vectorizer.transform(val_texts))
        result[f"{name}_accuracy"] = round(float(np.mean(predicted == val_labels)), ROUND)
        result[f"{name}_features"] = len(vectorizer.vocabulary_)
        result.update(_ordinal_scores(name, pipeline.labels, val_labels, predicted))
    if limit is None:
        for family in families:
            scores = _card_scores(config, family, len(val_texts), result)
            if scores:
                model_correct = _model_correct(config.with_overrides(model=family), val_ids, val_labels)
                scores.update(_prefixed(family, paired_difference(model_correct, predictions[REFERENCE] == val_labels,
                                                                  config.seed)))
            result.update(scores)
    return result


def _prefixed(family: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {f"{family}_{REFERENCE}_{key}": value for key, value in figures.items()}


def _model_correct(config: Config, ids: list[str], labels: np.ndarray) -> np.ndarray:
    """Whether the shipped Keras model of ``config.model`` gets each of ``ids`` right."""
    from imdb.models.inference import predict_logits
    from imdb.models.loading import load_keras_model

    pipeline = Pipeline(config)
    model = load_keras_model(config, pipeline.labels)
    return np.argmax(predict_logits(pipeline, model, ids, progress=False), axis=-1) == labels


def paired_difference(model_correct: np.ndarray, reference_correct: np.ndarray, seed: int) -> dict[str, Any]:
    """Accuracy of the model minus the reference's on the same reviews, with a paired bootstrap
    interval and its verdict (``beats`` when the whole interval is above zero, ``below`` when it
    is all under, else ``matches``), and McNemar's exact test beside it.

    Each review contributes +1, 0 or -1 to the difference, so a resample of the reviews is a
    multinomial draw of those three counts: exact, and cheap enough for enough resamples that the
    interval's ends do not move with the seed."""
    from scipy.stats import binomtest

    model_only = int(np.sum(model_correct & ~reference_correct))
    reference_only = int(np.sum(~model_correct & reference_correct))
    reviews = len(model_correct)
    shares = np.array([model_only, reviews - model_only - reference_only, reference_only]) / reviews
    counts = np.random.default_rng(seed).multinomial(reviews, shares, size=BOOTSTRAP_RESAMPLES)
    tail = (1.0 - CONFIDENCE) / 2.0
    low, high = np.quantile((counts[:, 0] - counts[:, 2]) / reviews, [tail, 1.0 - tail])
    verdict = BEATS if low > 0 else BELOW if high < 0 else MATCHES
    disagreements = model_only + reference_only
    exact_p = binomtest(model_only, disagreements).pvalue if disagreements else 1.0
    return {"difference": round((model_only - reference_only) / reviews, ROUND),
            "interval": [round(float(low), ROUND), round(float(high), ROUND)], "verdict": verdict,
            "model_only_right": model_only, "reference_only_right": reference_only,
            "mcnemar_exact_p": round(float(exact_p), ROUND)}


def _ordinal_scores(name: str, label_names: tuple[str, ...], labels: np.ndarray,
                    predicted: np.ndarray) -> dict[str, float]:
    """Macro-F1 and star MAE of one feature set, for ordinal classes only (none otherwise)."""
    stars = class_values(label_names)
    if stars is None:
        return {}
    counts = confusion_counts(labels, predicted, len(label_names))
    return {f"{name}_macro_f1": round(macro_f1(counts), ROUND),
            f"{name}_star_mae": round(float(np.abs(stars[predicted] - stars[labels]).mean()), ROUND)}


def _card_scores(config: Config, family: str, validation_samples: int, result: dict[str, Any]) -> dict[str, Any]:
    """A shipped model's validation numbers from its card, with its ratio to the unigram
    reference, when the card scored the same validation split (and exists for this task)."""
    card = read_card(config.with_overrides(model=family))
    if "validation_accuracy" not in card or card.get("validation_samples") != validation_samples:
        return {}
    scores = {f"{family}_accuracy": card["validation_accuracy"],
              f"{family}_vs_unigram": round(card["validation_accuracy"] / result["unigram_accuracy"], ROUND)}
    if "validation_star_mae" in card:
        scores[f"{family}_star_mae"] = card["validation_star_mae"]
        scores[f"{family}_macro_f1"] = card["validation_macro_f1"]
    return scores
