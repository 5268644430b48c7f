"""BERT training mechanics: bucketed batches, truncation modes, the rate plan, mid-epoch resume.

Why a tiny backbone for the resume test: what is under test is the bookkeeping (the step,
the batch order, the optimizer state, the rate plan, dropout's seeds), which a 2-layer,
16-wide BERT exercises exactly as MiniLM does, in seconds. The data, vocabulary and encoder
are the real ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imdb.contract.config import Config, ConfigError, load_config
from imdb.data import Corpus
from imdb.contract.model_files import ModelError
from imdb.runtime.pipeline import Pipeline
from imdb.text.wordpiece import BertEncoder
from imdb.training import bert as bert_training
from imdb.training import precision
from imdb.training.batches import epoch_batches, order_fingerprint, padded_length
from imdb.training.schedule import SchedulePlan

REPO_ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = REPO_ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2"
VOCAB = CHECKPOINT / "vocab.txt"
MULTIPLE = 16
CAP = 256
BATCH = 16
# Tiny model and run: 24 reviews, batches of 4, two epochs = 12 steps, a checkpoint every 4
# steps and at each epoch's end (6, 12); the interruption comes after the mid-epoch one at 4.
TINY_LEN = 32
TINY_SAMPLES = 24
TINY_BATCH = 4
TINY_EPOCHS = 2
TINY_STEPS = TINY_SAMPLES // TINY_BATCH * TINY_EPOCHS
CHECKPOINT_EVERY = 4
INTERRUPT_AT = 5
TINY_BACKBONE = {"num_layers": 2, "num_heads": 2, "hidden_dim": 16, "intermediate_dim": 32,
                 "max_sequence_length": TINY_LEN}
WEIGHT_TOLERANCE = 1e-5
# float16 keeps 11 significant bits; tiny values lose relative precision, hence an absolute floor.
HALF_RTOL = 2 ** -10
HALF_ATOL = 1e-6
# Float rounding of peak * steps / steps.
RATE_ROUNDING = 1e-15
# Several short numeric tokens, each one WordPiece of the real vocabulary.
NUMBERED_REVIEW = " ".join(str(number) for number in range(1, 41))
# Token ids above 256 are where bfloat16 (8 significant bits) would round an id held as a float.
ARBITRARY_FIRST_ID = 2001
# Reviews the bench's training variants step over in the test: 4 batches of TINY_BATCH.
BENCH_SAMPLES = 16

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


# ---------------------------------------------------------------- bucketed batches


@pytest.fixture(scope="module")
def real_lengths(imdb_corpus: Corpus) -> np.ndarray:
    """Used WordPiece counts (capped like the model's input) of 800 real training reviews."""
    encoder = BertEncoder(VOCAB, CAP)
    ids = imdb_corpus.ids("training")[:800]
    return np.array([min(encoder.encode(imdb_corpus[i].text).token_count, CAP) for i in ids])


def test_every_review_is_used_once_per_epoch(real_lengths: np.ndarray) -> None:
    batches = epoch_batches(real_lengths, BATCH, seed=7, epoch=0)
    used = np.concatenate(batches)
    assert sorted(used.tolist()) == list(range(len(real_lengths)))
    assert len(real_lengths) % BATCH == 0 and {len(batch) for batch in batches} == {BATCH}


def test_batch_order_is_deterministic_and_changes_each_epoch(real_lengths: np.ndarray) -> None:
    first = epoch_batches(real_lengths, BATCH, seed=7, epoch=0)
    again = epoch_batches(real_lengths, BATCH, seed=7, epoch=0)
    assert order_fingerprint(first) == order_fingerprint(again)
    assert order_fingerprint(first) != order_fingerprint(epoch_batches(real_lengths, BATCH, seed=7, epoch=1))
    assert order_fingerprint(first) != order_fingerprint(epoch_batches(real_lengths, BATCH, seed=8, epoch=0))


def test_batches_are_padded_to_their_longest_review_rounded(real_lengths: np.ndarray) -> None:
    batches = epoch_batches(real_lengths, BATCH, seed=7, epoch=0)
    padded = [padded_length(real_lengths[batch].max(), MULTIPLE, CAP) for batch in batches]
    for batch, length in zip(batches, padded, strict=True):
        longest = real_lengths[batch].max()
        assert longest <= length < longest + MULTIPLE and (length % MULTIPLE == 0 or length == CAP)
    # Bucketing pays: far fewer positions than padding every batch to the cap.
    assert sum(len(batch) * length for batch, length in zip(batches, padded, strict=True)) < (
        0.9 * len(real_lengths) * CAP)


def test_padded_length_never_exceeds_the_cap() -> None:
    assert padded_length(250, MULTIPLE, CAP) == CAP
    assert padded_length(17, MULTIPLE, CAP) == 32 and padded_length(16, MULTIPLE, CAP) == 16


# ---------------------------------------------------------------- truncation


@pytest.mark.parametrize(("mode", "kept"), [
    ("head", [str(n) for n in range(1, 11)]),
    ("tail", [str(n) for n in range(31, 41)]),
    ("head_tail", ["1", "2"] + [str(n) for n in range(33, 41)]),
])
def test_truncation_modes_keep_the_configured_pieces(mode: str, kept: list[str]) -> None:
    encoder = BertEncoder(VOCAB, 12, truncation=mode)
    encoded = encoder.encode(NUMBERED_REVIEW)
    assert encoder.display_tokens(encoded.inputs["input_ids"]) == ["[CLS]", *kept, "[SEP]"]
    # The count covers the whole review, so metadata still reports it truncated.
    assert encoded.token_count == 42 > encoder.sequence_length


def test_short_reviews_are_the_same_in_every_mode() -> None:
    shown = {mode: BertEncoder(VOCAB, 64, truncation=mode).encode(NUMBERED_REVIEW).inputs["input_ids"].tolist()
             for mode in ("head", "tail", "head_tail")}
    assert shown["head"] == shown["tail"] == shown["head_tail"]


def test_configured_truncation_reaches_the_pipeline_encoder(imdb_data_uri: str, data_root: Path) -> None:
    config = load_config(environ={}, model="bert", data=imdb_data_uri, data_root=data_root,
                         **{"bert.checkpoint": str(CHECKPOINT), "bert.max_len": 12, "bert.truncation": "tail"})
    encoder = Pipeline(config).encoder
    assert encoder.truncation == "tail"
    assert encoder.display_tokens(encoder.encode(NUMBERED_REVIEW).inputs["input_ids"])[1] == "31"


# ---------------------------------------------------------------- rate plan


def test_unknown_truncation_names_the_setting(imdb_data_uri: str, data_root: Path) -> None:
    from imdb.contract.config import ConfigError

    with pytest.raises(ConfigError, match=r"bert\.truncation.*head, tail, head_tail.*'middle'"):
        load_config(environ={}, model="bert", data=imdb_data_uri, data_root=data_root,
                    **{"bert.truncation": "middle"})


def test_plan_warms_up_then_decays_to_zero() -> None:
    plan = SchedulePlan.for_steps(1e-4, 100)
    rates = [plan.rate(step) for step in range(101)]
    assert plan.warmup_steps == 10 and rates[0] > 0
    assert rates[9] == pytest.approx(1e-4) and rates[100] == 0.0
    assert all(later <= earlier + RATE_ROUNDING for earlier, later in zip(rates[9:], rates[10:]))
    assert SchedulePlan.from_dict(plan.to_dict()) == plan


# ---------------------------------------------------------------- mid-epoch resume


def _tiny_config(imdb_data_uri: str, data_root: Path, model_dir: Path) -> Config:
    return load_config(environ={}, model="bert", data=imdb_data_uri, data_root=data_root, model_dir=model_dir,
                       sample_limit_per_split=TINY_SAMPLES,
                       **{"bert.checkpoint": str(CHECKPOINT), "bert.max_len": TINY_LEN,
                          "bert.batch_size": TINY_BATCH, "bert.epochs": TINY_EPOCHS,
                          "bert.train_samples": TINY_SAMPLES, "bert.checkpoint_every": CHECKPOINT_EVERY,
                          "bert.freeze_embeddings": False, "bert.frozen_layers": 0})


def _tiny_pair(config: Config):
    """The same tiny, randomly initialised classifier every call (seeded)."""
    import keras
    from keras_hub.models import BertBackbone

    from imdb.models.bert import build_classifier_pair

    keras.utils.set_random_seed(config.seed)
    backbone = BertBackbone(vocabulary_size=len(VOCAB.read_text(encoding="utf-8").splitlines()), **TINY_BACKBONE)
    return build_classifier_pair(config, backbone)


class _Interrupted(Exception):
    """Stands in for a killed process."""


def _fit(config: Config, pair, rates: list[tuple[int, float]], interrupt_at: int | None = None):
    data = bert_training.training_data(Pipeline(config))
    run = bert_training.CheckpointRun(config.model_dir / bert_training.CHECKPOINT_DIR,
                                      bert_training.run_settings(config, data), config.bert.epochs)
    original_step = bert_training._Trainer._step

    def recording_step(self, indices):
        if interrupt_at is not None and self.state.step == interrupt_at:
            raise _Interrupted
        logs = original_step(self, indices)
        rates.append((self.state.step, float(np.asarray(self.trainer.optimizer.learning_rate))))
        return logs

    bert_training._Trainer._step = recording_step
    try:
        return bert_training.fit(pair, data, config, run, run.resumable_state(), progress=False)
    finally:
        bert_training._Trainer._step = original_step


def test_interrupted_run_ends_where_an_uninterrupted_one_does(imdb_data_uri: str, data_root: Path,
                                                              tmp_path: Path) -> None:
    whole_config = _tiny_config(imdb_data_uri, data_root, tmp_path / "whole")
    whole_pair, whole_rates = _tiny_pair(whole_config), []
    whole_state = _fit(whole_config, whole_pair, whole_rates)

    split_config = _tiny_config(imdb_data_uri, data_root, tmp_path / "split")
    first_rates: list[tuple[int, float]] = []
    with pytest.raises(_Interrupted):
        _fit(split_config, _tiny_pair(split_config), first_rates, interrupt_at=INTERRUPT_AT)
    saved = bert_training.RunState.from_file(split_config.model_dir / bert_training.CHECKPOINT_DIR / "state.json")
    assert saved.step == CHECKPOINT_EVERY and saved.weights_file == f"step-{CHECKPOINT_EVERY:06d}.weights.h5"

    # Time up: ending the run at its checkpoint trains nothing more.
    stopped = bert_training.fit(_tiny_pair(split_config), bert_training.training_data(Pipeline(split_config)),
                                split_config, bert_training.CheckpointRun(
                                    split_config.model_dir / bert_training.CHECKPOINT_DIR, saved.settings,
                                    TINY_EPOCHS), saved, progress=False, stop_now=True)
    assert stopped.step == CHECKPOINT_EVERY and stopped.plan.total_steps == TINY_STEPS

    # A new process: a freshly built model, the rest comes from the checkpoint.
    resumed_pair, resumed_rates = _tiny_pair(split_config), []
    resumed_state = _fit(split_config, resumed_pair, resumed_rates)
    assert resumed_state.resumed_from_step == CHECKPOINT_EVERY and resumed_state.step == whole_state.step
    # The same rate plan and the same rates, step for step, across the interruption.
    assert resumed_state.plan == whole_state.plan
    assert [step for step, _ in resumed_rates] == list(range(CHECKPOINT_EVERY, TINY_STEPS))
    assert resumed_rates == whole_rates[CHECKPOINT_EVERY:]
    assert resumed_state.order_sha256 == whole_state.order_sha256
    for resumed, whole in zip(resumed_pair[0].get_weights(), whole_pair[0].get_weights(), strict=True):
        np.testing.assert_allclose(resumed, whole, atol=WEIGHT_TOLERANCE)
    assert [point["step"] for point in resumed_state.curve] == [4, 6, 8, 12]


def test_a_changed_batch_order_is_refused(imdb_data_uri: str, data_root: Path, tmp_path: Path) -> None:
    config = _tiny_config(imdb_data_uri, data_root, tmp_path / "order")
    data = bert_training.training_data(Pipeline(config))
    run = bert_training.CheckpointRun(tmp_path, {}, TINY_EPOCHS)
    state = bert_training.RunState({}, SchedulePlan.for_steps(1e-4, TINY_STEPS), TINY_STEPS // TINY_EPOCHS,
                                   order_sha256={"0": "not-this-order"})
    trainer = bert_training._Trainer(_tiny_pair(config)[1], data, config, run, state)
    with pytest.raises(ModelError, match=r"batch order of epoch 1 differs.*delete"):
        trainer._batches(0)


# ---------------------------------------------------------------- training precision

# The flags lines of /proc/cpuinfo on two x86 CPUs: one with AVX512-BF16, one with AVX2 only.
BF16_CPUINFO = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n\nprocessor\t: 1\n"
AVX2_CPUINFO = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: spectre_v1\n"
# bfloat16 keeps 8 significant bits: logits of a 2-layer model differ from float32 by about 1e-2.
BFLOAT16_LOGIT_TOLERANCE = 5e-2


def test_cpu_flags_decide_auto_precision() -> None:
    assert precision.cpu_has_bfloat16(BF16_CPUINFO) and not precision.cpu_has_bfloat16(AVX2_CPUINFO)
    assert "avx512_bf16" in precision.cpu_flags(BF16_CPUINFO)
    assert precision.cpu_flags("") == frozenset()


@pytest.mark.parametrize("setting", ["float32", "mixed_bfloat16"])
def test_explicit_precision_is_kept(setting: str) -> None:
    assert precision.resolve_precision(setting) == setting


def test_auto_precision_follows_this_machine() -> None:
    expected = "mixed_bfloat16" if precision.cpu_has_bfloat16(precision.CPUINFO.read_text()) else "float32"
    if precision.gpus_have_bfloat16() is None:
        assert precision.resolve_precision("auto") == expected


def test_unknown_precision_names_the_setting(imdb_data_uri: str, data_root: Path) -> None:
    with pytest.raises(ConfigError, match="bert.training_precision"):
        load_config(environ={"IMDB_BERT_TRAINING_PRECISION": "float8"}, data=imdb_data_uri, data_root=data_root)


def _tiny_bfloat16_pair(config: Config):
    import keras
    from keras_hub.models import BertBackbone

    from imdb.models.bert import build_classifier_pair

    keras.utils.set_random_seed(config.seed)
    backbone = BertBackbone(vocabulary_size=len(VOCAB.read_text(encoding="utf-8").splitlines()),
                            dtype="mixed_bfloat16", **TINY_BACKBONE)
    return build_classifier_pair(config, backbone)


def test_bfloat16_pair_copies_into_an_equal_float32_twin(imdb_data_uri: str, data_root: Path,
                                                        tmp_path: Path) -> None:
    config = _tiny_config(imdb_data_uri, data_root, tmp_path).with_overrides(
        **{"bert.training_precision": "mixed_bfloat16"})
    trained = _tiny_bfloat16_pair(config)
    # Only the backbone computes in bfloat16: the id casts (exact ids), pooling and head do not.
    backbone = bert_training.backbone_of(trained[0])
    assert backbone.dtype_policy.name == "mixed_bfloat16"
    assert {layer.dtype_policy.name for layer in trained[0].layers if layer is not backbone} == {"float32"}
    served = bert_training.float32_pair(config, trained)
    assert served is not trained
    assert {layer.dtype_policy.name for layer in served[0]._flatten_layers()} == {"float32"}  # noqa: SLF001
    for copied, original in zip(served[0].weights, trained[0].weights, strict=True):
        np.testing.assert_array_equal(np.asarray(copied), np.asarray(original))
    batch = [np.stack([np.arange(TINY_LEN, dtype=np.float32) + ARBITRARY_FIRST_ID] * 2),
             np.ones((2, TINY_LEN), np.float32), np.zeros((2, TINY_LEN), np.float32)]
    np.testing.assert_allclose(served[0].predict_on_batch(batch), trained[0].predict_on_batch(batch),
                               atol=BFLOAT16_LOGIT_TOLERANCE)
    float32_config = config.with_overrides(**{"bert.training_precision": "float32"})
    assert bert_training.float32_pair(float32_config, served) is served


def test_copying_between_different_classifiers_is_refused(imdb_data_uri: str, data_root: Path,
                                                          tmp_path: Path) -> None:
    import keras

    config = _tiny_config(imdb_data_uri, data_root, tmp_path)
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="logits")])
    with pytest.raises(ModelError, match="cannot copy"):
        bert_training.copy_weights(_tiny_pair(config)[0], other)


