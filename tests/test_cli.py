"""``imdb-leap`` end to end: train, evaluate, error reporting; and the integration on a source
with the official test split (three Tensorleap states)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import leap_test
from imdb.cli import main
from imdb.config import REPO_ROOT
from imdb.models import ModelError

EVAL_LIMIT = 200
REQUIRED_EVAL_KEYS = {"model", "split", "n", "accuracy", "loss", "macro_f1", "confusion"}


def last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_evaluate_prints_one_json_line_last(imdb_data_uri: str, data_root: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", "--model", "dense", "--data", imdb_data_uri, "--data-root", str(data_root),
                 "--split", "validation", "--limit", str(EVAL_LIMIT), "--no-progress"])
    assert code == 0
    result = last_json(capsys)
    assert REQUIRED_EVAL_KEYS <= set(result)
    assert result["model"] == "dense" and result["split"] == "validation" and result["n"] == EVAL_LIMIT
    assert sum(result["confusion"].values()) == EVAL_LIMIT
    assert result["accuracy"] > 0.8, "the committed dense model should be far better than chance"


def test_train_writes_model_vocabulary_and_card(official_tarball: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    vocab = tmp_path / "vocab.txt"
    monkeypatch.setenv("IMDB_VOCAB_FILE", str(vocab))
    code = main(["train", "--model", "dense", "--data", str(official_tarball), "--data-root",
                 str(tmp_path / "cache"), "--model-dir", str(tmp_path / "models"), "--no-progress"])
    assert code == 0
    card = last_json(capsys)
    assert card["family"] == "dense" and 0.0 <= card["validation_accuracy"] <= 1.0
    assert {p.name for p in (tmp_path / "models").iterdir()} == {"dense.h5", "dense.keras", "dense.json"}
    import h5py

    with h5py.File(tmp_path / "models" / "dense.h5") as saved:
        assert "optimizer_weights" not in saved, "served models carry no optimizer state"
    assert vocab.read_text().startswith("[PAD]\n[UNK]\n")
    code = main(["evaluate", "--model", "dense", "--data", str(official_tarball), "--data-root",
                 str(tmp_path / "cache"), "--model-dir", str(tmp_path / "models"), "--split", "test",
                 "--no-progress"])
    assert code == 0
    assert last_json(capsys)["split"] == "test"


def test_user_errors_are_one_line_without_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", "--model", "cnn", "--model-dir", str(tmp_path), "--limit", "4"])
    assert code == 2
    error = capsys.readouterr().err
    assert "cnn" in error and str(tmp_path) in error and "Traceback" not in error
    monkeypatch.setenv("IMDB_MODEL", "lstm")
    assert main(["evaluate", "--limit", "4"]) == 2
    assert "'model'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate", "--model", "lstm"])


def test_vocabulary_model_mismatch_fails_at_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from imdb.config import load_config
    from imdb.models import load_keras_model

    vocab = tmp_path / "short_vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\ngood\nbad\n")
    with pytest.raises(ModelError, match="vocabulary/model mismatch.*short_vocab.txt"):
        load_keras_model(load_config(environ={"IMDB_VOCAB_FILE": str(vocab)}))
    with pytest.raises(ModelError, match="text.sequence_length"):
        load_keras_model(load_config(environ={}, **{"text.sequence_length": 17}))


def test_integration_serves_three_states_when_the_source_has_a_test_split(
        official_tarball: Path, tmp_path: Path) -> None:
    env = leap_test.check_env(official_tarball, tmp_path / "cache")
    verdict = leap_test.run_leap_check(REPO_ROOT, env)
    leap_test.assert_valid(verdict)
    assert verdict["lengths"]["test"] and verdict["lengths"]["test"] > 0
    checked = leap_test.run_leap_check(REPO_ROOT, env, "--integration-test", str(leap_test.MIN_SAMPLES_PER_SPLIT))
    assert checked["splits"] == 3 and checked["samples_checked"] >= 3 * leap_test.MIN_SAMPLES_PER_SPLIT
