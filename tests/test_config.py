"""Configuration: file < environment < CLI precedence, and clear errors naming the setting."""

from pathlib import Path

import pytest
import yaml

from imdb.contract.config import DEFAULT_CONFIG_FILE, MODEL_FAMILIES, REPO_ROOT, ConfigError, load_config
from imdb.data.checksums import OFFICIAL_URL


def write_config(tmp_path: Path, **changes) -> Path:
    raw = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text())
    for key, value in changes.items():
        node = raw
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_defaults_resolve_paths_against_repo_root() -> None:
    config = load_config(environ={})
    assert config.model in MODEL_FAMILIES
    assert config.model_dir == REPO_ROOT / "model"
    assert config.text.vocab_file == REPO_ROOT / "imdb" / "assets" / "word_vocab.txt"


def test_defaults_need_nothing_beside_the_repository() -> None:
    """A fresh clone's first run: the official archive and the hub's checkpoint, user cache dirs."""
    config = load_config(environ={})
    assert config.data == OFFICIAL_URL
    assert config.bert.checkpoint == "hf://sentence-transformers/all-MiniLM-L6-v2"
    assert config.data_root == Path("~/.cache/imdb-leap").expanduser()


def test_environment_overrides_file_and_cli_overrides_environment() -> None:
    env = {"IMDB_MODEL": "cnn", "IMDB_SAMPLE_LIMIT": "40", "IMDB_BERT_MAX_LEN": "128"}
    config = load_config(environ=env)
    assert (config.model, config.sample_limit_per_split, config.bert.max_len) == ("cnn", 40, 128)
    assert config.sequence_length == config.text.sequence_length
    assert load_config(environ=env, model="bert").sequence_length == 128


def test_gs_and_hf_uris_pass_through_unchanged() -> None:
    config = load_config(environ={"IMDB_DATA": "gs://bucket/prefix", "IMDB_BERT_CHECKPOINT": "hf://org/name"})
    assert config.data == "gs://bucket/prefix"
    assert config.bert.checkpoint == "hf://org/name"


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("model", "lstm", "'model'"),
    ("model_format", "pt", "'model_format'"),
    ("text.sequence_length", 0, "'text.sequence_length'"),
    ("text.sequence_length", "long", "'text.sequence_length'"),
    ("bert.max_len", 4096, "'bert.max_len'"),
    ("validation_fraction", 1.5, "'validation_fraction'"),
    ("task", "stars", "'task'"),
    ("label_map", ["0", "4"], "'label_map'"),
    ("label_order", ["only-one"], "'label_order'"),
    ("polarity", {"happy": "upbeat"}, "'polarity'"),
    ("class_balance", "smote", "'class_balance'"),
    ("cnn.embedding_init", "glove", "'cnn.embedding_init'"),
])
def test_bad_settings_fail_naming_setting_and_file(tmp_path: Path, key: str, value, fragment: str) -> None:
    path = write_config(tmp_path, **{key: value})
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert fragment in str(error.value) and str(path) in str(error.value)


def test_unknown_model_from_environment_is_rejected() -> None:
    with pytest.raises(ConfigError, match="'model'.*dense, cnn, rnn, bert, ngram, ensemble"):
        load_config(environ={"IMDB_MODEL": "gpt"})


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.yaml", environ={})
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken, environ={})


def test_early_stopping_holdout_is_a_fraction_overridable_like_the_others(tmp_path: Path) -> None:
    assert load_config(environ={}).early_stopping_holdout == 0.1
    assert load_config(environ={"IMDB_EARLY_STOPPING_HOLDOUT": "0.2"}).early_stopping_holdout == 0.2
    assert load_config(environ={}, early_stopping_holdout=0.25).early_stopping_holdout == 0.25
    path = write_config(tmp_path, early_stopping_holdout=1)
    with pytest.raises(ConfigError, match=rf"setting 'early_stopping_holdout' in {path} must be a number in \(0, 1\)"):
        load_config(path, environ={})


@pytest.mark.parametrize(("settings", "kept", "vocabulary"), [
    ({}, False, "word_vocab.txt"),
    ({"task": "rating"}, True, "scores.word_vocab.txt"),
    ({"task": "rating", "model": "cnn"}, False, "word_vocab.txt"),
    ({"task": "rating", "model": "ngram"}, False, "word_vocab.txt"),
    ({"task": "rating", "dense.keep_scores": False}, False, "word_vocab.txt"),
    ({"model": "cnn", "cnn.keep_scores": True}, True, "scores.word_vocab.txt"),
])
def test_keep_scores_is_the_served_word_familys_and_picks_its_vocabulary(settings: dict, kept: bool,
                                                                         vocabulary: str) -> None:
    """Unset, the dense family keeps stated scores whole for star ratings only; the CNN and RNN read
    "7 10" as a pair and keep them split; a vocabulary with scores kept is a file of its own."""
    config = load_config(environ={}, **settings)
    assert (config.text.keep_scores, config.text.vocab_file.name) == (kept, vocabulary)


