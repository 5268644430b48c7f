"""Word attributions on real reviews: alignment with the model's tokens, completeness of
integrated gradients (dense and BERT), and the deletion test against random words with the
committed dense model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imdb.contract.config import Config, load_config
from imdb.tools.explain import (GRADIENT_X_INPUT, INTEGRATED_GRADIENTS, METHODS, Explainer, explain, faithfulness,
                          find_layer)
from imdb.models.inference import batch_inputs, run_model
from imdb.runtime.pipeline import Pipeline

REVIEWS = 6
IG_STEPS = 64
# Completeness: |sum(scores) - (f(x) - f(baseline))| within this share of |f(x) - f(baseline)|
# plus an absolute slack (the Riemann error of IG_STEPS midpoints is far below both).
COMPLETENESS_RELATIVE = 0.02
COMPLETENESS_ABSOLUTE = 0.01
DELETION_SAMPLES = 200
DELETION_K = 10
# "A clear margin": the top-k deletion costs at least this much more probability than random,
# at least this many times as much, and hurts more on this share of the reviews.
MIN_MARGIN = 0.2
MIN_RATIO_TO_RANDOM = 5.0
MIN_WIN_RATE = 0.9
BERT_LEN = 32
BERT_REVIEWS = 2


@pytest.fixture(scope="module")
def dense_config(imdb_data_uri: str, data_root: Path) -> Config:
    return load_config(environ={}, model="dense", data=imdb_data_uri, data_root=data_root)


@pytest.fixture(scope="module")
def dense_pipeline(dense_config: Config) -> Pipeline:
    return Pipeline(dense_config)


@pytest.fixture(scope="module")
def review_ids(dense_pipeline: Pipeline) -> list[str]:
    """Reviews of both labels from the validation split."""
    ids = dense_pipeline.split_ids("validation")
    return ids[: REVIEWS // 2] + ids[-REVIEWS // 2:]


@pytest.mark.parametrize("method", METHODS)
def test_attributions_align_with_the_model_tokens(dense_pipeline: Pipeline, review_ids: list[str], method: str) -> None:
    explainer = Explainer(dense_pipeline)
    attributions = explainer.explain(review_ids, method, steps=8, progress=False)
    logits = run_model(explainer.model, batch_inputs(dense_pipeline, review_ids))
    length = dense_pipeline.config.sequence_length
    for attribution, sample_logits, sample_id in zip(attributions, logits, review_ids):
        expected_tokens = dense_pipeline.encoder.display_tokens(dense_pipeline.model_input(sample_id, "input_tokens"))
        assert attribution.sample_id == sample_id
        assert attribution.tokens == expected_tokens and len(attribution.scores) == length
        assert attribution.scores.dtype == np.float32
        padding = np.array([token == "" for token in attribution.tokens])
        assert not attribution.scores[padding].any(), "padding positions must carry no attribution"
        assert attribution.words == [token for token in expected_tokens if token]
        np.testing.assert_allclose(attribution.word_scores, attribution.scores[~padding], rtol=1e-6)
        assert attribution.predicted == int(np.argmax(sample_logits))
        assert np.abs(attribution.scores).max() > 0


def test_integrated_gradients_is_complete_for_dense(dense_pipeline: Pipeline, review_ids: list[str]) -> None:
    for attribution in explain(dense_pipeline, review_ids, INTEGRATED_GRADIENTS, steps=IG_STEPS, progress=False):
        delta = attribution.target - attribution.baseline_target
        assert abs(delta) > COMPLETENESS_ABSOLUTE, "the baseline should change the prediction's log-odds"
        assert abs(attribution.completeness_gap) <= COMPLETENESS_RELATIVE * abs(delta) + COMPLETENESS_ABSOLUTE


def test_gradient_x_input_with_zero_baseline_is_the_textbook_product(dense_pipeline: Pipeline,
                                                                      review_ids: list[str]) -> None:
    """With the zero baseline the score is grad . embedding summed over the embedding axis."""
    import tensorflow as tf

    explainer = Explainer(dense_pipeline, baseline="zero")
    attribution = explainer.explain(review_ids[:1], GRADIENT_X_INPUT, progress=False)[0]
    inputs = batch_inputs(dense_pipeline, review_ids[:1])
    embedded = explainer.split.embed(inputs)
    with tf.GradientTape() as tape:
        tape.watch(embedded)
        margin = tf.reduce_sum(explainer.split.logits(embedded, inputs) * ([-1.0, 1.0] if attribution.predicted else
                                                                           [1.0, -1.0]), axis=-1)
    expected = tf.reduce_sum(tape.gradient(margin, embedded) * embedded, axis=-1).numpy()[0]
    review = np.array([bool(token) for token in attribution.tokens])
    np.testing.assert_allclose(attribution.scores[review], expected[review], rtol=1e-4, atol=1e-6)


def test_the_split_leaves_the_cached_model_untouched(dense_pipeline: Pipeline, review_ids: list[str]) -> None:
    explainer = Explainer(dense_pipeline)
    inputs = batch_inputs(dense_pipeline, review_ids)
    before = run_model(explainer.model, inputs)
    explainer.explain(review_ids, INTEGRATED_GRADIENTS, steps=4, progress=False)
    assert "call" not in vars(explainer.split.layer), "the substituted call must be removed"
    np.testing.assert_array_equal(run_model(explainer.model, inputs), before)


@pytest.mark.parametrize("method", METHODS)
def test_deleting_the_top_words_beats_deleting_random_words(dense_config: Config, method: str) -> None:
    result = faithfulness(dense_config, method, DELETION_SAMPLES, DELETION_K)
    assert result["n"] == DELETION_SAMPLES and result["k"] == DELETION_K and result["method"] == method
    assert result["margin"] >= MIN_MARGIN, result
    assert result["mean_drop_top_k"] >= MIN_RATIO_TO_RANDOM * max(result["mean_drop_random"], 0.0), result
    assert result["win_rate"] >= MIN_WIN_RATE, result
    assert result["flip_rate_top_k"] > result["flip_rate_random"], result


def test_unknown_method_baseline_or_layer_is_refused(dense_pipeline: Pipeline, review_ids: list[str]) -> None:
    with pytest.raises(ValueError, match="attribution method must be one of"):
        explain(dense_pipeline, review_ids[:1], "saliency", progress=False)
    with pytest.raises(ValueError, match="baseline must be one of"):
        Explainer(dense_pipeline, baseline="mean")
    import keras

    tokens = keras.Input(shape=(dense_pipeline.config.sequence_length,), name="input_tokens")
    bare = keras.Model(tokens, keras.layers.Dense(2, name="logits")(tokens))
    with pytest.raises(ValueError, match="no layer named 'embedding'"):
        Explainer(dense_pipeline, bare)


# ---------------------------------------------------------------- BERT


@pytest.fixture(scope="module")
def bert_setup(imdb_data_uri: str, data_root: Path, bert_checkpoint: Path):
    """A BERT classifier built from the real checkpoint (pretrained backbone, fresh head)."""
    import keras

    from imdb.models.bert import build_classifier

    config = load_config(environ={}, model="bert", data=imdb_data_uri, data_root=data_root,
                         **{"bert.max_len": BERT_LEN, "bert.checkpoint": str(bert_checkpoint)})
    keras.utils.set_random_seed(config.seed)
    return Pipeline(config), build_classifier(config)


def test_bert_attributions_are_per_wordpiece_merged_into_words_and_complete(bert_setup) -> None:
    from imdb.text.wordpiece import CLS_TOKEN, SEP_TOKEN, merge_wordpieces

    pipeline, model = bert_setup
    assert find_layer(model, "token_embedding") is not None, "the WordPiece embedding sits inside the backbone"
    ids = pipeline.split_ids("validation")[:BERT_REVIEWS]
    for attribution in Explainer(pipeline, model).explain(ids, INTEGRATED_GRADIENTS, steps=IG_STEPS, progress=False):
        expected_tokens = pipeline.encoder.display_tokens(pipeline.model_input(attribution.sample_id, "input_ids"))
        assert attribution.tokens == expected_tokens and len(attribution.scores) == BERT_LEN
        special = np.array([token in ("", CLS_TOKEN, SEP_TOKEN) for token in attribution.tokens])
        assert not attribution.scores[special].any()
        words, word_scores = merge_wordpieces(attribution.tokens, attribution.scores)
        assert attribution.words == words
        np.testing.assert_allclose(attribution.word_scores, word_scores, rtol=1e-6)
        delta = attribution.target - attribution.baseline_target
        assert abs(attribution.completeness_gap) <= COMPLETENESS_RELATIVE * abs(delta) + COMPLETENESS_ABSOLUTE
