"""BERT fine-tuning, resumable: data subsets, optimizer and schedule, per-epoch checkpoints, card.

Why resumable: fine-tuning on this project's CPUs takes minutes to hours, and a killed run
must not start over. After every epoch the weights *and* the optimizer state (AdamW moments,
step count) are written under ``<model_dir>/bert_checkpoints/`` with the settings that
produced them; a rerun with the same settings continues after the last finished epoch, and
a rerun with different settings is refused, because mixing them would yield a model that no
command describes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from imdb.contract.config import BertConfig, Config
from imdb.contract.files import atomic_path, atomic_write_text
from imdb.contract.model_files import ModelError
from imdb.contract.names import TRAINING, VALIDATION
from imdb.models.bert import build_classifier
from imdb.runtime.pipeline import Pipeline
from imdb.training.artifacts import save_keras_model, write_card

LOG = logging.getLogger(__name__)

CHECKPOINT_DIR = "bert_checkpoints"
STATE_FILE = "state.json"
STATE_VERSION = 1
WEIGHTS_SUFFIX = ".weights.h5"  # Keras insists on this ending for weight files
# Validation subset: large enough for a +-2 % accuracy estimate, small enough for a CPU epoch.
VALIDATION_SAMPLES = 500
# The usual BERT fine-tuning recipe: warm up over the first 10 % of steps,
# then decay linearly to zero; decoupled weight decay except on biases and LayerNorm.
WARMUP_FRACTION = 0.1
WEIGHT_DECAY = 0.01
ADAM_EPSILON = 1e-6
GLOBAL_CLIPNORM = 1.0
NO_WEIGHT_DECAY = ("bias", "gamma", "beta")
FINGERPRINT_CHARS = 16
METRIC_DIGITS = 4
SECONDS_DIGITS = 1
RATE_DIGITS = 2
# Guards rates computed from a measured duration against a zero-length measurement.
_MIN_SECONDS = 1e-9


@dataclass(frozen=True)
class TrainingData:
    """Encoded training and validation subsets, inputs in the encoder's input-name order."""

    train_ids: list[str]
    train_x: list[np.ndarray]
    train_y: np.ndarray
    val_ids: list[str]
    val_x: list[np.ndarray]
    val_y: np.ndarray
    truncated_fraction: float