def test_keep_scores_must_be_true_false_or_unset_in_every_word_family() -> None:
    with pytest.raises(ConfigError, match="rnn.keep_scores.*true or false"):
        load_config(environ={}, **{"rnn.keep_scores": "sometimes"})


def test_a_variant_file_overrides_its_base_section_by_section(tmp_path: Path) -> None:
    variant = tmp_path / "variant.yaml"
    variant.write_text(yaml.safe_dump({"base": str(DEFAULT_CONFIG_FILE), "task": "rating",
                                       "dense": {"epochs": 3}}))
    config = load_config(variant, environ={})
    default = load_config(environ={})
    assert (config.task, config.dense.epochs) == ("rating", 3)
    assert config.dense.hidden_units == default.dense.hidden_units and config.cnn == default.cnn
    assert config.model_dir == default.model_dir, "paths resolve as in the base file"
    assert load_config(variant, environ={"IMDB_TASK": "sentiment"}, dense__epochs=5).dense.epochs == 5
    looped = tmp_path / "looped.yaml"
    looped.write_text(yaml.safe_dump({"base": "looped.yaml"}))
    with pytest.raises(ConfigError, match="its own base"):
        load_config(looped, environ={})


def test_with_overrides_revalidates() -> None:
    config = load_config(environ={})
    assert config.with_overrides(sample_limit_per_split=10).sample_limit_per_split == 10
    with pytest.raises(ConfigError):
        config.with_overrides(model="nope")


def test_relative_paths_from_env_or_flags_resolve_against_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={"IMDB_DATA": "data/aclImdb"}, model_dir="models")
    assert config.data == str(tmp_path / "data" / "aclImdb")
    assert config.model_dir == tmp_path / "models"
    assert load_config(environ={}).model_dir == REPO_ROOT / "model"


@pytest.mark.parametrize("value", [None, "a tenth", [0.1], True])
def test_fraction_of_the_wrong_type_names_the_setting_and_file(tmp_path: Path, value: object) -> None:
    path = write_config(tmp_path, validation_fraction=value)
    with pytest.raises(ConfigError, match=rf"setting 'validation_fraction' in {path} must be a number in \(0, 1\)"):
        load_config(path, environ={})


def test_path_settings_are_kept_as_the_user_wrote_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Model cards and bench results store the URI as given, never this machine's absolute path."""
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={"IMDB_DATA": "data/aclImdb.tar.gz"}, model_dir="models")
    assert config.data == str(tmp_path / "data" / "aclImdb.tar.gz")
    assert config.as_given("data") == "data/aclImdb.tar.gz"
    assert config.as_given("model_dir") == "models"
    assert config.as_given("text.vocab_file") == "imdb/assets/word_vocab.txt"
    derived = config.with_overrides(data="gs://bucket/imdb")
    assert derived.as_given("data") == "gs://bucket/imdb" and derived.as_given("model_dir") == "models"
    with pytest.raises(KeyError, match="not a path setting"):
        config.as_given("seed")


def test_rnn_and_ensemble_settings_and_members() -> None:
    """The recurrent family's cell is a validated choice; the ensemble's members are the configured
    BERT and n-gram families on the same data, and it reads BERT's token length."""
    config = load_config(environ={}, model="rnn")
    assert (config.word_params.cell, config.word_params.recurrent_units) == ("gru", 64)
    with pytest.raises(ConfigError, match="rnn.cell"):
        load_config(environ={}, **{"rnn.cell": "transformer"})
    ensemble = load_config(environ={"IMDB_MODEL": "ensemble"})
    assert ensemble.uses_bert and ensemble.uses_ngrams and not ensemble.is_bert
    assert ensemble.sequence_length == ensemble.bert.max_len
    assert [ensemble.member(family).model for family in ("bert", "ngram")] == ["bert", "ngram"]
    assert ensemble.member("ngram").data == ensemble.data
    with pytest.raises(ConfigError, match="not a member"):
        ensemble.member("dense")
    with pytest.raises(ConfigError, match="not a word family"):
        ensemble.word_params
