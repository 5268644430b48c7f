"""Switching by configuration alone: every model family (and the ONNX format) passes
code-loader's check_dataset and the integration test, with no code edit.

Runs on the small official-layout tarball (train + test), so all three Tensorleap states are
served; BERT uses a model fine-tuned by a short run, as a user's first try would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import leap_test
from imdb.contract.config import REPO_ROOT, load_config
from imdb.models.loading import load_keras_model
from imdb.runtime.pipeline import Pipeline
from test_components import check_every_component, write_hostile_corpus

TINY_BERT_LEN = 64
TINY_BERT_SAMPLES = 32
SAMPLES_PER_SPLIT = 2
# Training, validation, the official test reviews and the behavioural probes.
SERVED_STATES = 4
EXPECTED_INPUTS = {"dense": ["input_tokens"], "cnn": ["input_tokens"], "rnn": ["input_tokens"],
                   "bert": ["input_ids", "attention_mask", "token_type_ids"],
                   "ensemble": ["input_ids", "attention_mask", "token_type_ids", "input_tokens"]}
# Integration steps of the ensemble's heatmaps (as analyze takes them for BERT), on this many
# validation reviews. Completeness is checked with more steps, where the Riemann sum may miss at
# most a share of f(x) - f(baseline) plus a slack (4 midpoints miss about a fifth on a real review).
ENSEMBLE_IG_STEPS = 4
ENSEMBLE_EXPLAINED = 3
COMPLETENESS_STEPS = 32
COMPLETENESS_RELATIVE = 0.05
COMPLETENESS_ABSOLUTE = 0.01
# Training reviews a short ensemble run serves (it fits its weight on half of them).
TINY_ENSEMBLE_LIMIT = 24


@pytest.fixture(scope="module")
def family_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("family-cache")


@pytest.fixture(scope="module")
def tiny_bert_dir(official_tarball: Path, family_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BERT classifier fine-tuned for a few steps through the real CLI."""
    model_dir = tmp_path_factory.mktemp("tiny-bert")
    command = [sys.executable, "-m", "imdb.tools.cli", "train", "--model", "bert", "--data", str(official_tarball),
               "--data-root", str(family_cache), "--model-dir", str(model_dir), "--max-len", str(TINY_BERT_LEN),
               "--train-samples", str(TINY_BERT_SAMPLES), "--epochs", "1", "--no-progress"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900,
                               env=leap_test.check_env(official_tarball, family_cache))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (model_dir / "bert.json").is_file()
    return model_dir


def family_env(family: str, data: Path, cache: Path, **extra: str) -> dict[str, str]:
    env = leap_test.check_env(data, cache)
    env["IMDB_MODEL"] = family
    env.update(extra)
    return env


def assert_family_integration(env: dict[str, str], family: str) -> None:
    verdict = leap_test.run_leap_check(REPO_ROOT, env)
    leap_test.assert_valid(verdict)
    assert verdict["inputs"] == EXPECTED_INPUTS[family]
    assert verdict["lengths"]["test"], "the official layout must yield a test state"
    checked = leap_test.run_leap_check(REPO_ROOT, env, "--integration-test", str(SAMPLES_PER_SPLIT))
    assert checked["splits"] == SERVED_STATES and checked["samples_checked"] == SERVED_STATES * SAMPLES_PER_SPLIT


@pytest.mark.parametrize("family", ["dense", "cnn", "rnn"])
def test_word_families_switch_by_environment(family: str, official_tarball: Path, family_cache: Path) -> None:
    assert_family_integration(family_env(family, official_tarball, family_cache), family)


