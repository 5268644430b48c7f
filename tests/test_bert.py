"""BERT family on the real MiniLM checkpoint: encoder, classifier, resumable training, checkpoints.

Why the real checkpoint and data: the contract under test is *this* vocabulary's WordPieces,
*these* pretrained weights and the real reviews; a toy vocabulary would not catch a
tokenizer that disagrees with the checkpoint. A missing checkpoint fails the run loudly.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from imdb.contract.config import Config, ConfigError, load_config
from imdb.data import Corpus
from imdb.contract.model_files import BERT_INPUT_NAMES as INPUT_NAMES
from imdb.contract.model_files import ModelError
from imdb.models.bert import build_classifier
from imdb.models.bert_layers import custom_objects
from imdb.models.bert_checkpoint import SafetensorsReader
from imdb.models.loading import load_keras_model
from imdb.text.checkpoint import WEIGHTS_FILE, resolve_checkpoint
from imdb.text.wordpiece import BertEncoder, merge_wordpieces
from imdb.tools.evaluate import evaluate
from imdb.training.bert import CHECKPOINT_DIR, STATE_FILE, train_bert

HIDDEN_SIZE = 384  # MiniLM-L6's width: the size of the pooled ``latent`` representation
SHORT_LEN = 16
MODEL_LEN = 64
# Tiny but real fine-tuning run: 32 balanced reviews, 4 steps of 8 per epoch.
TINY_SAMPLES = 32
TINY_BATCH = 8
TINY_STEPS_PER_EPOCH = TINY_SAMPLES // TINY_BATCH
REAL_REVIEWS = 4
ARBITRARY_TOKEN_ID = 2000
LOGIT_TOLERANCE = 1e-5

# Keras converts its variables with np.array(..., copy=False), which NumPy 2 flags on every
# save and load; the warning is Keras's, not ours, and would drown the report.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


@pytest.fixture(scope="module")
def checkpoint(bert_checkpoint: Path) -> Path:
    """The real checkpoint, with its weights (``$IMDB_BERT_CHECKPOINT``, ``../shared`` by default)."""
    if not all((bert_checkpoint / name).is_file() for name in ("config.json", "vocab.txt", WEIGHTS_FILE)):
        pytest.fail(f"the MiniLM checkpoint is required at {bert_checkpoint} (config.json, vocab.txt, "
                    f"{WEIGHTS_FILE})", pytrace=False)
    return bert_checkpoint


def bert_config(checkpoint: Path, data_uri: str, data_root: Path, **overrides: object) -> Config:
    """A BERT configuration isolated from the caller's environment variables."""
    return load_config(environ={}, model="bert", data=data_uri, data_root=data_root,
                       **{"bert.checkpoint": str(checkpoint), **overrides})


@pytest.fixture(scope="module")
def encoder(checkpoint: Path) -> BertEncoder:
    return BertEncoder(checkpoint / "vocab.txt", SHORT_LEN)


# ---------------------------------------------------------------- encoder


def test_encoder_places_cls_sep_padding_and_masks(encoder: BertEncoder) -> None:
    encoded = encoder.encode("A <br /><br />GREAT film!")
    inputs = encoded.inputs
    assert tuple(inputs) == INPUT_NAMES == encoder.input_names
    for array in inputs.values():
        assert array.dtype == np.float32 and array.shape == (SHORT_LEN,)
    shown = encoder.display_tokens(inputs["input_ids"])
    assert shown == ["[CLS]", "a", "great", "film", "!", "[SEP]"] + [""] * (SHORT_LEN - 6)
    assert inputs["input_ids"][6:].tolist() == [0.0] * (SHORT_LEN - 6)
    assert inputs["attention_mask"].tolist() == [1.0] * 6 + [0.0] * (SHORT_LEN - 6)
    assert inputs["token_type_ids"].tolist() == [0.0] * SHORT_LEN
    assert (encoded.token_count, encoded.oov_count) == (6, 0)


