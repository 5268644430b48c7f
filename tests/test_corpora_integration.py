"""Any labelled corpus through every layer: code-loader's check and the integration test for
(a) IMDB sentiment (leap_test.py), (b) IMDB star ratings with the shipped rating model, (c) a
CSV of 0/4 labels sorted by label and (d) a JSON Lines file of 3 unequal classes, both made
from the real reviews, trained, evaluated and analysed through the CLI as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import leap_test
from corpora import (HAPPINESS_CLASSES, happiness_rows, happiness_settings, tweets_rows, tweets_settings,
                     write_config, write_csv, write_jsonl)
from imdb.contract.config import REPO_ROOT
from imdb.contract.names import RATING_NAMES
from imdb.data import Corpus

TWEETS_PER_LABEL = 200
SAMPLES_PER_SPLIT = 2
CLI_TIMEOUT_S = 900
# Training, validation and the behavioural probes (the classes have a polarity).
STATES_WITH_PROBES = 3
STATES_WITHOUT_PROBES = 2
# The unlabelled reviews of the official-style sample (``official_sample`` in conftest.py).
OFFICIAL_SAMPLE_UNLABELED = 12


def _cli(env: dict[str, str], *args: str, quiet: bool = True) -> dict:
    command = [sys.executable, "-m", "imdb.tools.cli", *args, *(["--no-progress"] if quiet else [])]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=CLI_TIMEOUT_S)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _corpus_env(data: Path, config: Path, tmp: Path, model_format: str) -> dict[str, str]:
    """A user's own corpus: their config file, their model folder, their vocabulary folder."""
    env = leap_test.check_env(data, tmp / "cache")
    env.update({"IMDB_CONFIG": str(config), "IMDB_MODEL_DIR": str(tmp / "models"), "IMDB_MODEL": "dense",
                "IMDB_VOCAB_FILE": str(tmp / "vocab" / "word_vocab.txt"), "IMDB_MODEL_FORMAT": model_format})
    (tmp / "models").mkdir(exist_ok=True)
    (tmp / "vocab").mkdir(exist_ok=True)
    return env


def _check_integration(env: dict[str, str], labels: list[str], states: int) -> dict:
    verdict = leap_test.run_leap_check(REPO_ROOT, env)
    leap_test.assert_valid(verdict)
    assert verdict["lengths"]["training"] > 0 and verdict["lengths"]["validation"] > 0
    assert {"review", "probabilities", "ground_truth"} <= set(verdict["visualizers"])
    checked = leap_test.run_leap_check(REPO_ROOT, env, "--integration-test", str(SAMPLES_PER_SPLIT))
    assert checked["labels"] == labels
    assert checked["splits"] == states and checked["samples_checked"] == states * SAMPLES_PER_SPLIT
    return verdict


def test_imdb_rating_with_the_shipped_rating_model(official_tarball: Path, tmp_path: Path) -> None:
    env = leap_test.check_env(official_tarball, tmp_path / "cache")
    env.update({"IMDB_TASK": "rating", "IMDB_MODEL": "dense"})
    env.pop("IMDB_MODEL_FORMAT", None)
    verdict = _check_integration(env, list(RATING_NAMES), STATES_WITH_PROBES + 1)
    assert "review_rating" not in verdict["metadata"], "under task: rating the rating is the label"
    assert "review_movie_id" in verdict["metadata"]
    assert verdict["lengths"]["unlabeled"] == OFFICIAL_SAMPLE_UNLABELED, "the unrated reviews beside the 8 classes"


@pytest.fixture(scope="module")
def tweets_run(imdb_corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """A CSV shaped like the 1.6M tweets (0/4, sorted by label), trained and exported through the CLI."""
    tmp = tmp_path_factory.mktemp("tweets")
    data = write_csv(tmp / "tweets.csv", tweets_rows(imdb_corpus, TWEETS_PER_LABEL))
    env = _corpus_env(data, write_config(tmp / "tweets.yaml", **tweets_settings()), tmp, "onnx")
    card = _cli(env, "train", "--model", "dense")
    assert card["labels"] == ["negative", "positive"] and card["task"] == "table"
    _cli(env, "export", "--model", "dense", "--format", "onnx", quiet=False)
    assert (tmp / "models" / "tweets-dense.onnx").is_file() and (tmp / "vocab" / "tweets.word_vocab.txt").is_file()
    return env, tmp


def test_tweets_csv_passes_the_check_and_the_integration_test(tweets_run: tuple[dict[str, str], Path]) -> None:
    env, _ = tweets_run
    verdict = _check_integration(env, ["negative", "positive"], STATES_WITH_PROBES)
    assert "review_rating" not in verdict["metadata"]


def test_tweets_csv_evaluate_and_analyze(tweets_run: tuple[dict[str, str], Path]) -> None:
    env, tmp = tweets_run
    scored = _cli(env, "evaluate", "--model", "dense", "--split", "validation")
    assert scored["n"] == TWEETS_PER_LABEL * 2 // 10 and set(scored["per_class_recall"]) == {"negative", "positive"}
    out = tmp / "report"
    _cli(env, "analyze", "--model", "dense", "--projection", "pca", "--no-probes", "--faithfulness-samples", "0",
         "--out", str(out))
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["n"] == scored["n"]


def test_unequal_three_class_jsonl_trains_with_class_weights_and_serves(
        imdb_corpus: Corpus, tmp_path: Path) -> None:
    rows = happiness_rows(imdb_corpus)
    data = write_jsonl(tmp_path / "happy.jsonl", rows)
    env = _corpus_env(data, write_config(tmp_path / "happy.yaml", **happiness_settings()), tmp_path, "h5")
    card = _cli(env, "train", "--model", "dense")
    names = [name for name, _, _ in HAPPINESS_CLASSES]
    assert card["labels"] == names and card["class_balance"] == "weights"
    assert set(card["validation_per_class_recall"]) == set(names)
    verdict = _check_integration(env, names, STATES_WITHOUT_PROBES)
    assert verdict["lengths"]["test"] in (None, 0) and not verdict["lengths"]["additional"], \
        "classes without a polarity serve no probe state"
