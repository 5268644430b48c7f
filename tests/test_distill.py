"""Distillation for the word families (``distillation.teacher``) on the real reviews: the training
archive and the 50,000 unlabelled ones side by side (``combined_tarball``), as the official archive
holds them. The teacher is the n-gram regression refitted on the student's fitted reviews only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest

from imdb.contract.config import ConfigError, load_config
from imdb.contract.model_files import ModelError
from imdb.contract.names import TRAINING
from imdb.runtime.pipeline import Pipeline
from imdb.tools.cli.main import main
from imdb.runtime.scoring import softmax
from imdb.training.distill import transfer_set, unlabeled_for_student
from imdb.training.ngram import refitted_logits

# Labelled reviews per split and unlabelled reviews the teacher labels: enough for every star class.
SAMPLE_LIMIT = 400
UNLABELED = 300
OTHER_SEEDS = 4
UNSUP_REVIEWS = 50_000


def _config(data: Path, tmp_path: Path, **settings: object):
    base = {"sample_limit_per_split": SAMPLE_LIMIT, "text.vocab_file": str(tmp_path / "vocab.txt"),
            "ngram.vocab_file": str(tmp_path / "ngram_vocab.txt"), "data_root": str(tmp_path / "cache")}
    return load_config(environ={}, model="dense", task="rating", data=str(data), model_dir=str(tmp_path / "models"),
                       **{**base, **settings})


def _train(family: str, data: Path, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str], **env: str) -> tuple[int, dict | None, str]:
    """``imdb-leap train`` of ``family`` on IMDB ratings under ``tmp_path``: exit code, card, stderr."""
    for name, value in {"IMDB_VOCAB_FILE": str(tmp_path / "vocab.txt"),
                        "IMDB_NGRAM_VOCAB_FILE": str(tmp_path / "ngram_vocab.txt"),
                        "IMDB_SAMPLE_LIMIT": str(SAMPLE_LIMIT), **env}.items():
        monkeypatch.setenv(name, value)
    code = main(["train", "--model", family, "--task", "rating", "--data", str(data), "--data-root",
                 str(data_root), "--model-dir", str(tmp_path / "models"), "--no-progress"])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, json.loads(lines[-1]) if code == 0 and lines else None, captured.err


def test_the_teacher_setting_is_a_choice_overridable_by_environment(tmp_path: Path) -> None:
    assert load_config(environ={}).distillation.teacher == "none"
    config = load_config(environ={"IMDB_DISTILLATION_TEACHER": "ngram", "IMDB_DISTILLATION_UNLABELED": "5"})
    assert (config.distillation.teacher, config.distillation.unlabeled) == ("ngram", 5)
    with pytest.raises(ConfigError, match="distillation.teacher"):
        load_config(environ={"IMDB_DISTILLATION_TEACHER": "bert"})
    with pytest.raises(ConfigError, match="distillation.unlabeled"):
        load_config(environ={"IMDB_DISTILLATION_UNLABELED": "0"})


@dataclass(frozen=True)
class _Review:
    movie_id: str


class _Corpus:
    """A unit case: labelled reviews of movies m0..m3 and unlabelled ones of m0..m4."""

    def __init__(self) -> None:
        self.reviews = {f"train/pos/{n}": _Review(f"m{n % 4}") for n in range(8)}
        self.unlabeled = {f"train/unsup/{n}": _Review(f"m{n % 5}") for n in range(10)}

    def __iter__(self):
        return iter(self.reviews)

    def __getitem__(self, sample_id: str) -> _Review:
        return {**self.reviews, **self.unlabeled}[sample_id]

    def unlabeled_ids(self) -> list[str]:
        return list(self.unlabeled)


def test_the_student_never_sees_an_unlabelled_review_of_a_held_out_movie() -> None:
    corpus = _Corpus()
    # m1's labelled reviews (1 and 5) are held out: its unlabelled reviews (1 and 6) go too.
    fitted = [i for i in corpus if corpus[i].movie_id != "m1"]
    ids, excluded = unlabeled_for_student(corpus, fitted, None, 0)
    assert excluded == 2 and ids == [f"train/unsup/{n}" for n in (0, 2, 3, 4, 5, 7, 8, 9)]
    sample, _ = unlabeled_for_student(corpus, fitted, 3, 0)
    assert len(sample) == 3 and set(sample) <= set(ids) and sample == unlabeled_for_student(corpus, fitted, 3, 0)[0]
    assert {tuple(unlabeled_for_student(corpus, fitted, 3, seed)[0]) for seed in range(OTHER_SEEDS)} != {tuple(sample)}


def test_aclimdb_unlabelled_reviews_are_of_movies_of_their_own(combined_tarball: Path, data_root: Path,
                                                                tmp_path: Path) -> None:
    """The official archive's unlabelled reviews share no movie with its labelled ones, so a student
    may use all 50,000 whatever is held out."""
    corpus = Pipeline(_config(combined_tarball, tmp_path, sample_limit_per_split=None,
                              data_root=str(data_root))).corpus
    training = corpus.ids(TRAINING)
    ids, excluded = unlabeled_for_student(corpus, training[: len(training) // 2], None, 0)
    assert excluded == 0 and ids == corpus.unlabeled_ids() and len(ids) == UNSUP_REVIEWS


def test_a_distilled_student_learns_the_refitted_teachers_probabilities(
        combined_tarball: Path, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    env = {"IMDB_DISTILLATION_TEACHER": "ngram", "IMDB_DISTILLATION_UNLABELED": str(UNLABELED)}
    code, _, error = _train("dense", combined_tarball, data_root, tmp_path, monkeypatch, capsys, **env)
    assert code != 0, "without a trained n-gram model there is no teacher"
    assert "imdb-leap train --model ngram" in error
    assert _train("ngram", combined_tarball, data_root, tmp_path, monkeypatch, capsys)[0] == 0

    fitted_rows = []
    fit = keras.Model.fit

    def recording_fit(self, *args, **kwargs):
        fitted_rows.append((args[0][0], args[1]))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    code, card, _ = _train("dense", combined_tarball, data_root, tmp_path, monkeypatch, capsys, **env)
    assert code == 0
    config = _config(combined_tarball, tmp_path, data_root=str(data_root), **{"distillation.teacher": "ngram",
                                                     "distillation.unlabeled": UNLABELED})
    pipeline = Pipeline(config)
    fitted, holdout = pipeline.corpus.holdout(pipeline.split_ids(TRAINING), config.early_stopping_holdout,
                                              config.seed)
    inputs, targets = fitted_rows[0]
    assert len(inputs) == len(targets) == len(fitted) + UNLABELED and card["train_samples"] == len(fitted)
    teacher = transfer_set(config, pipeline, fitted, holdout)
    expected = softmax(refitted_logits(Pipeline(config.with_overrides(model="ngram")), fitted, teacher.ids))
    np.testing.assert_allclose(targets[len(fitted):], expected, atol=1e-6)
    assert np.allclose(targets[len(fitted):].sum(axis=1), 1.0) and (targets[len(fitted):].max(axis=1) < 1.0).all()
    assert np.array_equal(targets[:len(fitted)].max(axis=1), np.ones(len(fitted), np.float32))
    assert card["distillation"] == {"teacher": "ngram", "unlabeled_reviews": UNLABELED,
                                    "left_out_for_movie": teacher.excluded_for_movies,
                                    "teacher_holdout_accuracy": round(teacher.teacher_holdout_accuracy, 4)}
    assert 0.0 < card["distillation"]["teacher_holdout_accuracy"] <= 1.0


def test_a_teacher_needs_unlabelled_reviews_and_says_where(imdb_tarball: Path, data_root: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert _train("ngram", imdb_tarball, data_root, tmp_path, monkeypatch, capsys)[0] == 0
    config = _config(imdb_tarball, tmp_path, data_root=str(data_root), **{"distillation.teacher": "ngram"})
    pipeline = Pipeline(config)
    fitted, holdout = pipeline.corpus.holdout(pipeline.split_ids(TRAINING), config.early_stopping_holdout,
                                              config.seed)
    with pytest.raises(ModelError, match=r"train/unsup/.*distillation\.teacher to none"):
        transfer_set(config, pipeline, fitted, holdout)