def _arrays(pipeline: Pipeline, ids: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
    names = pipeline.encoder.input_names
    inputs = [np.stack([pipeline.model_input(i, name) for i in ids]) for name in names]
    return inputs, np.stack([pipeline.ground_truth(i) for i in ids])


def training_data(pipeline: Pipeline) -> TrainingData:
    """``bert.train_samples`` training reviews and up to ``VALIDATION_SAMPLES`` validation reviews."""
    train_ids = pipeline.split_ids(TRAINING, pipeline.config.bert.train_samples)
    val_ids = pipeline.split_ids(VALIDATION, VALIDATION_SAMPLES)
    if not train_ids or not val_ids:
        raise ModelError(f"BERT training needs training and validation reviews; {pipeline.config.data} "
                         f"gave {len(train_ids)} and {len(val_ids)}")
    LOG.info("encoding %d training and %d validation reviews", len(train_ids), len(val_ids))
    train_x, train_y = _arrays(pipeline, train_ids)
    val_x, val_y = _arrays(pipeline, val_ids)
    length = pipeline.config.bert.max_len
    truncated = sum(pipeline.encoded(i).token_count > length for i in train_ids) / len(train_ids)
    return TrainingData(train_ids, train_x, train_y, val_ids, val_x, val_y, truncated)


def _fingerprint(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


def run_settings(config: Config, data: TrainingData) -> dict[str, Any]:
    """Everything that must be equal for a checkpoint to be continued.

    The epoch count is deliberately absent: asking for more epochs continues a run. The
    sample ids are fingerprinted rather than the data URI, so a copy of the same data at
    another location still resumes while a different subset does not.
    """
    params = config.bert
    return {
        "checkpoint": params.checkpoint,
        "max_len": params.max_len,
        "batch_size": params.batch_size,
        "learning_rate": params.learning_rate,
        "dropout": params.dropout,
        "seed": config.seed,
        "train_samples": len(data.train_ids),
        "validation_samples": len(data.val_ids),
        "train_ids_sha256": _fingerprint(data.train_ids),
        "validation_ids_sha256": _fingerprint(data.val_ids),
        "warmup_fraction": WARMUP_FRACTION,
        "weight_decay": WEIGHT_DECAY,
    }


@dataclass
class RunState:
    """``state.json``: the settings, how many epochs are done, their metrics, and the weights file."""

    settings: dict[str, Any]
    epochs_done: int = 0
    weights_file: str = ""
    history: list[dict[str, float]] = field(default_factory=list)
    resumed_from_epoch: int = 0

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, "settings": self.settings, "epochs_done": self.epochs_done,
                           "weights_file": self.weights_file, "history": self.history}, indent=2) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> "RunState":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") != STATE_VERSION:
                raise ValueError(f"version {raw.get('version')!r}, expected {STATE_VERSION}")
            return cls(raw["settings"], int(raw["epochs_done"]), str(raw["weights_file"]), list(raw["history"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"BERT training checkpoint {path} is unreadable ({exc}): delete {path.parent} "
                             f"to start over") from exc


class CheckpointRun:
    """The checkpoint directory of one training run and the rules for continuing it."""

    def __init__(self, directory: Path, settings: dict[str, Any], epochs: int) -> None:
        self.directory = directory
        self.settings = settings
        self.epochs = epochs

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def resumable_state(self) -> RunState | None:
        """The saved state if this run may continue it; ``None`` for a fresh start; else refuse."""
        if not self.state_path.exists():
            return None
        state = RunState.from_file(self.state_path)
        differences = [f"{key}: checkpoint {state.settings.get(key)!r}, now {self.settings.get(key)!r}"
                       for key in sorted(set(state.settings) | set(self.settings))
                       if state.settings.get(key) != self.settings.get(key)]
        if differences:
            raise ModelError(
                f"cannot resume the BERT training in {self.directory}: it was started with different "
                f"settings ({'; '.join(differences)}). Rerun with the checkpoint's settings to resume it, "
                f"or delete {self.directory} to start over")
        if state.epochs_done > self.epochs:
            raise ModelError(
                f"cannot resume the BERT training in {self.directory}: it already finished "
                f"{state.epochs_done} epochs, more than the {self.epochs} asked for (bert.epochs / --epochs). "
                f"Ask for at least {state.epochs_done} epochs, or delete {self.directory} to start over")
        if not (self.directory / state.weights_file).is_file():
            raise ModelError(f"BERT training checkpoint {self.directory / state.weights_file} is missing: "
                             f"delete {self.directory} to start over")
        return state

    def save_epoch(self, model: keras.Model, state: RunState, metrics: dict[str, float]) -> None:
        """Weights + optimizer first, then the state that points at them, then the old weights.

        In this order a run killed at any moment leaves a state whose weights file exists.
        """
        epoch = state.epochs_done + 1
        weights_file = f"epoch-{epoch:03d}{WEIGHTS_SUFFIX}"
        _save_weights_atomically(model, self.directory / weights_file)
        state.epochs_done, state.weights_file = epoch, weights_file
        state.history.append({"epoch": epoch, **metrics})
        atomic_write_text(self.state_path, state.to_json())
        for stale in self.directory.glob(f"*{WEIGHTS_SUFFIX}"):
            if stale.name != weights_file:
                stale.unlink(missing_ok=True)


def _save_weights_atomically(model: keras.Model, target: Path) -> None:
    """``model.save_weights`` (which includes the optimizer state) through ``atomic_path``, whose
    temp name keeps the ``.weights.h5`` ending Keras insists on."""
    with atomic_path(target) as tmp:
        model.save_weights(tmp)


class LinearWarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate rising linearly to ``peak`` over ``warmup_steps``, then falling linearly to 0.

    Warm-up keeps the first updates from wrecking pretrained weights while AdamW's moment
    estimates are still noise; the decay lets the last steps settle.
    """

    def __init__(self, peak: float, warmup_steps: int, total_steps: int) -> None:
        self.peak = peak
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step: Any) -> Any:
        step = keras.ops.cast(step, "float32")
        # The first update (step 0) already gets a non-zero rate.
        rising = self.peak * (step + 1.0) / max(self.warmup_steps, 1)
        falling = self.peak * keras.ops.maximum(0.0, self.total_steps - step) / max(
            self.total_steps - self.warmup_steps, 1)
        return keras.ops.where(step < self.warmup_steps, rising, falling)

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps}


def _trainer(classifier: keras.Model, params: BertConfig, steps_per_epoch: int) -> keras.Model:
    """A compiled wrapper sharing the classifier's layers.

    The optimizer lives on the wrapper, so the classifier saved for serving carries weights
    only (AdamW state would triple the file), while epoch checkpoints of the wrapper carry both.
    """
    total_steps = steps_per_epoch * params.epochs
    schedule = LinearWarmupDecay(params.learning_rate, math.ceil(WARMUP_FRACTION * total_steps), total_steps)
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=WEIGHT_DECAY,
                                       epsilon=ADAM_EPSILON, global_clipnorm=GLOBAL_CLIPNORM)
    optimizer.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
    trainer = keras.Model(classifier.inputs, classifier.outputs, name="imdb_bert_trainer")
    trainer.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"])
    return trainer


class _EpochCheckpoint(keras.callbacks.Callback):
    """Times each epoch (training and validation apart) and checkpoints it when it ends."""

    def __init__(self, run: CheckpointRun, state: RunState, train_samples: int) -> None:
        super().__init__()
        self.run = run
        self.state = state
        self.train_samples = train_samples
        self._epoch_started = self._validation_started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_started = self._validation_started = time.perf_counter()

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._validation_started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        ended = time.perf_counter()
        train_seconds = max(self._validation_started - self._epoch_started, 0.0)
        metrics = {name: round(float(value), METRIC_DIGITS) for name, value in (logs or {}).items()
                   if name in ("loss", "accuracy", "val_loss", "val_accuracy")}
        rate = self.train_samples / max(train_seconds, _MIN_SECONDS)
        metrics.update(train_seconds=round(train_seconds, SECONDS_DIGITS),
                       validation_seconds=round(ended - self._validation_started, SECONDS_DIGITS),
                       train_samples_per_second=round(rate, RATE_DIGITS),
                       # AdamW's step counter: continues across a resume because the optimizer state does.
                       optimizer_step=int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)))
        self.run.save_epoch(self.model, self.state, metrics)
        LOG.info("epoch %d/%d checkpointed in %s: %s", self.state.epochs_done, self.run.epochs,
                 self.run.directory, metrics)


def fit(classifier: keras.Model, data: TrainingData, params: BertConfig, run: CheckpointRun,
        state: RunState | None, *, progress: bool) -> RunState:
    """Train the epochs still missing from ``state`` (all of them for a fresh run)."""
    from tqdm.keras import TqdmCallback

    steps_per_epoch = math.ceil(len(data.train_ids) / params.batch_size)
    trainer = _trainer(classifier, params, steps_per_epoch)
    if state is None:
        state = RunState(run.settings)
    else:
        trainer.optimizer.build(trainer.trainable_variables)
        trainer.load_weights(run.directory / state.weights_file)
        state.resumed_from_epoch = state.epochs_done
        LOG.info("resuming BERT training from %s after epoch %d of %d", run.directory, state.epochs_done,
                 run.epochs)
    if state.epochs_done >= run.epochs:
        LOG.info("all %d epochs are already trained in %s; saving that model", run.epochs, run.directory)
        return state
    callbacks: list[keras.callbacks.Callback] = [_EpochCheckpoint(run, state, len(data.train_ids))]
    if progress:
        callbacks.append(TqdmCallback(verbose=1))
    trainer.fit(data.train_x, data.train_y, validation_data=(data.val_x, data.val_y), batch_size=params.batch_size,
                epochs=run.epochs, initial_epoch=state.epochs_done, shuffle=True, callbacks=callbacks, verbose=0)
    return state


def model_card(config: Config, data: TrainingData, state: RunState, files: list[Path]) -> dict[str, Any]:
    """The measured numbers and the settings that produced them (``bert.json`` beside the model)."""
    last = state.history[-1] if state.history else {}
    train_seconds = sum(epoch.get("train_seconds", 0.0) for epoch in state.history)
    return {
        "family": config.model,
        "data": config.as_given("data"),
        "checkpoint": config.as_given("bert.checkpoint"),
        "train_samples": len(data.train_ids),
        "validation_samples": len(data.val_ids),
        "sequence_length": config.bert.max_len,
        "truncated_train_fraction": round(data.truncated_fraction, METRIC_DIGITS),
        "epochs_run": state.epochs_done,
        "resumed_from_epoch": state.resumed_from_epoch,
        "train_seconds": round(train_seconds, SECONDS_DIGITS),
        "train_samples_per_second": round(
            len(data.train_ids) * state.epochs_done / max(train_seconds, _MIN_SECONDS), RATE_DIGITS),
        "validation_accuracy": last.get("val_accuracy"),
        "validation_loss": last.get("val_loss"),
        "history": state.history,
        "params": {"max_len": config.bert.max_len, "dropout": config.bert.dropout, "epochs": config.bert.epochs,
                   "batch_size": config.bert.batch_size, "learning_rate": config.bert.learning_rate,
                   "weight_decay": WEIGHT_DECAY, "warmup_fraction": WARMUP_FRACTION, "seed": config.seed},
        "files": [path.name for path in files],
    }


def train_bert(config: Config, *, progress: bool = True) -> dict[str, Any]:
    """Fine-tune on a label-balanced training subset, resumably; save the model and its card.

    The recipe is ``bert.*`` in the configuration (the CLI's ``--max-len``, ``--train-samples``
    and ``--epochs`` are applied to it once, in ``config_from_args``). Each finished epoch is
    checkpointed under ``<model_dir>/bert_checkpoints/``; rerunning the same command resumes
    after the last finished epoch, and asking for more epochs continues the same run.
    """
    keras.utils.set_random_seed(config.seed)
    data = training_data(Pipeline(config))
    run = CheckpointRun(config.model_dir / CHECKPOINT_DIR, run_settings(config, data), config.bert.epochs)
    state = run.resumable_state()
    classifier = build_classifier(config)
    started = time.perf_counter()
    state = fit(classifier, data, config.bert, run, state, progress=progress)
    LOG.info("BERT training finished in %.0f s; saving the model", time.perf_counter() - started)
    files = save_keras_model(classifier, config)
    card = model_card(config, data, state, files)
    write_card(config, card)
    return card
