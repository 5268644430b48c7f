"""Exact word heatmaps of the n-gram family: the split by hand, exactness on real reviews with the
shipped model, the weights asset against the model, the binder's heatmap function, and the
word-level deletion test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TL_DISABLE_ANALYTICS", "1")

import numpy as np
import pytest

from imdb.contract.config import REPO_ROOT, Config, load_config
from imdb.contract.model_files import ModelError
from imdb.runtime.ngram_explain import (NgramWeights, contrast, deciding_ngrams, exact_heatmap, split_among_words,
                                        word_positions)
from imdb.runtime.pipeline import Pipeline

REVIEWS = 24
# float32 graph (Keras sums 1,536 float32 weights) against the float64 decomposition.
LOGIT_TOLERANCE = 1e-3
DELETION_SAMPLES = 60
MIN_MARGIN = 0.2
MIN_WIN_RATE = 0.9
BINDER_TIMEOUT_S = 300
# Reviews per split of the small training run (the cross-validated C search included).
TRAINING_REVIEWS = 300


@pytest.fixture(scope="module")
def ngram_config(imdb_data_uri: str, data_root: Path) -> Config:
    return load_config(environ={}, model="ngram", data=imdb_data_uri, data_root=data_root)


@pytest.fixture(scope="module")
def ngram_pipeline(ngram_config: Config) -> Pipeline:
    return Pipeline(ngram_config)


@pytest.fixture(scope="module")
def keras_model(ngram_pipeline: Pipeline):
    from imdb.models.loading import load_keras_model

    return load_keras_model(ngram_pipeline.config, ngram_pipeline.labels)


@pytest.fixture(scope="module")
def review_ids(ngram_pipeline: Pipeline) -> list[str]:
    ids = ngram_pipeline.split_ids("validation")
    return ids[: REVIEWS // 2] + ids[-REVIEWS // 2:]


def test_a_bigram_is_split_equally_between_its_words() -> None:
    grams = ["not", "not good", "good", "", "very good film"]
    words, scores = split_among_words(grams, np.array([1.0, 2.0, -4.0, 9.0, 3.0]))
    assert words == ["not", "good", "very", "film"]
    np.testing.assert_allclose(scores, [1.0 + 1.0, 1.0 - 4.0 + 1.0, 1.0, 1.0])
    assert scores.sum() == pytest.approx(1.0 + 2.0 - 4.0 + 3.0), "padding carries nothing; nothing else is lost"
    assert word_positions(grams) == {"not": [0, 1], "good": [1, 2, 4], "very": [4], "film": [4]}


def test_exact_heatmap_by_hand_for_three_classes() -> None:
    """Class 2 against the mean of classes 0 and 1, n-gram by n-gram, then onto the words."""
    table = np.array([[0, 0, 0], [0, 0, 0], [1, 2, 6], [0, 4, -1], [3, 3, 3]], dtype=np.float32)
    weights = NgramWeights(table=table, bias=np.array([0.5, 0.0, -0.5], np.float32),
                           document_counts=np.ones_like(table, dtype=np.int32))
    heat = exact_heatmap(np.array([2, 3, 4, 0]), ["a", "a b", "b", ""], weights, target=2)
    np.testing.assert_allclose(heat.position_scores, [6 - 1.5, -1 - 2, 0, 0])
    assert heat.words == ["a", "b"]
    np.testing.assert_allclose(heat.word_scores, [4.5 - 1.5, -1.5])
    assert heat.explained == pytest.approx(contrast(heat.logits, 2) - contrast(weights.bias, 2))
    assert exact_heatmap(np.array([2, 3, 4, 0]), ["a", "a b", "b", ""], weights).target == int(np.argmax(heat.logits))


def test_word_scores_add_up_to_the_logit_difference_minus_bias(ngram_pipeline: Pipeline, keras_model,
                                                               review_ids: list[str]) -> None:
    from imdb.models.inference import batch_inputs, run_model
    from imdb.tools.explain import EXACT, Explainer

    logits = run_model(keras_model, batch_inputs(ngram_pipeline, review_ids))
    bias = ngram_pipeline.ngram_weights.bias
    attributions = Explainer(ngram_pipeline, keras_model).explain(review_ids, EXACT, progress=False)
    for attribution, served in zip(attributions, logits):
        predicted = int(np.argmax(served))
        other = 1 - predicted
        expected = (served[predicted] - served[other]) - (bias[predicted] - bias[other])
        assert attribution.predicted == predicted
        assert sum(attribution.word_scores) == pytest.approx(expected, abs=LOGIT_TOLERANCE)
        assert abs(attribution.completeness_gap) < LOGIT_TOLERANCE
        assert len(attribution.words) == len(set(attribution.words)) > 0
        tokens = [token for token in attribution.tokens if token]
        assert set(attribution.words) == {word for token in tokens for word in token.split(" ")}


def test_the_shipped_asset_holds_the_shipped_model_and_training_counts(ngram_pipeline: Pipeline,
                                                                       keras_model) -> None:
    from imdb.tools.explain.exact import served_weights

    weights = served_weights(ngram_pipeline, keras_model)
    training = ngram_pipeline.corpus.ids("training")
    per_class = np.bincount([ngram_pipeline.corpus.label(i) for i in training], minlength=2)
    vocabulary = ngram_pipeline.encoder.vocabulary
    counts = weights.document_counts
    assert (counts[0] == 0).all() and (counts <= per_class).all()
    assert counts[vocabulary.id_of("the")].sum() > 0.95 * len(training)
    worst = deciding_ngrams(weights, vocabulary.tokens, target=0, top=5)
    assert all(phrase.weight > 0 and phrase.documents_per_class[0] > phrase.documents_per_class[1] for phrase in worst)


def test_a_stale_asset_is_refused_naming_the_file(ngram_pipeline: Pipeline) -> None:
    from imdb.models.ngram import build_ngram
    from imdb.tools.explain.exact import served_weights

    table = ngram_pipeline.ngram_weights.table
    other = build_ngram(table.shape[0], ngram_pipeline.config.ngram.max_ngrams)
    with pytest.raises(ModelError, match="ngram_weights.npz"):
        served_weights(ngram_pipeline, other)


_BINDER_SCRIPT = """
import json, os
import numpy as np
from code_loader import LeapLoader
from code_loader.contract.datasetclasses import RawInputsForHeatmap
from imdb.runtime.ngram_explain import exact_heatmap
from imdb.runtime.pipeline import get_pipeline

