"""Project configuration: one YAML file, overridable by environment variables and CLI flags.

Why: the model family, data source and paths must be switchable without code edits (the
official Tensorleap IMDB example switches models by editing code). Precedence is
CLI flag > environment variable > ``imdb/project_config.yaml``. Every setting is validated
here, at load time, so a typo fails with the setting's name instead of deep inside TensorFlow.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from imdb.contract.names import table_format, table_stem

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = PACKAGE_DIR.parent
DEFAULT_CONFIG_FILE = PACKAGE_DIR / "project_config.yaml"
CONFIG_FILE_ENV = "IMDB_CONFIG"
# A config file's setting naming the file it varies (see _read_file).
BASE_KEY = "base"

MODEL_FAMILIES = ("dense", "cnn", "rnn", "bert", "ngram", "ensemble")
NGRAM_FAMILY = "ngram"
BERT_FAMILY = "bert"
# One served model from two: BERT and the n-gram family, their logits mixed by a weight fit on
# the training split (imdb.training.ensemble).
ENSEMBLE_FAMILY = "ensemble"
ENSEMBLE_MEMBERS = (BERT_FAMILY, NGRAM_FAMILY)
# How a word model's embedding starts: random, or from the BERT checkpoint's WordPiece table.
EMBEDDING_INITS = ("random", "checkpoint")
WORD_FAMILIES = ("dense", "cnn", "rnn")
# The recurrent family's cell: gated recurrent unit or long short-term memory.
RECURRENT_CELLS = ("gru", "lstm")
# onnx-int8: the ONNX file quantised to int8 weights (faster CPU inference; see "The shipped model" in docs/models.md).
MODEL_FORMATS = ("h5", "onnx", "onnx-int8")
KERAS_FORMAT, ONNX_FORMAT, INT8_ONNX_FORMAT = MODEL_FORMATS
MAX_SEQUENCE_LENGTH = 4096
# Longest n-gram the n-gram family may read (trigrams; longer ones are too rare to weigh).
MAX_NGRAM_WORDS = 3
BERT_MAX_POSITIONS = 512
# Which WordPieces of a review longer than bert.max_len the BERT encoder keeps.
TRUNCATIONS = ("head", "tail", "head_tail")
# MiniLM-L6's transformer depth bounds how many lower layers can be frozen.
BERT_MAX_FROZEN_LAYERS = 24
# The arithmetic BERT fine-tuning runs in: auto picks mixed_bfloat16 where the hardware has
# bfloat16 instructions (imdb.training.precision); the saved model is float32 either way.
TRAINING_PRECISIONS = ("auto", "float32", "mixed_bfloat16")
# What an aclImdb source's reviews are classified by: the folder (neg/pos) or the star rating
# in the file name (8 classes). A table source's classes are its label column's values.
TASKS = ("sentiment", "rating")
SENTIMENT_TASK, RATING_TASK = TASKS
# The vocabulary of a word family that keeps stated scores whole: ``scores.<text.vocab_file's name>``.
SCORES_VOCABULARY_PREFIX = "scores"
# How training counters class imbalance: not at all, inverse-frequency loss weights, or
# oversampling the rarer classes to the size of the largest.
CLASS_BALANCES = ("none", "weights", "oversample")
# Who labels the unlabelled reviews a word family also learns from (imdb.training.distill).
NO_TEACHER = "none"
TEACHERS = (NO_TEACHER, NGRAM_FAMILY)
POLARITIES = ("negative", "positive")

# Environment variable -> dotted config key.
ENV_OVERRIDES: dict[str, str] = {
    "IMDB_MODEL": "model",
    "IMDB_MODEL_FORMAT": "model_format",
    "IMDB_MODEL_DIR": "model_dir",
    "IMDB_DATA": "data",
    "IMDB_DATA_ROOT": "data_root",
    "IMDB_SAMPLE_LIMIT": "sample_limit_per_split",
    "IMDB_UNLABELED_LIMIT": "unlabeled_limit",
    "IMDB_TASK": "task",
    "IMDB_TEXT_COLUMN": "text_column",
    "IMDB_LABEL_COLUMN": "label_column",
    "IMDB_ID_COLUMN": "id_column",
    "IMDB_GROUP_COLUMN": "group_column",
    "IMDB_SPLIT_COLUMN": "split_column",
    "IMDB_CLASS_BALANCE": "class_balance",
    "IMDB_EARLY_STOPPING_HOLDOUT": "early_stopping_holdout",
    "IMDB_DISTILLATION_TEACHER": "distillation.teacher",
    "IMDB_DISTILLATION_UNLABELED": "distillation.unlabeled",
    "IMDB_VOCAB_FILE": "text.vocab_file",
    "IMDB_NGRAM_VOCAB_FILE": "ngram.vocab_file",
    "IMDB_BERT_CHECKPOINT": "bert.checkpoint",
    "IMDB_BERT_VOCAB_FILE": "bert.vocab_file",
    "IMDB_BERT_MAX_LEN": "bert.max_len",
    "IMDB_BERT_TRUNCATION": "bert.truncation",
    "IMDB_BERT_TRAINING_PRECISION": "bert.training_precision",
}


# Settings holding paths: relative values from the file resolve against the repository
# root, relative values from the environment or a CLI flag against the working directory.
PATH_KEYS = frozenset({"model_dir", "data", "data_root", "text.vocab_file", "ngram.vocab_file", "bert.checkpoint",
                       "bert.vocab_file"})


class ConfigError(ValueError):
    """A setting is missing, mistyped or out of range; the message names the setting and file."""


@dataclass(frozen=True)
class TableConfig:
    """How a CSV/TSV/JSON Lines/Parquet source becomes labelled texts (ignored for aclImdb)."""

    text_column: str
    label_column: str
    id_column: str | None = None
    group_column: str | None = None
    split_column: str | None = None
    # Raw label value (as text) -> class name; None keeps the values as they are.
    label_map: tuple[tuple[str, str], ...] | None = None
    # The classes in order; None = sorted as found in the data.
    label_order: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TextConfig:
    vocab_size: int
    sequence_length: int
    vocab_file: Path
    # Whether the served word family keeps a stated score ("7/10", "7 out of 10") as one word
    # (its ``keep_scores``; imdb.text.words.standardize).
    keep_scores: bool = False


@dataclass(frozen=True)
class WordModelConfig:
    """Hyper-parameters shared in shape by the word families (dense, CNN, RNN); a field a
    family does not read keeps its zero default."""

    embedding_dim: int
    embedding_dropout: float
    dropout: float
    label_smoothing: float
    epochs: int
    batch_size: int
    learning_rate: float
    hidden_units: int = 0
    filters: tuple[int, ...] = ()
    kernel_size: int = 0
    pool_size: int = 0
    embedding_init: str = "random"
    # The recurrent family: its cell (RECURRENT_CELLS) and units per direction.
    cell: str = ""
    recurrent_units: int = 0


@dataclass(frozen=True)
class NgramConfig:
    """The n-gram linear family: which n-grams it reads and how its weights are fitted."""

    max_n: int
    vocab_size: int
    min_documents: int
    max_ngrams: int
    vocab_file: Path
    # Inverse regularisation strengths of the logistic regression; more than one is chosen
    # between by cross-validation on the training split (never on validation).
    regularization: tuple[float, ...]
    cross_validation_folds: int
    # Naive Bayes log-count-ratio feature scaling (Wang & Manning 2012), for two classes.
    nb_weighting: bool
    max_iterations: int


@dataclass(frozen=True)
class DistillationConfig:
    """The word families' teacher: which model labels the unlabelled reviews (``none``: no
    distillation) and how many of them it labels (None: all the source holds)."""

    teacher: str
    unlabeled: int | None


@dataclass(frozen=True)
class EnsembleConfig:
    """The ensemble family: how many training reviews its mixing weight is fit on."""

    fit_samples: int


@dataclass(frozen=True)
class BertConfig:
    """The BERT family. ``checkpoint`` is read only to train; serving tokenises with the
    committed copy of the checkpoint's vocabulary (``vocab_file``, ``lowercase``)."""

    checkpoint: str
    vocab_file: Path
    lowercase: bool
    max_len: int
    dropout: float
    epochs: int
    batch_size: int
    learning_rate: float
    train_samples: int | None
    truncation: str = "head_tail"
    # Optimizer steps between mid-epoch checkpoints (each also a point of the learning curve).
    checkpoint_every: int = 125
    # Batches are padded to their longest review rounded up to a multiple of this.
    pad_multiple: int = 16
    # Training levers: the embedding tables and the lowest transformer layers kept frozen.
    freeze_embeddings: bool = False
    frozen_layers: int = 0
    # Training arithmetic (TRAINING_PRECISIONS); serving is always float32.
    training_precision: str = "float32"