def test_long_review_is_truncated_and_still_ends_with_sep(encoder: BertEncoder) -> None:
    text = "an unbelievably long review " * 40
    encoded = encoder.encode(text)
    shown = encoder.display_tokens(encoded.inputs["input_ids"])
    assert len(shown) == SHORT_LEN and shown[0] == "[CLS]" and shown[-1] == "[SEP]"
    assert encoded.inputs["attention_mask"].tolist() == [1.0] * SHORT_LEN
    assert encoded.token_count == len(encoder.wordpiece_ids(text)) + 2 > encoder.sequence_length


def test_unknown_pieces_are_counted_and_accents_follow_the_checkpoint(encoder: BertEncoder) -> None:
    encoded = encoder.encode("Café ☃ fine ☃")
    shown = encoder.display_tokens(encoded.inputs["input_ids"])
    # Hugging Face's uncased BERT strips accents and maps unknown symbols to [UNK].
    assert shown[:6] == ["[CLS]", "cafe", "[UNK]", "fine", "[UNK]", "[SEP]"]
    assert encoded.oov_count == 2


@pytest.mark.parametrize("text", ["", "   ", "<br /><br />"])
def test_empty_review_is_only_cls_and_sep(encoder: BertEncoder, text: str) -> None:
    encoded = encoder.encode(text)
    assert encoder.display_tokens(encoded.inputs["input_ids"]) == ["[CLS]", "[SEP]"] + [""] * (SHORT_LEN - 2)
    assert encoded.inputs["attention_mask"].sum() == 2
    assert (encoded.token_count, encoded.oov_count) == (2, 0)


def test_display_tokens_accept_a_batched_row(encoder: BertEncoder) -> None:
    ids = encoder.encode("fine").inputs["input_ids"][np.newaxis, :]
    assert len(encoder.display_tokens(ids)) == SHORT_LEN


def test_encoder_from_config_needs_no_checkpoint(checkpoint: Path, encoder: BertEncoder, imdb_data_uri: str,
                                                 data_root: Path, tmp_path: Path) -> None:
    """Serving tokenises with the committed vocabulary: a checkpoint that is nowhere (a missing
    directory, an unreachable hub URI) does not matter, and the ids are the checkpoint's."""
    review = "An unbelievable, Naïve film; I'd watch it again!"
    for absent in (str(tmp_path / "no-such-checkpoint"), "hf://imdb-leap-tests/no-such-model"):
        config = bert_config(Path(absent), imdb_data_uri, data_root, **{"bert.max_len": SHORT_LEN})
        built = BertEncoder.from_config(config)
        assert built.sequence_length == config.sequence_length == SHORT_LEN
        np.testing.assert_array_equal(built.encode(review).inputs["input_ids"],
                                      encoder.encode(review).inputs["input_ids"])


def test_committed_vocabulary_is_the_checkpoints(checkpoint: Path) -> None:
    """The asset cannot drift from the checkpoint training reads: same bytes, same lower-casing."""
    from imdb.text.checkpoint import checkpoint_lowercases

    config = load_config(environ={})
    assert config.bert.vocab_file.read_bytes() == (checkpoint / "vocab.txt").read_bytes()
    assert config.bert.lowercase == checkpoint_lowercases(str(checkpoint))


def test_missing_vocabulary_asset_names_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "no-vocab.txt"
    config = load_config(environ={}, model="bert", **{"bert.vocab_file": str(missing)})
    with pytest.raises(ConfigError, match=rf"bert\.vocab_file.*{missing.name}.*does not exist"):
        BertEncoder.from_config(config)


def test_training_refuses_a_checkpoint_with_another_vocabulary(checkpoint: Path, tmp_path: Path) -> None:
    from imdb.models.bert import check_serving_tokenizer

    other = tmp_path / "other_vocab.txt"
    other.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nfilm\n", encoding="utf-8")
    config = load_config(environ={}, model="bert", **{"bert.vocab_file": str(other)})
    with pytest.raises(ConfigError, match=r"bert\.vocab_file.*other_vocab\.txt.*vocab\.txt"):
        check_serving_tokenizer(config, str(checkpoint))
    check_serving_tokenizer(load_config(environ={}, model="bert"), str(checkpoint))
    with pytest.raises(ConfigError, match=r"bert\.lowercase"):
        check_serving_tokenizer(load_config(environ={}, model="bert", **{"bert.lowercase": False}), str(checkpoint))


