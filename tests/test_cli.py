"""``imdb-leap`` end to end: train, evaluate, error reporting; and the integration on a source
with the official test split (three Tensorleap states)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import leap_test
from imdb.tools.cli.main import main
from imdb.contract.config import REPO_ROOT, load_config
from imdb.contract.model_files import ModelError
from imdb.contract.names import TRAINING, VALIDATION
from imdb.models.word import EMBEDDING_LAYER
from imdb.runtime.pipeline import Pipeline
from imdb.training.word import word_arrays
from imdb.training.word_init import checkpoint_word_vectors
from imdb.text.words import RESERVED_TOKENS, WordVocabulary

EVAL_LIMIT = 200
# The behavioural probes are served as one more preprocess state.
PROBE_STATES = 1
REQUIRED_EVAL_KEYS = {"model", "split", "n", "accuracy", "loss", "macro_f1", "confusion"}


def last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def train_on(tarball: Path, tmp_path: Path, family: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, Path]:
    """``imdb-leap train`` on ``tarball`` with vocabulary, cache and models under ``tmp_path``."""
    vocab = tmp_path / "vocab.txt"
    monkeypatch.setenv("IMDB_VOCAB_FILE", str(vocab))
    code = main(["train", "--model", family, "--data", str(tarball), "--data-root", str(tmp_path / "cache"),
                 "--model-dir", str(tmp_path / "models"), "--no-progress"])
    return code, vocab


def trained_card(tarball: Path, tmp_path: Path, family: str, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> tuple[dict, Path]:
    """Train ``family`` (see :func:`train_on`), expect success; its model card and vocabulary."""
    code, vocab = train_on(tarball, tmp_path, family, monkeypatch)
    assert code == 0
    card = last_json(capsys)
    assert card["family"] == family and 0.0 <= card["validation_accuracy"] <= 1.0
    return card, vocab


def test_training_stops_early_on_a_training_holdout_never_on_validation(
        official_tarball: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    held_out_data = []
    fit = keras.Model.fit

    def recording_fit(self, *args, **kwargs):
        held_out_data.append(kwargs["validation_data"])
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    card, _ = trained_card(official_tarball, tmp_path, "dense", monkeypatch, capsys)
    config = load_config(model="dense", data=str(official_tarball), data_root=str(tmp_path / "cache"))
    pipeline = Pipeline(config)
    training, validation = pipeline.split_ids(TRAINING), pipeline.split_ids(VALIDATION)
    fitted, holdout = pipeline.corpus.holdout(training, config.early_stopping_holdout, config.seed)
    assert holdout and not set(holdout) & set(validation)
    (watched_inputs,), watched_labels = held_out_data[0]
    holdout_inputs, holdout_labels = word_arrays(pipeline, holdout)
    assert np.array_equal(watched_inputs, holdout_inputs) and np.array_equal(watched_labels, holdout_labels)
    assert (card["train_samples"], card["holdout_samples"], card["validation_samples"]) == (
        len(fitted), len(holdout), len(validation))
    assert card["early_stopping_holdout"] == config.early_stopping_holdout
    assert 0.0 <= card["holdout_accuracy"] <= 1.0


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
    _, vocab = trained_card(official_tarball, tmp_path, "dense", monkeypatch, capsys)
    assert {p.name for p in (tmp_path / "models").iterdir()} == {"dense.h5", "dense.keras", "dense.json"}
    import h5py

    with h5py.File(tmp_path / "models" / "dense.h5") as saved:
        assert "optimizer_weights" not in saved, "served models carry no optimizer state"
    assert vocab.read_text().startswith("[PAD]\n[UNK]\n")
    code = main(["evaluate", "--model", "dense", "--model-format", "h5", "--data", str(official_tarball),
                 "--data-root", str(tmp_path / "cache"), "--model-dir", str(tmp_path / "models"), "--split", "test",
                 "--no-progress"])
    assert code == 0
    assert last_json(capsys)["split"] == "test"


def test_cnn_training_starts_from_the_checkpoint_word_vectors(official_tarball: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    card, vocab = trained_card(official_tarball, tmp_path, "cnn", monkeypatch, capsys)
    assert card["params"]["embedding_init"] == "checkpoint"
    config = load_config()
    start = checkpoint_word_vectors(WordVocabulary.load(vocab), config, config.cnn.embedding_dim)
    trained = keras.models.load_model(tmp_path / "models" / "cnn.keras", compile=False)
    learned = trained.get_layer(EMBEDDING_LAYER).get_weights()[0]
    words = slice(len(RESERVED_TOKENS), None)
    cosines = np.sum(start[words] * learned[words], axis=1) / (
        np.linalg.norm(start[words], axis=1) * np.linalg.norm(learned[words], axis=1))
    # A short run moves the vectors a little; a random start would leave cosines near 0.
    assert np.median(cosines) > 0.5


def test_cnn_training_without_the_checkpoint_names_both_settings(official_tarball: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IMDB_BERT_CHECKPOINT", str(tmp_path / "no-such-checkpoint"))
    code, _ = train_on(official_tarball, tmp_path, "cnn", monkeypatch)
    assert code == 2
    error = capsys.readouterr().err
    assert "cnn.embedding_init" in error and "no-such-checkpoint" in error and "Traceback" not in error
    assert not (tmp_path / "models" / "cnn.h5").exists()


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
    from imdb.models.loading import load_keras_model

    vocab = tmp_path / "short_vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\ngood\nbad\n")
    with pytest.raises(ModelError, match="vocabulary/model mismatch.*short_vocab.txt"):
        load_keras_model(load_config(environ={"IMDB_VOCAB_FILE": str(vocab)}))
    with pytest.raises(ModelError, match="text.sequence_length"):
        load_keras_model(load_config(environ={}, **{"text.sequence_length": 17}))


@pytest.mark.parametrize("model_format", ["h5", "onnx"])
def test_a_word_model_read_with_other_score_handling_fails_at_load(model_format: str) -> None:
    """The shipped sentiment dense model was trained on "7" and "10"; asked to read "7/10" as one
    word it refuses, naming its card and the setting, in both served formats."""
    from imdb.models.loading import load_inference_model

    config = load_config(environ={}, model_format=model_format, **{"dense.keep_scores": True})
    with pytest.raises(ModelError, match=r"dense.keep_scores: false \(its card dense.json\).*resolves it to true"):
        load_inference_model(config)


def test_integration_serves_three_states_when_the_source_has_a_test_split(
        official_tarball: Path, tmp_path: Path) -> None:
    env = leap_test.check_env(official_tarball, tmp_path / "cache")
    verdict = leap_test.run_leap_check(REPO_ROOT, env)
    leap_test.assert_valid(verdict)
    assert verdict["lengths"]["test"] and verdict["lengths"]["test"] > 0
    checked = leap_test.run_leap_check(REPO_ROOT, env, "--integration-test", str(leap_test.MIN_SAMPLES_PER_SPLIT))
    # Training, validation and the official test reviews, plus the behavioural probes' state.
    states = 3 + PROBE_STATES
    assert checked["splits"] == states and checked["samples_checked"] >= states * leap_test.MIN_SAMPLES_PER_SPLIT


def _cli_subprocess(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", "IMDB_TF_LOG")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "imdb.tools.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_tensorflow_start_up_noise_is_hidden_unless_asked_for(imdb_data_uri: str, data_root: Path) -> None:
    """TensorFlow's native start-up logs (``failed call to cuInit`` on a CPU machine, oneDNN and
    CUDA notices) stay out of a user's terminal; ``--tf-log`` brings them back."""
    args = ["evaluate", "--model", "dense", "--model-format", "h5", "--data", imdb_data_uri,
            "--data-root", str(data_root), "--limit", "20", "--no-progress"]
    quiet = _cli_subprocess(args, {})
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert "cuInit" not in quiet.stderr and "cuda" not in quiet.stderr.lower(), quiet.stderr[-2000:]
    loud = _cli_subprocess(["--tf-log", *args], {})
    assert loud.returncode == 0, loud.stderr[-2000:]
    assert "cuda" in loud.stderr.lower(), "with --tf-log TensorFlow's own device logs are shown"