# The platform's path: code-loader's registry, the raw-input argument it names, the heatmap it maps.
loader = LeapLoader(os.getcwd(), "leap_integration.py")
loader.exec_script()
raw_name = loader.get_heatmap_visualizer_raw_vis_input_arg_name("review")
pipeline = get_pipeline()
out = []
for state, sample_ids in loader.get_preprocess_sample_ids().items():
    for sample_id in sample_ids[:2]:
        ids = loader.get_sample(state, sample_id).inputs["input_tokens"][None]
        text = loader.run_visualizer("review", np.array([sample_id]), state, {"input_tokens": ids})
        heat = [np.asarray(loader.run_heatmap_visualizer(
                    "review", np.array([sample_id]), state,
                    {"input_tokens": np.random.default_rng(seed).normal(size=ids.shape).astype(np.float32),
                     raw_name: RawInputsForHeatmap({"input_tokens": ids})}))
                for seed in (0, 1)]
        exact = exact_heatmap(ids, pipeline.encoder.display_tokens(ids), pipeline.ngram_weights)
        out.append({"data": text.data, "heat": heat[0].tolist(), "same": bool(np.array_equal(heat[0], heat[1])),
                    "words": exact.words, "scores": exact.word_scores.tolist(), "explained": exact.explained})
print("RESULT " + json.dumps({"raw_name": raw_name, "samples": out}))
"""


def test_tensorleap_heatmap_function_serves_the_exact_word_heatmap(imdb_data_uri: str, data_root: Path) -> None:
    env = {**os.environ, "IMDB_MODEL": "ngram", "IMDB_DATA": imdb_data_uri, "IMDB_DATA_ROOT": str(data_root),
           "IMDB_SAMPLE_LIMIT": "8", "TL_DISABLE_ANALYTICS": "1"}
    completed = subprocess.run([sys.executable, "-c", _BINDER_SCRIPT], cwd=REPO_ROOT, env=env, capture_output=True,
                               text=True, timeout=BINDER_TIMEOUT_S)
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    assert result["raw_name"] == "raw_inputs" and len(result["samples"]) >= 4
    for sample in result["samples"]:
        count = len(sample["words"])
        assert sample["same"], "the platform's gradient heatmap must not change the exact one"
        assert len(sample["heat"]) == len(sample["data"]) and sample["data"][:count] == sample["words"]
        assert all(token == "" for token in sample["data"][count:]) and not any(sample["heat"][count:])
        np.testing.assert_allclose(sample["heat"][:count], sample["scores"], rtol=1e-5, atol=1e-6)
        assert sum(sample["heat"]) == pytest.approx(sample["explained"], abs=LOGIT_TOLERANCE)


def test_word_deletion_removes_every_ngram_of_the_chosen_words() -> None:
    from imdb.tools.explain import EXACT, Attribution
    from imdb.tools.explain.deletion import _word_deletions

    attribution = Attribution(sample_id="x", method=EXACT, predicted=1, tokens=["a", "a b", "b", "b c", "c", ""],
                              scores=np.zeros(6, np.float32), words=["a", "b", "c"], word_scores=[0.1, 2.0, -1.0],
                              target=0.0, baseline_target=0.0)
    top, draws = _word_deletions(attribution, 1, np.random.default_rng(0), repeats=3)
    assert top.tolist() == [1, 2, 3]
    assert all(len(draw) in (2, 3) for draw in draws)


def test_exact_heatmap_is_faithful_in_the_deletion_test(ngram_config: Config, keras_model) -> None:
    from imdb.tools.explain import EXACT, INTEGRATED_GRADIENTS
    from imdb.tools.explain.deletion import faithfulness_of_methods

    exact, integrated = faithfulness_of_methods(ngram_config, [EXACT, INTEGRATED_GRADIENTS], DELETION_SAMPLES,
                                                model=keras_model)
    assert (exact["unit"], integrated["unit"]) == ("word", "token")
    assert exact["margin"] >= MIN_MARGIN and exact["win_rate"] >= MIN_WIN_RATE, exact
    assert exact["mean_drop_top_k"] > integrated["mean_drop_random"]


def test_training_writes_the_weights_asset_of_the_model_it_saves(imdb_data_uri: str, data_root: Path,
                                                                  tmp_path: Path) -> None:
    """A small real training run writes vocabulary, model and asset, and the asset is the model's."""
    from imdb.models.loading import load_keras_model
    from imdb.tools.explain.exact import served_weights
    from imdb.training.ngram import train_ngram_model

    vocab = tmp_path / "assets" / "ngram_vocab.txt"
    config = load_config(environ={"IMDB_NGRAM_VOCAB_FILE": str(vocab)}, model="ngram", data=imdb_data_uri,
                         data_root=data_root, model_dir=tmp_path / "model", sample_limit_per_split=TRAINING_REVIEWS)
    card = train_ngram_model(config, progress=False)
    assert "ngram_weights.npz" in card["files"] and (vocab.parent / "ngram_weights.npz").is_file()
    pipeline = Pipeline(config)
    weights = served_weights(pipeline, load_keras_model(config, pipeline.labels))
    assert weights.document_counts.sum(axis=0).max() > 0
    assert weights.document_counts[pipeline.encoder.vocabulary.id_of("the")].sum() <= TRAINING_REVIEWS


def test_the_shipped_rating_asset_holds_the_rating_model(imdb_data_uri: str, data_root: Path) -> None:
    from imdb.models.loading import load_keras_model
    from imdb.tools.explain.exact import served_weights

    config = load_config(environ={}, model="ngram", task="rating", data=imdb_data_uri, data_root=data_root)
    pipeline = Pipeline(config)
    weights = served_weights(pipeline, load_keras_model(config, pipeline.labels))
    assert weights.document_counts.shape == (len(pipeline.encoder.vocabulary), len(pipeline.labels)) == (100000, 8)