@dataclass(frozen=True)
class Config:
    model: str
    model_format: str
    model_dir: Path
    data: str
    data_root: Path
    validation_fraction: float
    seed: int
    # Share of the training split the word families hold out to choose their epoch on.
    early_stopping_holdout: float
    sample_limit_per_split: int | None
    # Unlabelled reviews served (aclImdb's train/unsup/, a seeded sample): None = all, 0 = none.
    unlabeled_limit: int | None
    task: str
    table: TableConfig
    # Class name -> negative/positive, for the behavioural probes; None = derived where it can be.
    polarity: tuple[tuple[str, str], ...] | None
    class_balance: str
    distillation: DistillationConfig
    text: TextConfig
    dense: WordModelConfig
    cnn: WordModelConfig
    rnn: WordModelConfig
    ngram: NgramConfig
    bert: BertConfig
    ensemble: EnsembleConfig
    source_file: Path = field(default=DEFAULT_CONFIG_FILE, compare=False)
    # The settings as read (after environment and CLI overrides), kept to derive variants.
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    # Path settings exactly as the user wrote them (file, environment or flag), for model
    # cards and benchmark results: a URI as given, never this machine's absolute path.
    given: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_bert(self) -> bool:
        return self.model == BERT_FAMILY

    @property
    def is_ensemble(self) -> bool:
        return self.model == ENSEMBLE_FAMILY

    @property
    def uses_bert(self) -> bool:
        """The served model reads BERT's inputs (the BERT family, or the ensemble holding it)."""
        return self.is_bert or self.is_ensemble

    @property
    def uses_ngrams(self) -> bool:
        """The served model reads the n-gram ids (the n-gram family, or the ensemble holding it)."""
        return self.is_ngram or self.is_ensemble

    def member(self, family: str) -> "Config":
        """This configuration serving one of the ensemble's members instead (same data, paths, task)."""
        if family not in ENSEMBLE_MEMBERS:
            raise ConfigError(f"'{family}' is not a member of the ensemble ({', '.join(ENSEMBLE_MEMBERS)})")
        return self.with_overrides(model=family)

    @property
    def word_params(self) -> WordModelConfig:
        """The configured word family's hyper-parameters (``dense.*``, ``cnn.*`` or ``rnn.*``)."""
        if self.model not in WORD_FAMILIES:
            raise ConfigError(f"model '{self.model}' is not a word family ({', '.join(WORD_FAMILIES)})")
        return getattr(self, self.model)

    @property
    def is_ngram(self) -> bool:
        return self.model == NGRAM_FAMILY

    @property
    def is_table(self) -> bool:
        """The data is one CSV/TSV/JSON Lines/Parquet file (its classes come from a column)."""
        return table_format(self.data) is not None

    @property
    def corpus_name(self) -> str:
        """What the trained files of this corpus and task are prefixed with: empty for IMDB
        sentiment (the files the repository ships), ``rating`` for IMDB ratings, the table's
        file stem (``tweets`` for ``tweets.csv``) for a table."""
        if self.is_table:
            return table_stem(self.data)
        return "" if self.task == SENTIMENT_TASK else self.task

    @property
    def sequence_length(self) -> int:
        """Length of the configured model's token input: words for the word families, WordPieces
        for BERT and the ensemble (whose review the dashboard shows as BERT reads it), distinct
        n-grams for the n-gram family."""
        if self.uses_bert:
            return self.bert.max_len
        return self.ngram.max_ngrams if self.is_ngram else self.text.sequence_length

    def with_overrides(self, **overrides: Any) -> "Config":
        """A copy with top-level or dotted (``bert.max_len``) settings replaced and re-validated;
        like CLI flags, ``None`` keeps a setting and a relative path is relative to the working
        directory."""
        raw = copy.deepcopy(self.raw)
        given = dict(self.given)
        _apply_overrides(raw, overrides, given)
        return _build(raw, self.source_file, given)

    def as_given(self, key: str) -> str:
        """A path setting (``data``, ``bert.checkpoint``, ...) as the user wrote it."""
        if key not in PATH_KEYS:
            raise KeyError(f"{key!r} is not a path setting ({', '.join(sorted(PATH_KEYS))})")
        return str(self.given[key])