def test_every_long_running_command_takes_no_progress() -> None:
    from imdb.tools.cli.main import build_parser

    parser = build_parser()
    for command in ("train", "evaluate", "analyze", "bench"):
        assert parser.parse_args([command, "--no-progress"]).no_progress is True, command


@pytest.mark.parametrize(("line", "noise"), [
    (b"I0000 00:00:1796168919.703173   25252 cudart_stub.cc:31] Could not find cuda drivers on your machine.", True),
    (b"E0000 00:00:1796168080.921635   19911 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error", True),
    (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
    (b"E0000 00:00:1796168080.921635   19911 bfc_allocator.cc:400] Allocator ran out of memory", False),
    (b"imdb-leap evaluate: error: model file model/dense.h5 not found", False),
    (b"INFO imdb.tools.report.timing: heatmaps: 1.2 s", False),
])
def test_only_tensorflow_start_up_lines_count_as_noise(line: bytes, noise: bool) -> None:
    from imdb.tools.cli.native_logs import is_noise

    assert is_noise(line) is noise


def test_bench_families_flag_names_families_and_rejects_others(capsys: pytest.CaptureFixture[str]) -> None:
    """``--families`` limits the per-family sections; an unknown name is an argparse error naming the choices."""
    from imdb.contract.config import MODEL_FAMILIES
    from imdb.tools.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["bench"]).families == MODEL_FAMILIES
    assert parser.parse_args(["bench", "--families", "dense, rnn"]).families == ("dense", "rnn")
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "--families", "dense,lstm"])
    assert "families must be among dense" in capsys.readouterr().err
