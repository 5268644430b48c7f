"""N-gram family training: vocabulary, naive Bayes scaling, a logistic regression, its weights into Keras.

Why a regression fitted by scikit-learn rather than gradient descent in Keras: the model is
linear over a binary bag of n-grams, where a convex solver reaches the optimum in seconds; the
Keras graph (imdb.models.ngram) then computes the same logits and is exported like every family.
For two classes each n-gram's feature is scaled by its naive Bayes log-count ratio
(Wang & Manning 2012, the NB-SVM/NB-LR recipe): the regression learns how far to trust the
count statistics, which beats plain binary features by about a point on IMDB. For more classes
with a polarity (``task: rating``: 1–4 stars negative, 7–10 positive) the ratio is counted on the
polarity of each class: the stars are graded sentiment, and scaling by how strongly an n-gram leans
negative or positive lifted rating accuracy by 1.6 points over binary features on a held-back
fifth of the training split (0.4676 against 0.4514 at C=0.03). The regularisation
strength is chosen by cross-validation on the training split only; validation scores the result.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from imdb.contract.config import Config
from imdb.contract.model_files import EMBEDDING_LAYER, WORD_INPUT, read_card
from imdb.contract.names import TRAINING, VALIDATION
from imdb.models.build import build_model
from imdb.runtime import scoring
from imdb.runtime.ngram_explain import NgramWeights, ngram_weights_path, save_ngram_weights
from imdb.runtime.pipeline import Pipeline
from imdb.text.ngrams import build_vocabulary
from imdb.text.words import PAD_ID, WordVocabulary, words
from imdb.training import balance
from imdb.training.artifacts import classes_card, save_keras_model, write_card

LOG = logging.getLogger(__name__)
# Additive smoothing of the naive Bayes counts (Wang & Manning's alpha).
NB_SMOOTHING = 1.0
# The Keras graph must reproduce the regression's logits; float32 summation order allows this much.
LOGIT_TOLERANCE = 1e-3
CARD_DIGITS = 4


def bag_matrix(pipeline: Pipeline, split: str, vocab_size: int,
               ids: Sequence[str] | None = None) -> tuple[Any, np.ndarray]:
    """The split's (or just ``ids``') binary n-gram bags (sparse, one column per vocabulary id)
    built from the very inputs the binder serves, and the integer labels."""
    ids = pipeline.split_ids(split) if ids is None else list(ids)
    labels = np.array([int(np.argmax(pipeline.ground_truth(i))) for i in ids], dtype=np.int64)
    return bags_of(pipeline, ids, vocab_size), labels


def bags_of(pipeline: Pipeline, ids: Sequence[str], vocab_size: int) -> Any:
    """The binary n-gram bags of ``ids`` (sparse, one row each), labelled or not."""
    from scipy.sparse import csr_matrix

    rows, columns = [], []
    for row, sample_id in enumerate(ids):
        tokens = pipeline.model_input(sample_id, WORD_INPUT).astype(np.int64)
        present = tokens[tokens != PAD_ID]
        rows.append(np.full(len(present), row))
        columns.append(present)
    row_index, column_index = np.concatenate(rows), np.concatenate(columns)
    return csr_matrix((np.ones(len(row_index), np.float32), (row_index, column_index)), shape=(len(ids), vocab_size))


def nb_targets(labels: np.ndarray, num_classes: int, polarity: tuple[int, ...] | None) -> np.ndarray | None:
    """The two-sided labels the naive Bayes ratios are counted on: the labels themselves for two
    classes, each class's polarity for more classes that have one, None where there is neither."""
    if num_classes == 2:
        return labels
    if polarity is None:
        return None
    return np.asarray(polarity, dtype=np.int64)[labels]


def nb_ratios(bags: Any, labels: np.ndarray) -> np.ndarray:
    """Per n-gram, log of its smoothed share among positive reviews over its share among negative ones."""
    positive = NB_SMOOTHING + np.asarray(bags[labels == 1].sum(axis=0)).ravel()
    negative = NB_SMOOTHING + np.asarray(bags[labels == 0].sum(axis=0)).ravel()
    return np.log((positive / positive.sum()) / (negative / negative.sum())).astype(np.float32)


def scaled(bags: Any, targets: np.ndarray | None) -> tuple[Any, np.ndarray]:
    """The features the regression fits: binary bags, scaled by the naive Bayes ratios of the
    two-sided ``targets`` when given (see ``nb_targets``)."""
    scale = nb_ratios(bags, targets) if targets is not None else np.ones(bags.shape[1], np.float32)
    return bags.multiply(scale).tocsr(), scale