def test_bench_steps_every_variant_over_the_same_reviews(imdb_data_uri: str, data_root: Path,
                                                         tmp_path: Path) -> None:
    """The bench's ``bert_training`` section on the real checkpoint, kept short (32 WordPieces)."""
    from imdb.tools.bench.bert_training import bench_bert_training

    config = _tiny_config(imdb_data_uri, data_root, tmp_path).with_overrides(
        **{"bert.frozen_layers": 2, "bert.freeze_embeddings": True})
    result = bench_bert_training(config, BENCH_SAMPLES)
    variants = ("fixed_padding", "bucketed", "bucketed_frozen", "configured")
    assert [result[name]["reviews"] for name in variants] == [BENCH_SAMPLES] * len(variants)
    assert [result[name]["precision"] for name in variants] == ["float32"] * 3 + [
        precision.resolve_precision("auto")]
    assert [result[name]["frozen_layers"] for name in variants] == [0, 0, 2, 2]
    assert result["fixed_padding"]["mean_padded_length"] == TINY_LEN
    assert result["bucketed"]["mean_padded_length"] <= TINY_LEN
    assert all(result[name]["load_average_1"] >= 0 for name in variants), "each row says the load it ran under"
    fixed = result["fixed_padding"]["reviews_per_s"]
    assert result["configured_to_fixed_ratio"] == round(result["configured"]["reviews_per_s"] / fixed, 2)


# ---------------------------------------------------------------- shipped file


def test_half_precision_archive_loads_as_float32_with_rounded_weights(tmp_path: Path) -> None:
    import keras

    from imdb.training.artifacts import store_half_precision

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64), keras.layers.Dense(2)])
    path = tmp_path / "model.keras"
    model.save(path)
    full_size = path.stat().st_size
    store_half_precision(path)
    reloaded = keras.models.load_model(path)
    assert path.stat().st_size < full_size
    for rounded, original in zip(reloaded.weights, model.weights, strict=True):
        assert rounded.dtype == "float32"
        np.testing.assert_allclose(np.asarray(rounded), np.asarray(original), rtol=HALF_RTOL, atol=HALF_ATOL)
    assert not np.array_equal(np.asarray(reloaded.weights[0]), np.asarray(model.weights[0]))
