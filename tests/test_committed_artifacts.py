"""Committed model cards and benchmark results hold URIs as the user gave them, no machine paths."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from imdb.contract.config import REPO_ROOT
from json_helpers import json_leaves

# An absolute path anywhere in a string ("... in /home/me/model ..."); URLs (scheme://) are fine.
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.+-]+/)+")
RESULT_FILES = sorted([*(REPO_ROOT / "model").glob("*.json"), *(REPO_ROOT / "bench").glob("*.json")])


def _strings(node: Any) -> Iterator[str]:
    return (leaf for leaf in json_leaves(node) if isinstance(leaf, str))


def test_there_are_results_to_check() -> None:
    assert any(path.parent.name == "model" for path in RESULT_FILES)


@pytest.mark.parametrize("path", RESULT_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_absolute_machine_path(path: Path) -> None:
    absolute = [text for text in _strings(json.loads(path.read_text(encoding="utf-8")))
                if text.startswith("~") or ABSOLUTE_PATH.search(text)]
    assert not absolute, f"{path.name} stores machine paths: {absolute}"


@pytest.mark.parametrize(("text", "machine_path"), [
    ("no trained model for 'bert' in /home/me/imdb/model (looked for bert.h5)", True),
    ("/srv/data/aclImdb.tar.gz", True),
    ("../shared/data/aclImdb-train.tar.gz", False),
    ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz", False),
    ("gs://bucket/imdb/", False),
])
def test_the_path_check_can_fail(text: str, machine_path: bool) -> None:
    assert bool(ABSOLUTE_PATH.search(text)) is machine_path


# The repository's budget for the committed fine-tuned BERT (float16-stored weights).
SHIPPED_BERT_MAX_BYTES = 50_000_000


def test_shipped_bert_fits_the_budget_and_its_card_describes_it() -> None:
    model, card = REPO_ROOT / "model" / "bert.keras", json.loads((REPO_ROOT / "model" / "bert.json").read_text())
    assert model.stat().st_size <= SHIPPED_BERT_MAX_BYTES
    assert "bert.keras" in card["files"] and card["family"] == "bert"
    assert card["reviews_seen"] == card["optimizer_steps"] * card["params"]["batch_size"]
    assert card["optimizer_steps"] == card["planned_steps"], "the shipped run stopped before its last step"
    assert card["learning_curve"]["points"][-1]["step"] == card["optimizer_steps"]


@pytest.mark.parametrize("family", ["dense", "cnn", "ngram"])
def test_shipped_rating_models_and_their_cards(family: str) -> None:
    """The star-rating models ship for the word and n-gram families, in both served formats, and their cards
    describe an 8-class run with per-class recall and the mean star error."""
    from imdb.contract.names import RATING_NAMES

    card = json.loads((REPO_ROOT / "model" / f"rating-{family}.json").read_text(encoding="utf-8"))
    assert card["task"] == "rating" and card["family"] == family and card["labels"] == list(RATING_NAMES)
    for name in (*card["files"], f"rating-{family}.onnx"):
        assert (REPO_ROOT / "model" / name).is_file(), name
    assert set(card["validation_per_class_recall"]) == set(RATING_NAMES)
    assert 0.0 < card["validation_star_mae"] < 9.0 and card["validation_accuracy"] > 1 / len(RATING_NAMES)


@pytest.mark.parametrize("family", ["dense", "cnn"])
def test_shipped_rating_word_models_follow_the_committed_rating_recipe(family: str) -> None:
    """``imdb/rating_config.yaml`` reproduces the shipped rating word models: their cards record its
    hyper-parameters and its n-gram teacher, over every unlabelled review of the official archive."""
    from imdb.contract.config import load_config

    card = json.loads((REPO_ROOT / "model" / f"rating-{family}.json").read_text(encoding="utf-8"))
    recipe = load_config(REPO_ROOT / "imdb" / "rating_config.yaml", environ={}, model=family)
    assert recipe.task == card["task"] == "rating"
    params = {key: value for key, value in vars(recipe.word_params).items() if value not in (0, (), "")}
    assert json.loads(json.dumps(params)) == card["params"]
    assert card.get("keep_scores", False) == recipe.text.keep_scores == (family == "dense")
    vocabulary = recipe.text.vocab_file.read_text(encoding="utf-8").split("\n")
    assert len(vocabulary) - 1 == card["vocab_size"] and ("7/10" in vocabulary) == recipe.text.keep_scores
    assert card["distillation"]["teacher"] == recipe.distillation.teacher == "ngram"
    assert card["distillation"]["unlabeled_reviews"] == RATING_TRANSFER_REVIEWS
    assert 0.0 < card["distillation"]["teacher_holdout_accuracy"] <= 1.0


# The official archive's unlabelled reviews (train/unsup/), all of which the rating recipe's teacher labels.
RATING_TRANSFER_REVIEWS = 50_000

# How far a card's held-out share may be from early_stopping_holdout (folds are whole movies).
HOLDOUT_SHARE_TOLERANCE = 0.01

# The least validation accuracy a shipped IMDB sentiment model may have (the weakest, dense, has 0.88).
SHIPPED_SENTIMENT_MIN_ACCURACY = 0.85


@pytest.mark.parametrize("family", ["dense", "cnn", "rnn", "ngram"])
def test_shipped_sentiment_models_and_their_cards(family: str) -> None:
    """Every served word and n-gram family ships its Keras, .h5 and ONNX files with a card of a
    whole-split run on IMDB sentiment."""
    card = json.loads((REPO_ROOT / "model" / f"{family}.json").read_text(encoding="utf-8"))
    assert card["family"] == family and card.get("task", "sentiment") == "sentiment"
    for name in (*card["files"], f"{family}.onnx", f"{family}.h5"):
        assert (REPO_ROOT / "model" / name).is_file(), name
    assert card["train_samples"] > 20_000 and card["validation_samples"] > 2_000
    assert card["validation_accuracy"] >= SHIPPED_SENTIMENT_MIN_ACCURACY


@pytest.mark.parametrize("name", ["dense", "cnn", "rnn", "rating-dense", "rating-cnn"])
def test_shipped_word_models_chose_their_epoch_on_a_training_holdout(name: str) -> None:
    """The word families stop early on a holdout of the training split, never on validation: their
    cards count the reviews fitted on and held out, which together are the training split."""
    from imdb.contract.config import load_config

    card = json.loads((REPO_ROOT / "model" / f"{name}.json").read_text(encoding="utf-8"))
    holdout = card["early_stopping_holdout"]
    assert holdout == load_config(environ={}).early_stopping_holdout
    training = card["train_samples"] + card["holdout_samples"]
    assert abs(card["holdout_samples"] / training - holdout) < HOLDOUT_SHARE_TOLERANCE
    assert 0.0 < card["holdout_accuracy"] <= 1.0