def choose_regularization(config: Config, bags: Any, labels: np.ndarray, weights: np.ndarray | None,
                          targets: np.ndarray | None) -> tuple[float, dict[str, float]]:
    """The candidate C with the best mean accuracy over stratified folds of the training split.

    The naive Bayes ratios are recounted on each fold's own part: counted on the whole split,
    they would carry the held-out labels into the features and flatter every candidate."""
    params = config.ngram
    if len(params.regularization) == 1:
        return params.regularization[0], {}
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(params.cross_validation_folds, shuffle=True, random_state=config.seed)
    accuracies: dict[float, list[float]] = {strength: [] for strength in params.regularization}
    for fit_rows, held_rows in folds.split(np.zeros(len(labels)), labels):
        features, scale = scaled(bags[fit_rows], None if targets is None else targets[fit_rows])
        held = bags[held_rows].multiply(scale).tocsr()
        for strength in params.regularization:
            classifier = regression(config, strength)
            classifier.fit(features, labels[fit_rows], sample_weight=None if weights is None else weights[fit_rows])
            accuracies[strength].append(float(np.mean(classifier.predict(held) == labels[held_rows])))
    scores = {str(strength): round(float(np.mean(values)), CARD_DIGITS) for strength, values in accuracies.items()}
    for strength, score in scores.items():
        LOG.info("ngram: C=%s cross-validated accuracy %.4f", strength, score)
    best = max(params.regularization, key=lambda strength: scores[str(strength)])
    return best, scores


def regression(config: Config, strength: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=strength, max_iter=config.ngram.max_iterations)