def load_config(path: str | os.PathLike | None = None, *, environ: Mapping[str, str] | None = None,
                **overrides: Any) -> Config:
    """Load the YAML file, apply environment overrides, then keyword (CLI) overrides."""
    env = os.environ if environ is None else environ
    source = Path(path or env.get(CONFIG_FILE_ENV) or DEFAULT_CONFIG_FILE).expanduser()
    raw = _read_file(source, ())
    given = {key: value for key in PATH_KEYS if (value := _get_dotted(raw, key)) is not None}
    for env_name, key in ENV_OVERRIDES.items():
        if env.get(env_name):
            value = env[env_name] if key in PATH_KEYS else yaml.safe_load(env[env_name])
            _set_override(raw, given, key, value)
    _apply_overrides(raw, overrides, given)
    return _build(raw, source, given)


def _read_file(source: Path, reading: tuple[Path, ...]) -> dict:
    """The settings of ``source``; a file naming a ``base`` file (relative to itself) holds only
    what differs from that one, merged over it section by section."""
    if source.resolve() in reading:
        raise ConfigError(f"config file {source} is its own base ({' -> '.join(map(str, reading))})")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {source}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {source} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {source} must hold a mapping of settings")
    base = raw.pop(BASE_KEY, None)
    if base is None:
        return raw
    if not isinstance(base, str) or not base:
        raise ConfigError(f"setting '{BASE_KEY}' in {source} must be the path of a config file, got {base!r}")
    return _merged(_read_file((source.parent / base).expanduser(), (*reading, source.resolve())), raw)