def test_bert_family_switches_by_environment(tiny_bert_dir: Path, official_tarball: Path,
                                             family_cache: Path) -> None:
    """BERT is served like the word models: exported to ONNX (the file ``leap push -m``
    uploads) and loaded by the integration's default ``model_format: onnx``."""
    env = family_env("bert", official_tarball, family_cache, IMDB_MODEL_DIR=str(tiny_bert_dir),
                     IMDB_BERT_MAX_LEN=str(TINY_BERT_LEN))
    env.pop("IMDB_MODEL_FORMAT", None)
    command = [sys.executable, "-m", "imdb.tools.cli", "export", "--model", "bert", "--format", "onnx"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (tiny_bert_dir / "bert.onnx").is_file()
    assert_family_integration(env, "bert")


@pytest.fixture(scope="module")
def tiny_ensemble_dir(tiny_bert_dir: Path, official_tarball: Path, family_cache: Path,
                      tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The short-run BERT and the shipped n-gram model mixed through the real CLI, then exported."""
    model_dir = tmp_path_factory.mktemp("tiny-ensemble")
    for source in [*tiny_bert_dir.glob("bert.*"), *(REPO_ROOT / "model").glob("ngram.*")]:
        shutil.copy2(source, model_dir / source.name)
    env = family_env("ensemble", official_tarball, family_cache, IMDB_MODEL_DIR=str(model_dir),
                     IMDB_BERT_MAX_LEN=str(TINY_BERT_LEN), IMDB_SAMPLE_LIMIT=str(TINY_ENSEMBLE_LIMIT))
    for command in (["train", "--model", "ensemble", "--no-progress"],
                    ["export", "--model", "ensemble", "--format", "onnx"]):
        completed = subprocess.run([sys.executable, "-m", "imdb.tools.cli", *command], capture_output=True, text=True,
                                   timeout=900, env=env)
        assert completed.returncode == 0, completed.stderr[-3000:]
    return model_dir


def test_ensemble_is_one_served_model_of_both_members(tiny_ensemble_dir: Path, official_tarball: Path,
                                                      family_cache: Path) -> None:
    """Its logits are the weighted mixture of the members' own, its weight was fit on held-out
    n-gram logits of training reviews, and it is served like every family (ONNX, all four inputs)."""
    from imdb.contract.model_files import read_card
    from imdb.models.inference import predict_logits

    card = json.loads((tiny_ensemble_dir / "ensemble.json").read_text())
    weight = card["bert_weight"]
    assert 0.0 <= weight <= 1.0 and card["fit_samples"] == TINY_ENSEMBLE_LIMIT // 2
    assert set(card["fit_loss_by_weight"]) == {f"{tenth / 10:.1f}" for tenth in range(11)}
    config = load_config(environ={}, model="ensemble", model_dir=str(tiny_ensemble_dir), data=str(official_tarball),
                         data_root=str(family_cache), sample_limit_per_split=4, **{"bert.max_len": TINY_BERT_LEN})
    assert read_card(config)["members"]["ngram"]["validation_accuracy"] == read_card(config.member("ngram"))[
        "validation_accuracy"]
    ids = Pipeline(config).split_ids("validation")
    mixed = predict_logits(Pipeline(config), load_keras_model(config), ids, progress=False)
    members = [predict_logits(Pipeline(config.member(family)), load_keras_model(config.member(family)), ids,
                              progress=False) for family in ("bert", "ngram")]
    # The shipped .keras stores float16 weights (imdb.training.artifacts.store_half_precision).
    np.testing.assert_allclose(mixed, weight * members[0] + (1 - weight) * members[1], atol=0.02)
    env = family_env("ensemble", official_tarball, family_cache, IMDB_MODEL_DIR=str(tiny_ensemble_dir),
                     IMDB_BERT_MAX_LEN=str(TINY_BERT_LEN))
    assert_family_integration(env, "ensemble")


def test_ensemble_heatmaps_are_taken_at_berts_wordpieces(official_tarball: Path, family_cache: Path) -> None:
    """The shipped ensemble's integrated gradients run through the one served model at its BERT
    member's embedding: WordPiece tokens, [CLS]/[SEP] and padding scored 0, completeness within the
    Riemann error of 4 steps, and the deletion test runs on it (what the bench's row does). The
    shipped model, not the tiny one: a tiny run's weight may leave BERT no share to explain."""
    from imdb.tools.explain import Explainer
    from imdb.tools.explain.deletion import faithfulness_of_methods

    config = load_config(environ={}, model="ensemble", data=str(official_tarball), data_root=str(family_cache),
                         sample_limit_per_split=ENSEMBLE_EXPLAINED)
    pipeline = Pipeline(config)
    ids = pipeline.split_ids("validation")
    explainer = Explainer(pipeline)
    for attribution in explainer.explain(ids, "ig", steps=ENSEMBLE_IG_STEPS, progress=False):
        assert attribution.tokens == pipeline.encoder.display_tokens(pipeline.model_input(attribution.sample_id,
                                                                                          "input_ids"))
        special = np.array([token in ("", "[CLS]", "[SEP]") for token in attribution.tokens])
        assert attribution.tokens[0] == "[CLS]" and not attribution.scores[special].any()
        assert attribution.words and len(attribution.words) == len(attribution.word_scores)
        assert attribution.target != attribution.baseline_target, "BERT's share moves between baseline and review"
    for attribution in explainer.explain(ids, "ig", steps=COMPLETENESS_STEPS, progress=False):
        delta = attribution.target - attribution.baseline_target
        assert abs(attribution.completeness_gap) <= COMPLETENESS_RELATIVE * abs(delta) + COMPLETENESS_ABSOLUTE
    (row,) = faithfulness_of_methods(config, ["ig"], len(ids), k=2, steps=ENSEMBLE_IG_STEPS)
    assert row["model"] == "ensemble" and row["n"] == len(ids) and 0.0 <= row["win_rate"] <= 1.0


def test_ensemble_weight_fit_prefers_the_better_member() -> None:
    from imdb.training.ensemble import fit_weight, mixture_loss

    labels = np.array([0, 1, 0, 1])
    right = np.array([[2.0, -2.0], [-2.0, 2.0], [2.0, -2.0], [-2.0, 2.0]])
    weight, losses = fit_weight(right, -right, labels)
    assert weight == 1.0 and losses["1.0"] < losses["0.5"] < losses["0.0"]
    assert mixture_loss(0.5, right, -right, labels) == pytest.approx(np.log(2))


def test_bert_report_defaults_to_short_integrated_gradients_and_its_deletion_test(
        tiny_bert_dir: Path, official_tarball: Path, family_cache: Path, tmp_path: Path) -> None:
    """``analyze --model bert`` without ``--explain``: the per-family defaults that keep a full
    validation-split report within 10 minutes on a CPU (imdb.tools.report.settings)."""
    env = family_env("bert", official_tarball, family_cache, IMDB_MODEL_DIR=str(tiny_bert_dir),
                     IMDB_BERT_MAX_LEN=str(TINY_BERT_LEN))
    out = tmp_path / "report"
    command = [sys.executable, "-m", "imdb.tools.cli", "analyze", "--model", "bert", "--projection", "pca",
               "--no-probes", "--out", str(out), "--no-progress"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    printed = json.loads(completed.stdout.strip().splitlines()[-1])
    assert (printed["heatmap_method"], printed["ig_steps"], printed["faithfulness_samples"]) == ("ig", 4, 100)
    report = json.loads((out / "report.json").read_text())
    assert (report["heatmap_method"], report["ig_steps"]) == ("ig", 4)
    assert [(row["method"], row["steps"]) for row in report["faithfulness"]] == [("ig", 4)]
    assert report["faithfulness"][0]["n"] == min(100, printed["n"])


def test_onnx_format_serves_the_same_integration(official_tarball: Path, family_cache: Path, tmp_path: Path) -> None:
    from imdb.tools.export import ONNX_TOLERANCE, export

    model_dir = tmp_path / "models"
    model_dir.mkdir()
    shutil.copy2(load_config().model_dir / "dense.h5", model_dir / "dense.h5")
    config = load_config(environ={}, model="dense", model_dir=str(model_dir), data=str(official_tarball),
                         data_root=str(family_cache))
    report = export(config, "onnx")
    assert report["max_abs_difference"] <= ONNX_TOLERANCE and report["verified_samples"] > 0
    env = family_env("dense", official_tarball, family_cache, IMDB_MODEL_DIR=str(model_dir),
                     IMDB_MODEL_FORMAT="onnx")
    assert_family_integration(env, "dense")


@pytest.mark.parametrize("family", ["cnn", "bert"])
def test_hostile_reviews_through_every_family(family: str, tiny_bert_dir: Path, bert_checkpoint: Path,
                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    corpus_dir = write_hostile_corpus(tmp_path_factory.mktemp(f"hostile-{family}"))
    overrides = {"model_dir": str(tiny_bert_dir), "bert.max_len": TINY_BERT_LEN} if family == "bert" else {}
    overrides["bert.checkpoint"] = str(bert_checkpoint)
    config = load_config(environ={}, model=family, data=str(corpus_dir),
                         data_root=str(tmp_path_factory.mktemp(f"hostile-cache-{family}")), **overrides)
    pipeline = Pipeline(config)
    check_every_component(pipeline, load_keras_model(config))
    empty = pipeline.metadata("train/pos/0_10")
    assert empty.empty and not empty.truncated
    assert pipeline.metadata("train/pos/3_7").truncated