def class_weight_table(classifier: Any, scale: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-n-gram, per-class weights and per-class bias with the same softmax as the regression.

    A two-class regression has one weight vector ``w`` (logit of class 1 minus class 0): split
    it as ``-w/2, +w/2`` so each class's logit is explicit; the feature scaling folds into it."""
    coefficients = classifier.coef_ * scale[None, :]
    intercept = classifier.intercept_
    if num_classes == 2 and coefficients.shape[0] == 1:
        half = coefficients[0] / 2.0
        return np.stack([-half, half], axis=1).astype(np.float32), np.array([-intercept[0] / 2, intercept[0] / 2],
                                                                             np.float32)
    return coefficients.T.astype(np.float32), intercept.astype(np.float32)


def train_ngram_model(config: Config, *, progress: bool = True) -> dict[str, Any]:
    """Build the n-gram vocabulary from the training split, fit the regression, save model and card."""
    del progress  # a convex solver has no epochs to show
    started = time.perf_counter()
    pipeline = Pipeline(config)
    corpus, params = pipeline.corpus, config.ngram
    num_classes = len(pipeline.labels)
    vocabulary = build_vocabulary((words(corpus[i].text) for i in corpus.ids(TRAINING)), params.max_n,
                                  params.vocab_size, params.min_documents)
    vocabulary.save(params.vocab_file)
    LOG.info("n-gram vocabulary of %d entries written to %s", len(vocabulary), params.vocab_file)

    x_train, y_train = bag_matrix(pipeline, TRAINING, len(vocabulary))
    x_val, y_val = bag_matrix(pipeline, VALIDATION, len(vocabulary))
    # The document counts of the weights asset are the training split's own, before oversampling.
    x_train_counted, y_train_counted = x_train, y_train
    if config.class_balance == balance.OVERSAMPLE:
        chosen = balance.oversampled_positions(y_train, config.seed)
        x_train, y_train = x_train[chosen], y_train[chosen]
    weights = balance.sample_weights(y_train, num_classes, config.class_balance)
    targets = nb_targets(y_train, num_classes, pipeline.polarity) if params.nb_weighting else None
    if params.nb_weighting and targets is None:
        LOG.info("ngram: naive Bayes scaling needs two classes or a polarity per class; %d classes without one "
                 "train on binary features (set `polarity:` to map them)", num_classes)
    strength, cv_scores = choose_regularization(config, x_train, y_train, weights, targets)
    features, scale = scaled(x_train, targets)
    classifier = regression(config, strength).fit(features, y_train, sample_weight=weights)
    table, bias = class_weight_table(classifier, scale, num_classes)

    model = build_model(config, len(vocabulary), num_classes)
    from imdb.models.ngram import set_linear_weights

    set_linear_weights(model, table, bias)
    x_val_inputs = np.stack([pipeline.model_input(i, WORD_INPUT) for i in pipeline.split_ids(VALIDATION)])
    logits = model.predict([x_val_inputs], verbose=0)
    _check_matches_regression(classifier, x_val.multiply(scale).tocsr(), logits)
    seconds = time.perf_counter() - started
    validation = scoring.summarize(y_val, logits, pipeline.labels)
    files = save_keras_model(model, config)
    files.append(write_weights_asset(config, model, x_train_counted, y_train_counted, num_classes))
    truncated = float(np.mean(np.asarray(x_train.sum(axis=1)).ravel() >= params.max_ngrams))
    card = {
        "family": config.model,
        "data": config.as_given("data"),
        "train_samples": int(x_train.shape[0]),
        "validation_samples": int(x_val.shape[0]),
        "vocab_size": len(vocabulary),
        "sequence_length": params.max_ngrams,
        "train_seconds": round(seconds, 1),
        "validation_accuracy": round(validation["accuracy"], CARD_DIGITS),
        "validation_loss": round(validation["loss"], CARD_DIGITS),
        "validation_macro_f1": round(validation["macro_f1"], CARD_DIGITS),
        **classes_card(config, pipeline, validation),
        "regularization": strength,
        "cross_validated_accuracy": cv_scores,
        "nb_weighting_applied": targets is not None,
        "nb_weighting_on": None if targets is None else ("labels" if num_classes == 2 else "polarity"),
        "training_share_at_max_ngrams": round(truncated, CARD_DIGITS),
        "params": {"max_n": params.max_n, "vocab_size": params.vocab_size, "min_documents": params.min_documents,
                   "max_ngrams": params.max_ngrams, "regularization": list(params.regularization),
                   "nb_weighting": params.nb_weighting},
        "files": [str(path.name) for path in files],
    }
    write_card(config, card)
    return card


def refitted_logits(pipeline: Pipeline, fit_ids: Sequence[str], score_ids: Sequence[str]) -> np.ndarray:
    """Logits of ``score_ids`` (labelled or not) from the trained n-gram model's regression (its
    card's C and naive Bayes scaling, its vocabulary) refitted on the labelled ``fit_ids`` alone:
    what the ensemble's weight and the word families' distillation learn from, so that neither sees
    logits of a regression that was fitted on the reviews they are judged on. ``pipeline`` serves
    the n-gram family (its inputs are the n-gram ids)."""
    config = pipeline.config
    vocab_size = len(WordVocabulary.load(config.ngram.vocab_file, family="ngram"))
    fit_bags, fit_labels = bag_matrix(pipeline, TRAINING, vocab_size, fit_ids)
    num_classes = len(pipeline.labels)
    card = read_card(config)
    strength = card.get("regularization", config.ngram.regularization[0])
    targets = nb_targets(fit_labels, num_classes, pipeline.polarity) if card.get("nb_weighting_applied") else None
    features, scale = scaled(fit_bags, targets)
    classifier = regression(config, strength).fit(features, fit_labels)
    table, bias = class_weight_table(classifier, scale, num_classes)
    return np.asarray(bags_of(pipeline, score_ids, vocab_size) @ table, dtype=np.float32) + bias


def document_counts(bags: Any, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Reviews of each class containing each n-gram: (vocabulary, classes) int32."""
    return np.stack([np.asarray(bags[labels == cls].sum(axis=0)).ravel() for cls in range(num_classes)],
                    axis=1).astype(np.int32)


def write_weights_asset(config: Config, model: Any, bags: Any, labels: np.ndarray, num_classes: int) -> Path:
    """The exact heatmaps' weights (read from the Keras graph, so they are the served model's) and
    the training split's document counts, beside the vocabulary (``ngram_weights_path``)."""
    from imdb.models.ngram import linear_weights

    table, bias = linear_weights(model)
    weights = NgramWeights(table=table, bias=bias, document_counts=document_counts(bags, labels, num_classes))
    path = save_ngram_weights(ngram_weights_path(config), weights)
    LOG.info("n-gram weights and document counts written to %s", path)
    return path


def refresh_weights_asset(config: Config) -> Path:
    """Rewrite the weights asset of the trained model ``config`` names, without retraining (its
    weights from the Keras file, the counts recounted on the training split)."""
    from imdb.models.loading import load_keras_model

    pipeline = Pipeline(config)
    model = load_keras_model(config, pipeline.labels)
    vocab_size = int(model.get_layer(EMBEDDING_LAYER).get_weights()[0].shape[0])
    bags, labels = bag_matrix(pipeline, TRAINING, vocab_size)
    return write_weights_asset(config, model, bags, labels, len(pipeline.labels))


def _check_matches_regression(classifier: Any, features: Any, logits: np.ndarray) -> None:
    """The Keras graph's logit differences must be the regression's decision values."""
    decision = classifier.decision_function(features)
    if decision.ndim == 1:
        served = logits[:, 1] - logits[:, 0]
    else:
        served = logits - logits.mean(axis=1, keepdims=True)
        decision = decision - decision.mean(axis=1, keepdims=True)
    gap = float(np.max(np.abs(served - decision))) if len(decision) else 0.0
    if gap > LOGIT_TOLERANCE:
        raise RuntimeError(f"the n-gram Keras graph departs from its regression by {gap:.2e} in the logits "
                           f"(tolerance {LOGIT_TOLERANCE}): the weight transfer is broken")