def _merged(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` applied: mappings merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = (_merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict)
                       else value)
    return merged


def _apply_overrides(raw: dict, overrides: Mapping[str, Any], given: dict[str, Any]) -> None:
    """Keyword overrides (``bert__max_len`` or ``bert.max_len``) into ``raw``; ``None`` is skipped."""
    for key, value in overrides.items():
        if value is not None:
            _set_override(raw, given, key.replace("__", "."), value)


def _set_override(raw: dict, given: dict[str, Any], key: str, value: Any) -> None:
    if key in PATH_KEYS:
        given[key] = os.fspath(value) if isinstance(value, os.PathLike) else value
    _set_dotted(raw, key, _from_working_directory(key, value))


def _get_dotted(raw: dict, key: str) -> Any:
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _from_working_directory(key: str, value: Any) -> Any:
    """A relative path typed by the user (env or flag) means relative to where they are."""
    if key in PATH_KEYS and isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if "://" not in text and not text.startswith("~") and not os.path.isabs(text):
            return os.path.abspath(text)
    return value


def resolve_path(value: str | os.PathLike) -> Path:
    """Expand ``~`` and resolve relative paths against the repository root, not the CWD."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def resolve_uri(value: str) -> str:
    """Local paths become absolute; ``gs://`` and ``hf://`` URIs pass through unchanged."""
    if "://" in value:
        return value
    return str(resolve_path(value))


def _set_dotted(raw: dict, key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _build(raw: dict, source: Path, given: dict[str, Any]) -> Config:
    reader = _Reader(raw, source)
    model = reader.choice("model", MODEL_FAMILIES)
    config = Config(
        model=model,
        model_format=reader.choice("model_format", MODEL_FORMATS),
        model_dir=resolve_path(reader.string("model_dir")),
        data=resolve_uri(reader.string("data")),
        data_root=resolve_path(reader.string("data_root")),
        validation_fraction=reader.fraction("validation_fraction"),
        seed=reader.integer("seed", minimum=0),
        early_stopping_holdout=reader.fraction("early_stopping_holdout"),
        sample_limit_per_split=reader.optional_integer("sample_limit_per_split", minimum=1),
        unlabeled_limit=reader.optional_integer("unlabeled_limit", minimum=0),
        task=reader.choice("task", TASKS),
        table=TableConfig(
            text_column=reader.string("text_column"),
            label_column=reader.string("label_column"),
            id_column=reader.optional_string("id_column"),
            group_column=reader.optional_string("group_column"),
            split_column=reader.optional_string("split_column"),
            label_map=reader.optional_mapping("label_map"),
            label_order=reader.optional_string_list("label_order"),
        ),
        polarity=reader.optional_mapping("polarity", values=POLARITIES),
        class_balance=reader.choice("class_balance", CLASS_BALANCES),
        distillation=DistillationConfig(
            teacher=reader.choice("distillation.teacher", TEACHERS),
            unlabeled=reader.optional_integer("distillation.unlabeled", minimum=1),
        ),
        text=_text(reader, raw),
        dense=_word_model(reader, "dense"),
        cnn=_word_model(reader, "cnn"),
        rnn=_word_model(reader, "rnn"),
        ngram=NgramConfig(
            max_n=reader.integer("ngram.max_n", minimum=1, maximum=MAX_NGRAM_WORDS),
            vocab_size=reader.integer("ngram.vocab_size", minimum=3),
            min_documents=reader.integer("ngram.min_documents", minimum=1),
            max_ngrams=reader.integer("ngram.max_ngrams", minimum=1, maximum=MAX_SEQUENCE_LENGTH),
            vocab_file=_corpus_vocabulary(resolve_path(reader.string("ngram.vocab_file")), raw),
            regularization=tuple(reader.positive_float_list("ngram.regularization")),
            cross_validation_folds=reader.integer("ngram.cross_validation_folds", minimum=2),
            nb_weighting=reader.boolean("ngram.nb_weighting"),
            max_iterations=reader.integer("ngram.max_iterations", minimum=1),
        ),
        bert=BertConfig(
            checkpoint=resolve_uri(reader.string("bert.checkpoint")),
            vocab_file=resolve_path(reader.string("bert.vocab_file")),
            lowercase=reader.boolean("bert.lowercase"),
            max_len=reader.integer("bert.max_len", minimum=2, maximum=BERT_MAX_POSITIONS),
            dropout=reader.fraction("bert.dropout", allow_zero=True),
            epochs=reader.integer("bert.epochs", minimum=1),
            batch_size=reader.integer("bert.batch_size", minimum=1),
            learning_rate=reader.positive_float("bert.learning_rate"),
            train_samples=reader.optional_integer("bert.train_samples", minimum=2),
            truncation=reader.choice("bert.truncation", TRUNCATIONS),
            checkpoint_every=reader.integer("bert.checkpoint_every", minimum=1),
            pad_multiple=reader.integer("bert.pad_multiple", minimum=1, maximum=BERT_MAX_POSITIONS),
            freeze_embeddings=reader.boolean("bert.freeze_embeddings"),
            frozen_layers=reader.integer("bert.frozen_layers", minimum=0, maximum=BERT_MAX_FROZEN_LAYERS),
            training_precision=reader.choice("bert.training_precision", TRAINING_PRECISIONS),
        ),
        ensemble=EnsembleConfig(fit_samples=reader.integer("ensemble.fit_samples", minimum=2)),
        source_file=source,
        raw=copy.deepcopy(raw),
        given=dict(given),
    )
    return config


def _text(reader: "_Reader", raw: dict) -> TextConfig:
    """The word tokenizer's settings for the served word family. A family that keeps stated scores
    whole (``<family>.keep_scores``) reads a vocabulary of its own (``scores.<name>``): its words
    differ ("7/10"), and training it must never overwrite the words the other models read."""
    keep_scores = _keep_scores(reader, raw)
    vocab_file = _corpus_vocabulary(resolve_path(reader.string("text.vocab_file")), raw)
    if keep_scores:
        vocab_file = vocab_file.with_name(f"{SCORES_VOCABULARY_PREFIX}.{vocab_file.name}")
    return TextConfig(vocab_size=reader.integer("text.vocab_size", minimum=3),
                      sequence_length=reader.integer("text.sequence_length", minimum=1, maximum=MAX_SEQUENCE_LENGTH),
                      vocab_file=vocab_file, keep_scores=keep_scores)


def _keep_scores(reader: "_Reader", raw: dict) -> bool:
    """``<family>.keep_scores`` of the served word family: true, false, or unset (null) = on for
    ``task: rating`` only; every word family's value is checked, served or not."""
    given = {family: reader.boolean(f"{family}.keep_scores") for family in WORD_FAMILIES
             if isinstance(raw.get(family), dict) and raw[family].get("keep_scores") is not None}
    family = raw.get("model")
    if family not in WORD_FAMILIES:
        return False
    return given.get(family, raw.get("task") == RATING_TASK)


def _corpus_vocabulary(path: Path, raw: dict) -> Path:
    """A table corpus has words of its own: its vocabulary is ``<stem>.<name>`` beside the
    configured file, so training on it never overwrites IMDB's (which both IMDB tasks share where
    their families standardise alike: they train on the same reviews)."""
    data = str(raw.get("data") or "")
    return path.with_name(f"{table_stem(data)}.{path.name}") if table_format(data) else path


def _scalar_text(value: Any) -> str:
    """How a label value is compared: ``4`` in YAML, ``4`` in a CSV and ``"4"`` in JSON are one label."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _word_model(reader: "_Reader", name: str) -> WordModelConfig:
    section = reader.get(name)
    if not isinstance(section, dict):
        raise ConfigError(f"setting '{name}' in {reader.source} must be a mapping")
    return WordModelConfig(
        embedding_dim=reader.integer(f"{name}.embedding_dim", minimum=1),
        embedding_dropout=reader.fraction(f"{name}.embedding_dropout", allow_zero=True),
        dropout=reader.fraction(f"{name}.dropout", allow_zero=True),
        label_smoothing=reader.fraction(f"{name}.label_smoothing", allow_zero=True),
        epochs=reader.integer(f"{name}.epochs", minimum=1),
        batch_size=reader.integer(f"{name}.batch_size", minimum=1),
        learning_rate=reader.positive_float(f"{name}.learning_rate"),
        hidden_units=reader.integer(f"{name}.hidden_units", minimum=1) if "hidden_units" in section else 0,
        filters=tuple(reader.int_list(f"{name}.filters")) if "filters" in section else (),
        kernel_size=reader.integer(f"{name}.kernel_size", minimum=1) if "kernel_size" in section else 0,
        pool_size=reader.integer(f"{name}.pool_size", minimum=1) if "pool_size" in section else 0,
        embedding_init=(reader.choice(f"{name}.embedding_init", EMBEDDING_INITS) if "embedding_init" in section
                        else "random"),
        cell=reader.choice(f"{name}.cell", RECURRENT_CELLS) if "cell" in section else "",
        recurrent_units=(reader.integer(f"{name}.recurrent_units", minimum=1) if "recurrent_units" in section
                         else 0),
    )


class _Reader:
    """Typed access to the raw mapping; every failure names the dotted key and the file."""

    def __init__(self, raw: dict, source: Path) -> None:
        self.raw = raw
        self.source = source

    def get(self, key: str) -> Any:
        node: Any = self.raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(f"setting '{key}' is missing from {self.source}")
            node = node[part]
        return node

    def _fail(self, key: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"setting '{key}' in {self.source} must be {expected}, got {value!r}")

    def string(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            raise self._fail(key, "a non-empty string", value)
        return str(value)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self.get(key)
        if value not in options:
            raise self._fail(key, f"one of {', '.join(options)}", value)
        return value

    def integer(self, key: str, *, minimum: int, maximum: int | None = None) -> int:
        value = self.get(key)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
                maximum is not None and value > maximum):
            bound = f" and at most {maximum}" if maximum is not None else ""
            raise self._fail(key, f"an integer at least {minimum}{bound}", value)
        return value

    def optional_integer(self, key: str, *, minimum: int) -> int | None:
        value = self.get(key)
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
            return None
        return self.integer(key, minimum=minimum)

    def boolean(self, key: str) -> bool:
        value = self.get(key)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            value = value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def positive_float(self, key: str) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self._fail(key, "a positive number", value)
        return float(value)

    def fraction(self, key: str, *, allow_zero: bool = False) -> float:
        value = self.get(key)
        expected = "a number in [0, 1)" if allow_zero else "a number in (0, 1)"
        # Type first: comparing None or a string with a number would raise TypeError, not
        # the error that names the setting and the file.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(key, expected, value)
        low_ok = (value >= 0) if allow_zero else (value > 0)
        if not low_ok or value >= 1:
            raise self._fail(key, expected, value)
        return float(value)

    def optional_string(self, key: str) -> str | None:
        value = self.get_or_none(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return self.string(key)

    def get_or_none(self, key: str) -> Any:
        """A setting that may be left out of the file: absent reads as null."""
        try:
            return self.get(key)
        except ConfigError:
            return None

    def optional_mapping(self, key: str, *, values: tuple[str, ...] | None = None) -> tuple[tuple[str, str], ...] | None:
        """A mapping of scalars (``0: negative``), keys and values read as text, in file order."""
        value = self.get_or_none(key)
        if value is None:
            return None
        if not isinstance(value, dict) or not value or not all(
                isinstance(item, (str, int, float, bool)) for pair in value.items() for item in pair):
            raise self._fail(key, "a mapping of values (e.g. {0: negative, 4: positive})", value)
        pairs = tuple((_scalar_text(raw), _scalar_text(name)) for raw, name in value.items())
        if values is not None and any(name not in values for _, name in pairs):
            raise self._fail(key, f"a mapping whose values are {' or '.join(values)}", value)
        return pairs

    def optional_string_list(self, key: str) -> tuple[str, ...] | None:
        value = self.get_or_none(key)
        if value is None:
            return None
        if not isinstance(value, (list, tuple)) or len(value) < 2 or not all(
                isinstance(item, (str, int)) and not isinstance(item, bool) for item in value) or \
                len({_scalar_text(item) for item in value}) != len(value):
            raise self._fail(key, "a list of at least 2 distinct class names", value)
        return tuple(_scalar_text(item) for item in value)

    def positive_float_list(self, key: str) -> list[float]:
        """A positive number or a non-empty list of them."""
        value = self.get(key)
        items = value if isinstance(value, (list, tuple)) else [value]
        if not items or not all(isinstance(item, (int, float)) and not isinstance(item, bool) and item > 0
                                for item in items):
            raise self._fail(key, "a positive number or a non-empty list of them", value)
        return [float(item) for item in items]

    def int_list(self, key: str) -> list[int]:
        value = self.get(key)
        if not isinstance(value, (list, tuple)) or not value or not all(
                isinstance(item, int) and item > 0 for item in value):
            raise self._fail(key, "a non-empty list of positive integers", value)
        return list(value)