def test_merge_wordpieces_sums_scores_and_drops_special_tokens() -> None:
    tokens = ["[CLS]", "un", "##bel", "##ievable", "film", ",", "[UNK]", "[SEP]", "", ""]
    scores = np.array([9.0, 0.25, 0.5, 0.25, -1.0, 0.0, 2.0, 9.0, 9.0, 9.0], dtype=np.float32)
    words, word_scores = merge_wordpieces(tokens, scores)
    assert words == ["unbelievable", "film", ",", "[UNK]"]
    assert word_scores == [1.0, -1.0, 0.0, 2.0] and all(type(score) is float for score in word_scores)
    assert merge_wordpieces(["##ing", "##s"], [1.0, 2.0]) == (["ings"], [3.0])
    with pytest.raises(ValueError, match="2 tokens but 1 scores"):
        merge_wordpieces(["a", "b"], [1.0])


# ---------------------------------------------------------------- checkpoint resolution


def test_missing_checkpoint_directory_names_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-checkpoint"
    with pytest.raises(ConfigError, match=rf"bert\.checkpoint.*{missing.name}.*does not exist"):
        resolve_checkpoint(str(missing))


def test_incomplete_checkpoint_directory_lists_missing_files(tmp_path: Path, checkpoint: Path) -> None:
    (tmp_path / "config.json").write_text((checkpoint / "config.json").read_text())
    with pytest.raises(ConfigError, match=r"bert\.checkpoint.*lacks vocab\.txt, model\.safetensors"):
        resolve_checkpoint(str(tmp_path))


def test_hf_uri_offline_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    # The hub client reads the variable at import time, so the constant is pinned too.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    uri = "hf://imdb-leap-tests/no-such-model"
    with pytest.raises(ConfigError, match=r"bert\.checkpoint.*hf://imdb-leap-tests/no-such-model.*local directory"):
        resolve_checkpoint(uri)


def test_default_hf_checkpoint_offline_is_one_line_naming_the_setting_and_its_variable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default ``bert.checkpoint`` is the hub's MiniLM; offline, with an empty hub cache and
    no override, training cannot start, and the one-line error says which setting to point where."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    default = load_config(environ={}).bert.checkpoint
    assert default == "hf://sentence-transformers/all-MiniLM-L6-v2"
    with pytest.raises(ConfigError) as caught:
        resolve_checkpoint(default)
    message = str(caught.value)
    assert "\n" not in message
    assert all(part in message for part in ("'bert.checkpoint'", "IMDB_BERT_CHECKPOINT", default, "offline"))


# ---------------------------------------------------------------- classifier


@pytest.fixture(scope="module")
def classifier_config(checkpoint: Path, imdb_data_uri: str, data_root: Path,
                      tmp_path_factory: pytest.TempPathFactory) -> Config:
    return bert_config(checkpoint, imdb_data_uri, data_root, model_dir=tmp_path_factory.mktemp("bert-model"),
                       **{"bert.max_len": MODEL_LEN})


@pytest.fixture(scope="module")
def classifier(classifier_config: Config):
    import keras

    keras.utils.set_random_seed(classifier_config.seed)
    return build_classifier(classifier_config)


