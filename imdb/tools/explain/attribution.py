"""Word heatmaps: gradient x input and integrated gradients on the word-embedding output.

What is explained: the predicted class's log-odds against the other classes,
``f = logit[c] - logsumexp(logit[others])`` (for two classes, the logit margin). Log-odds,
not the probability, because the softmax saturates on confident predictions and its
gradient vanishes exactly where the model is surest. A positive score pushes towards the
predicted class.

Both methods measure a word against a **baseline**: ``pad`` (default) replaces every word of
the review by the padding token's embedding, which is what a deleted word looks like to
these unmasked models and what the deletion test does; ``zero`` uses the zero vector (the
textbook gradient x input). Integrated gradients satisfies completeness,
``sum(scores) = f(x) - f(baseline)`` up to the Riemann error of ``steps``, which the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from imdb.tools.explain.methods import (ALL_METHODS, BASELINES, DEFAULT_BASELINE, DEFAULT_METHOD, DEFAULT_STEPS,
                                        EXACT, GRADIENT_X_INPUT, INTEGRATED_GRADIENTS, METHODS)
from imdb.tools.explain.split import EmbeddingSplit, TokenSpec, token_spec
from imdb.contract.config import Config
from imdb.models.inference import batch_inputs
from imdb.models.loading import load_keras_model
from imdb.runtime.pipeline import Pipeline
# Rows (samples x interpolation steps) per forward/backward pass: a word model's row is
# 600 x 64 floats, a BERT row runs six transformer layers, so BERT takes far fewer at once.
# The tape keeps every layer's attention activations, about 220 MB a BERT row at 256 WordPieces:
# measured on 16 reviews (2 cores), 32 rows a pass peaked at 8.2 GB, 16 at 4.6 GB, 8 at 2.8 GB
# and 4 at 1.9 GB, and 8 was also the fastest (21.5 s against 27.8 s for 32).
# The recurrent family's tape keeps every one of its 600 steps (about 9 MB a row): on 16 reviews
# x 32 steps, 512 rows a pass peaked at 5.3 GB (28.2 s), 256 at 3.2 GB (33.8 s), 128 at 2.0 GB
# (51.9 s); 128 keeps analyze's 3 GB and the bench's 4 GB for a word family.
WORD_ROWS_PER_PASS = 512
BERT_ROWS_PER_PASS = 8
RECURRENT_ROWS_PER_PASS = 128
RECURRENT_FAMILY = "rnn"


@dataclass(frozen=True)
class Attribution:
    """One review's heatmap: one score per model position, and the same merged into words.

    ``tokens`` are ``encoder.display_tokens`` of the model input (``""`` for padding), so the
    scores line up with the binder's ``review`` visualizer. ``words``/``word_scores`` are what
    a reader sees: the non-padding tokens, with BERT's WordPieces merged into whole words.
    """

    sample_id: str
    method: str
    predicted: int
    tokens: list[str]
    scores: np.ndarray
    words: list[str]
    word_scores: list[float]
    target: float
    baseline_target: float

    @property
    def completeness_gap(self) -> float:
        """``sum(scores) - (f(x) - f(baseline))``: ~0 for integrated gradients."""
        return float(self.scores.sum()) - (self.target - self.baseline_target)


class Explainer:
    """Batched attributions for one pipeline (encoder, corpus) and one Keras model."""

    def __init__(self, pipeline: Pipeline, model: Any = None, *, baseline: str = DEFAULT_BASELINE,
                 rows_per_pass: int | None = None) -> None:
        if baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
        self.pipeline = pipeline
        self.model = load_keras_model(pipeline.config) if model is None else model
        self.spec: TokenSpec = token_spec(pipeline.config, pipeline.encoder)
        self.split = EmbeddingSplit(self.model, self.spec, pipeline.encoder.input_names)
        self.baseline = baseline
        self.rows_per_pass = rows_per_pass or default_rows_per_pass(pipeline.config)
        self._exact_weights: Any = None

    def explain(self, ids: Sequence[str], method: str = DEFAULT_METHOD, *, steps: int = DEFAULT_STEPS,
                progress: bool = True) -> list[Attribution]:
        """Attributions for ``ids`` (in order), towards each sample's predicted class."""
        if method == EXACT:
            return self._explain_exact(ids)
        if method not in METHODS:
            raise ValueError(f"attribution method must be one of {', '.join(ALL_METHODS)}, got {method!r}")
        if steps < 1:
            raise ValueError(f"integrated gradients needs at least 1 step, got {steps}")
        samples_per_pass = max(1, self.rows_per_pass // (steps if method == INTEGRATED_GRADIENTS else 1))
        results: list[Attribution] = []
        starts = range(0, len(ids), samples_per_pass)
        for start in tqdm(starts, desc=f"attributions ({method})", unit="batch",
                          disable=not progress or len(starts) < 2):
            results.extend(self._explain_batch(list(ids[start:start + samples_per_pass]), method, steps))
        return results

    def _explain_exact(self, ids: Sequence[str]) -> list[Attribution]:
        """The n-gram family's exact decomposition (``imdb.tools.explain.exact``): ``target`` is the
        logit contrast towards the predicted class, ``baseline_target`` the bias's, so the
        completeness gap is zero up to float rounding."""
        from imdb.tools.explain.exact import exact_heatmaps, served_weights

        if self._exact_weights is None:
            self._exact_weights = served_weights(self.pipeline, self.model)
        results = []
        for sample_id, (tokens, heat, bias_share) in zip(ids, exact_heatmaps(self.pipeline, self._exact_weights, ids)):
            results.append(Attribution(
                sample_id=sample_id, method=EXACT, predicted=heat.target, tokens=tokens,
                scores=heat.position_scores.astype(np.float32), words=heat.words,
                word_scores=[float(value) for value in heat.word_scores],
                target=heat.explained + bias_share, baseline_target=bias_share))
        return results

    def _explain_batch(self, ids: list[str], method: str, steps: int) -> list[Attribution]:
        inputs = batch_inputs(self.pipeline, ids)
        embedded = self.split.embed(inputs)
        review = self.spec.review_positions(inputs[self.spec.token_input])
        base = self._baseline(embedded, review)
        logits = self.split.logits(embedded, inputs)
        classes = tf.argmax(logits, axis=-1, output_type=tf.int32)
        target = predicted_log_odds(logits, classes)
        baseline_target = predicted_log_odds(self.split.logits(base, inputs), classes)
        if method == GRADIENT_X_INPUT:
            gradients = self._gradients(embedded, inputs, classes)
        else:
            gradients = self._path_gradients(embedded, base, inputs, classes, steps)
        scores = tf.reduce_sum((embedded - base) * gradients, axis=-1).numpy()
        scores[~review] = 0.0
        return [self._attribution(sample_id, method, int(classes[row]), inputs, row, scores[row],
                                  float(target[row]), float(baseline_target[row]))
                for row, sample_id in enumerate(ids)]

    def _baseline(self, embedded: tf.Tensor, review: np.ndarray) -> tf.Tensor:
        """Review words replaced by the baseline vector; padding and [CLS]/[SEP] kept as they are."""
        if self.baseline == "pad":
            vector = self.split.token_embedding(self.spec.pad_id)
        else:
            vector = tf.zeros(embedded.shape[-1], dtype=embedded.dtype)
        keep = tf.constant(review[..., np.newaxis])
        return tf.where(keep, tf.broadcast_to(vector, embedded.shape), embedded)

    def _gradients(self, embedded: tf.Tensor, inputs: dict[str, np.ndarray], classes: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(embedded)
            target = predicted_log_odds(self.split.logits(embedded, inputs), classes)
        return tape.gradient(target, embedded)

    def _path_gradients(self, embedded: tf.Tensor, base: tf.Tensor, inputs: dict[str, np.ndarray],
                        classes: tf.Tensor, steps: int) -> tf.Tensor:
        """Mean gradient along the straight path baseline -> input (midpoint Riemann sum).

        The batch's samples are repeated once per step and all steps go through the model
        in one pass, so a batch costs one forward and one backward pass.
        """
        batch = int(embedded.shape[0])
        alphas = (np.arange(steps, dtype=np.float32) + 0.5) / steps
        alpha = tf.constant(np.tile(alphas, batch).reshape(-1, 1, 1))
        path = tf.repeat(base, steps, axis=0) + alpha * tf.repeat(embedded - base, steps, axis=0)
        repeated = {name: np.repeat(values, steps, axis=0) for name, values in inputs.items()}
        gradients = self._gradients(path, repeated, tf.repeat(classes, steps))
        return tf.reduce_mean(tf.reshape(gradients, (batch, steps, *gradients.shape[1:])), axis=1)

    def _attribution(self, sample_id: str, method: str, predicted: int, inputs: dict[str, np.ndarray], row: int,
                     scores: np.ndarray, target: float, baseline_target: float) -> Attribution:
        tokens = self.pipeline.encoder.display_tokens(inputs[self.spec.token_input][row])
        words, word_scores = to_words(tokens, scores, self.pipeline.config.uses_bert, self.pipeline.config.is_ngram)
        return Attribution(sample_id=sample_id, method=method, predicted=predicted, tokens=tokens,
                           scores=scores.astype(np.float32), words=words, word_scores=word_scores,
                           target=target, baseline_target=baseline_target)


def default_rows_per_pass(config: Config) -> int:
    """Rows of one attribution pass for the configured family: what its tape costs a row decides."""
    if config.uses_bert:
        return BERT_ROWS_PER_PASS
    return RECURRENT_ROWS_PER_PASS if config.model == RECURRENT_FAMILY else WORD_ROWS_PER_PASS


def predicted_log_odds(logits: tf.Tensor, classes: tf.Tensor) -> tf.Tensor:
    """``logit[c] - logsumexp(logit[others])`` per row: the predicted class's log-odds."""
    num_classes = logits.shape[-1]
    chosen = tf.one_hot(classes, num_classes) > 0
    own = tf.reduce_sum(tf.where(chosen, logits, tf.zeros_like(logits)), axis=-1)
    others = tf.where(chosen, tf.fill(tf.shape(logits), -np.inf), logits)
    return own - tf.reduce_logsumexp(others, axis=-1)


def to_words(tokens: Sequence[str], scores: np.ndarray, is_bert: bool,
             is_ngram: bool = False) -> tuple[list[str], list[float]]:
    """What a reader sees: non-padding tokens with their scores; WordPieces merged for BERT; for
    the n-gram family each n-gram's score split equally among its words (``split_among_words``)."""
    if is_ngram:
        from imdb.runtime.ngram_explain import split_among_words

        words, word_scores = split_among_words(tokens, scores)
        return words, [float(value) for value in word_scores]
    if is_bert:
        from imdb.text.wordpiece import merge_wordpieces

        return merge_wordpieces(tokens, [float(value) for value in scores])
    kept = [(token, float(score)) for token, score in zip(tokens, scores) if token]
    return [token for token, _ in kept], [score for _, score in kept]


def explain(pipeline: Pipeline, ids: Sequence[str], method: str = DEFAULT_METHOD, *, model: Any = None,
            steps: int = DEFAULT_STEPS, baseline: str = DEFAULT_BASELINE, progress: bool = True) -> list[Attribution]:
    """Attributions for ``ids`` with the configured family's trained Keras model (or ``model``)."""
    return Explainer(pipeline, model, baseline=baseline).explain(ids, method, steps=steps, progress=progress)