@pytest.fixture(scope="module")
def real_inputs(classifier_config: Config, imdb_corpus: Corpus) -> list[np.ndarray]:
    """A few real reviews (both labels), as float32 arrays in the encoder's input order."""
    model_encoder = BertEncoder.from_config(classifier_config)
    ids = imdb_corpus.ids("training")
    chosen = ids[: REAL_REVIEWS // 2] + ids[-REAL_REVIEWS // 2:]
    encoded = [model_encoder.encode(imdb_corpus[i].text) for i in chosen]
    return [np.stack([item.inputs[name] for item in encoded]) for name in INPUT_NAMES]


def test_classifier_contract(classifier) -> None:
    assert [tensor.name for tensor in classifier.inputs] == list(INPUT_NAMES)
    assert all(tuple(tensor.shape) == (None, MODEL_LEN) and tensor.dtype == "float32" for tensor in classifier.inputs)
    assert tuple(classifier.get_layer("latent").output.shape) == (None, HIDDEN_SIZE)
    assert classifier.get_layer("logits").units == 2


def test_padding_positions_do_not_change_the_logits(classifier, classifier_config: Config) -> None:
    """The attention mask reaches both the backbone and the mean pooling: whatever sits in
    padded positions is ignored."""
    model_encoder = BertEncoder.from_config(classifier_config)
    encoded = [model_encoder.encode(text) for text in ("Great film.", "Dull, dull and far too long.")]
    inputs = [np.stack([item.inputs[name] for item in encoded]) for name in INPUT_NAMES]
    ids, mask, types = (array.copy() for array in inputs)
    ids[mask == 0] = ARBITRARY_TOKEN_ID
    np.testing.assert_allclose(np.asarray(classifier([ids, mask, types], training=False)),
                               np.asarray(classifier(inputs, training=False)), atol=LOGIT_TOLERANCE)


def test_backbone_holds_the_pretrained_weights(classifier, checkpoint: Path) -> None:
    embeddings = classifier.get_layer("bert_backbone").get_layer("token_embedding").embeddings
    expected = SafetensorsReader(checkpoint / WEIGHTS_FILE).get_tensor("embeddings.word_embeddings.weight")
    np.testing.assert_array_equal(np.asarray(embeddings), expected)


def test_classifier_gives_logits_on_real_reviews(classifier, real_inputs: list[np.ndarray]) -> None:
    logits = np.asarray(classifier(real_inputs, training=False))
    assert logits.shape == (REAL_REVIEWS, 2) and logits.dtype == np.float32
    assert np.isfinite(logits).all()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_classifier_reloads_with_identical_logits(classifier, real_inputs: list[np.ndarray],
                                                        tmp_path: Path, suffix: str) -> None:
    import keras

    path = tmp_path / f"bert{suffix}"
    classifier.save(path)
    reloaded = keras.models.load_model(path, compile=False, custom_objects=custom_objects())
    np.testing.assert_array_equal(np.asarray(reloaded(real_inputs, training=False)),
                                  np.asarray(classifier(real_inputs, training=False)))


def test_loading_checks_the_sequence_length(classifier, classifier_config: Config) -> None:
    classifier.save(classifier_config.model_dir / "bert.keras")
    assert load_keras_model(classifier_config).inputs[0].shape[1] == MODEL_LEN
    shorter = classifier_config.with_overrides(**{"bert.max_len": SHORT_LEN})
    with pytest.raises(ModelError, match=rf"length \[{MODEL_LEN}\] but bert\.max_len is {SHORT_LEN}"):
        load_keras_model(shorter)


# ---------------------------------------------------------------- resumable training


@pytest.fixture(scope="module")
def training_config(checkpoint: Path, imdb_data_uri: str, data_root: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> Config:
    return bert_config(checkpoint, imdb_data_uri, data_root, model_dir=tmp_path_factory.mktemp("bert-train"),
                       sample_limit_per_split=TINY_SAMPLES, **{"bert.batch_size": TINY_BATCH})


def _state(config: Config) -> dict:
    return json.loads((config.model_dir / CHECKPOINT_DIR / STATE_FILE).read_text())


def _train(config: Config, **options: object) -> dict:
    # bfloat16 explicitly (whatever ``auto`` picks on this machine): the run then covers the
    # mixed-precision steps and the float32 twin that is scored and saved.
    settings = {"max_len": MODEL_LEN, "train_samples": TINY_SAMPLES, "training_precision": "mixed_bfloat16",
                **options}
    return train_bert(config.with_overrides(**{f"bert.{key}": value for key, value in settings.items()}),
                      progress=False)


@dataclass(frozen=True)
class TinyRun:
    """One epoch, then the same command asking for two: what each call returned and logged."""

    config: Config
    first_card: dict
    first_state: dict
    resumed_card: dict
    resumed_state: dict
    resume_log: str


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def tiny_run(training_config: Config) -> TinyRun:
    """Real fine-tuning, kept tiny: the two calls share one checkpoint directory."""
    first_card = _train(training_config, epochs=1)
    first_state = _state(training_config)
    logger = logging.getLogger("imdb.training.bert")
    records, level = _Records(), logger.level
    logger.addHandler(records)
    logger.setLevel(logging.INFO)
    try:
        resumed_card = _train(training_config, epochs=2)
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
    return TinyRun(training_config, first_card, first_state, resumed_card, _state(training_config),
                   "\n".join(records.lines))


def test_training_writes_model_card_and_checkpoint(tiny_run: TinyRun) -> None:
    card = tiny_run.first_card
    assert (card["family"], card["train_samples"], card["validation_samples"]) == ("bert", TINY_SAMPLES, TINY_SAMPLES)
    assert (card["sequence_length"], card["epochs_run"], card["resumed_from_epoch"]) == (MODEL_LEN, 1, 0)
    assert 0.0 <= card["validation_accuracy"] <= 1.0 and card["validation_loss"] > 0
    assert 0.0 <= card["float32_validation_accuracy"] <= 1.0 and card["float32_validation_loss"] > 0
    # The headline figure is the shipped file's, exactly as `imdb-leap evaluate` computes it
    # (the files on disk are the second, resumed run's).
    card = tiny_run.resumed_card
    config = tiny_run.config.with_overrides(model_format="h5", **{"bert.max_len": MODEL_LEN})
    (config.model_dir / "bert.h5").rename(config.model_dir / "bert.float32.h5")
    try:
        evaluated = evaluate(config, "validation", progress=False)
    finally:
        (config.model_dir / "bert.float32.h5").rename(config.model_dir / "bert.h5")
    assert evaluated["format"] == "h5"
    assert round(evaluated["accuracy"], 4) == card["validation_accuracy"]
    assert round(evaluated["loss"], 4) == card["validation_loss"]
    assert card["files"] == ["bert.h5", "bert.keras"]
    assert tiny_run.first_state["epochs_done"] == 1
    assert tiny_run.first_state["history"][0]["optimizer_step"] == TINY_STEPS_PER_EPOCH


def test_rerun_with_more_epochs_resumes_after_the_last_finished_one(tiny_run: TinyRun) -> None:
    model_dir = tiny_run.config.model_dir
    assert "after epoch 1 of 2" in tiny_run.resume_log
    card = tiny_run.resumed_card
    assert (card["epochs_run"], card["resumed_from_epoch"]) == (2, 1)
    assert json.loads((model_dir / "bert.json").read_text()) == card
    history = tiny_run.resumed_state["history"]
    assert [epoch["epoch"] for epoch in history] == [1, 2]
    # The optimizer state was restored, not restarted: its step count carried on.
    assert [epoch["optimizer_step"] for epoch in history] == [TINY_STEPS_PER_EPOCH, 2 * TINY_STEPS_PER_EPOCH]
    assert sorted(path.name for path in (model_dir / CHECKPOINT_DIR).iterdir()) == ["epoch-002.weights.h5",
                                                                                      STATE_FILE]
    served = load_keras_model(tiny_run.config.with_overrides(**{"bert.max_len": MODEL_LEN}))
    assert tuple(served.outputs[0].shape) == (None, 2)


def test_bfloat16_training_ships_a_float32_model(tiny_run: TinyRun) -> None:
    assert tiny_run.first_card["params"]["training_precision"] == "mixed_bfloat16"
    assert tiny_run.resumed_state["settings"]["training_precision"] == "mixed_bfloat16"
    served = load_keras_model(tiny_run.config.with_overrides(**{"bert.max_len": MODEL_LEN}))
    policies = {layer.dtype_policy.name for layer in served._flatten_layers()}  # noqa: SLF001 - every sublayer
    assert policies == {"float32"}
    assert {weight.dtype for weight in served.weights} == {"float32"}


def test_resuming_with_other_settings_is_refused(tiny_run: TinyRun) -> None:
    with pytest.raises(ModelError, match=rf"different settings \(max_len: checkpoint {MODEL_LEN}, now {SHORT_LEN}\)"
                                         r".*delete"):
        _train(tiny_run.config, epochs=2, max_len=SHORT_LEN)


def test_asking_for_fewer_epochs_than_finished_is_refused(tiny_run: TinyRun) -> None:
    with pytest.raises(ModelError, match="already finished 2 epochs, more than the 1 asked for"):
        _train(tiny_run.config, epochs=1)
