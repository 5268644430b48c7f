"""BERT fine-tuning, resumable mid-epoch: data, bucketed steps, checkpoints, learning curve, card.

Why resumable mid-epoch: fine-tuning on this project's CPUs takes hours, more than one
process may live. Every ``bert.checkpoint_every`` optimizer steps (and at each epoch's end)
the weights *and* the optimizer state (AdamW moments, step count) are written under
``<model_dir>/bert_checkpoints/`` with the settings, the learning-rate plan and the position
in the epoch's batch order. A rerun with the same settings continues at that step, with the
same rate schedule and the same batch order, and dropout seeded by the step, so an
interrupted run ends where an uninterrupted one would; a rerun with different settings is
refused, because mixing them would yield a model that no command describes.

Why batches of varying length: see ``imdb.training.batches``. The model trained is the
any-length twin of the served classifier (``build_classifier_pair``): they share their
weights, and the static one is saved.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from imdb.contract.config import BertConfig, Config
from imdb.contract.files import atomic_path, atomic_write_text
from imdb.contract.model_files import ATTENTION_MASK, KERAS_SUFFIX, ModelError, model_path
from imdb.contract.names import TRAINING, VALIDATION
from imdb.models.bert import build_classifier_pair
from imdb.runtime.pipeline import Pipeline
from imdb.training import balance
from imdb.training.artifacts import classes_card, save_keras_model, score_shipped_file, write_card
from imdb.training.batches import epoch_batches, order_fingerprint, padded_length, slice_batch
from imdb.training.precision import FLOAT32, resolve_precision
from imdb.training.schedule import WARMUP_FRACTION, SchedulePlan

LOG = logging.getLogger(__name__)

CHECKPOINT_DIR = "bert_checkpoints"
STATE_FILE = "state.json"
STATE_VERSION = 2
WEIGHTS_SUFFIX = ".weights.h5"  # Keras insists on this ending for weight files
# The learning curve is measured on this fixed, label-balanced validation subset at every
# checkpoint (large enough for a +-2 % estimate, small enough to cost a minute on a CPU);
# the card's validation accuracy is the whole validation split, once, at the end.
CURVE_SAMPLES = 500
# Evaluation batches (no gradients: larger batches are cheap).
EVAL_BATCH = 32
# Decoupled weight decay except on biases and LayerNorm.
WEIGHT_DECAY = 0.01
ADAM_EPSILON = 1e-6
GLOBAL_CLIPNORM = 1.0
NO_WEIGHT_DECAY = ("bias", "gamma", "beta")
# The backbone's embedding layers (frozen together by bert.freeze_embeddings).
EMBEDDING_LAYERS = ("token_embedding", "position_embedding", "segment_embedding", "embeddings_layer_norm")
TRANSFORMER_LAYER = "transformer_layer_{}"
FINGERPRINT_CHARS = 16
METRIC_DIGITS = 4
SECONDS_DIGITS = 1
RATE_DIGITS = 2
# Dropout's random stream is re-seeded from (seed, step) before each step; the step is spread
# by this factor so that no two steps' streams overlap.
SEED_STRIDE = 1_000_003
# tqdm redraws at most this often (seconds): a log file of a long run stays readable.
PROGRESS_INTERVAL_S = 15.0
# Guards rates computed from a measured duration against a zero-length measurement.
_MIN_SECONDS = 1e-9


@dataclass(frozen=True)
class Split:
    """One encoded subset: ids, inputs in the encoder's input order, one-hot labels, used lengths."""

    ids: list[str]
    x: list[np.ndarray]
    y: np.ndarray
    lengths: np.ndarray


@dataclass(frozen=True)
class TrainingData:
    """The training subset, the whole validation split and the fixed learning-curve subset."""

    train: Split
    validation: Split
    curve: Split
    truncated_fraction: float


def encode_split(pipeline: Pipeline, ids: list[str]) -> Split:
    """Encode ``ids`` once: the fixed-length inputs, one-hot labels and each review's used length."""
    names = pipeline.encoder.input_names
    inputs = [np.stack([pipeline.model_input(i, name) for i in ids]) for name in names]
    labels = np.stack([pipeline.ground_truth(i) for i in ids])
    lengths = inputs[names.index(ATTENTION_MASK)].sum(axis=1).astype(np.int64)
    return Split(ids, inputs, labels, lengths)


def training_data(pipeline: Pipeline) -> TrainingData:
    """``bert.train_samples`` training reviews, the validation split and its curve subset."""
    train_ids = pipeline.split_ids(TRAINING, pipeline.config.bert.train_samples)
    if pipeline.config.class_balance == balance.OVERSAMPLE:
        labels = np.array([pipeline.corpus.label(i) for i in train_ids])
        train_ids = [train_ids[position] for position in balance.oversampled_positions(labels, pipeline.config.seed)]
    val_ids = pipeline.split_ids(VALIDATION)
    curve_ids = pipeline.split_ids(VALIDATION, CURVE_SAMPLES)
    if not train_ids or not val_ids:
        raise ModelError(f"BERT training needs training and validation reviews; {pipeline.config.data} "
                         f"gave {len(train_ids)} and {len(val_ids)}")
    LOG.info("encoding %d training and %d validation reviews", len(train_ids), len(val_ids))
    length = pipeline.config.bert.max_len
    truncated = sum(pipeline.encoded(i).token_count > length for i in train_ids) / len(train_ids)
    return TrainingData(encode_split(pipeline, train_ids), encode_split(pipeline, val_ids),
                        encode_split(pipeline, curve_ids), truncated)


def _fingerprint(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


def run_settings(config: Config, data: TrainingData) -> dict[str, Any]:
    """Everything that must be equal for a checkpoint to be continued.

    The epoch count is deliberately absent: asking for more epochs extends a run. So are
    ``checkpoint_every`` and ``pad_multiple``, which change when the state is saved and how
    many padding positions a batch has, not what is learnt. The sample ids are fingerprinted
    rather than the data URI, so a copy of the same data elsewhere still resumes.
    """
    params = config.bert
    return {
        "checkpoint": params.checkpoint,
        "max_len": params.max_len,
        "truncation": params.truncation,
        "batch_size": params.batch_size,
        "learning_rate": params.learning_rate,
        "dropout": params.dropout,
        "freeze_embeddings": params.freeze_embeddings,
        "frozen_layers": params.frozen_layers,
        "training_precision": params.training_precision,
        "seed": config.seed,
        "train_samples": len(data.train.ids),
        "validation_samples": len(data.validation.ids),
        "train_ids_sha256": _fingerprint(data.train.ids),
        "validation_ids_sha256": _fingerprint(data.validation.ids),
        "warmup_fraction": WARMUP_FRACTION,
        "weight_decay": WEIGHT_DECAY,
    }


@dataclass
class RunState:
    """``state.json``: settings, the rate plan, the position reached, and what was measured."""

    settings: dict[str, Any]
    plan: SchedulePlan
    steps_per_epoch: int
    step: int = 0
    weights_file: str = ""
    history: list[dict[str, float]] = field(default_factory=list)
    curve: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0
    order_sha256: dict[str, str] = field(default_factory=dict)
    resumed_from_step: int = 0

    @property
    def epochs_done(self) -> int:
        return self.step // self.steps_per_epoch

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, "settings": self.settings, "plan": self.plan.to_dict(),
                           "steps_per_epoch": self.steps_per_epoch, "step": self.step,
                           "epochs_done": self.epochs_done, "weights_file": self.weights_file,
                           "history": self.history, "curve": self.curve,
                           "train_seconds": round(self.train_seconds, SECONDS_DIGITS),
                           "order_sha256": self.order_sha256}, indent=2) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> "RunState":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") != STATE_VERSION:
                raise ValueError(f"version {raw.get('version')!r}, expected {STATE_VERSION}")
            return cls(raw["settings"], SchedulePlan.from_dict(raw["plan"]), int(raw["steps_per_epoch"]),
                       int(raw["step"]), str(raw["weights_file"]), list(raw["history"]), list(raw["curve"]),
                       float(raw["train_seconds"]), dict(raw["order_sha256"]))
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

    def save(self, trainer: keras.Model, state: RunState) -> None:
        """Weights + optimizer first, then the state that points at them, then the old weights.

        In this order a run killed at any moment leaves a state whose weights file exists.
        """
        at_epoch_end = state.step % state.steps_per_epoch == 0
        weights_file = (f"epoch-{state.epochs_done:03d}{WEIGHTS_SUFFIX}" if at_epoch_end
                        else f"step-{state.step:06d}{WEIGHTS_SUFFIX}")
        with atomic_path(self.directory / weights_file) as tmp:
            trainer.save_weights(tmp)  # the trainer's weights include its optimizer's state
        state.weights_file = weights_file
        atomic_write_text(self.state_path, state.to_json())
        for stale in self.directory.glob(f"*{WEIGHTS_SUFFIX}"):
            if stale.name != weights_file:
                stale.unlink(missing_ok=True)


def backbone_of(classifier: keras.Model) -> keras.Model:
    """The classifier's keras-hub backbone: its one nested model (whose name gets a suffix
    when several exist, so it is found by kind, not by name)."""
    return next(layer for layer in classifier.layers if isinstance(layer, keras.Model))


def freeze(classifier: keras.Model, params: BertConfig) -> None:
    """Training levers: keep the embedding tables and/or the lowest transformer layers fixed.

    Frozen layers need no backward pass below them and no AdamW update (the token table alone
    is half of MiniLM's parameters); whether that pays in accuracy is measured, not assumed.
    """
    backbone = backbone_of(classifier)
    if params.freeze_embeddings:
        for name in EMBEDDING_LAYERS:
            backbone.get_layer(name).trainable = False
    layers = [layer.name for layer in backbone.layers if layer.name.startswith(TRANSFORMER_LAYER.format(""))]
    if params.frozen_layers > len(layers):
        raise ModelError(f"setting 'bert.frozen_layers' is {params.frozen_layers} but the checkpoint "
                         f"{params.checkpoint} has {len(layers)} transformer layers")
    for index in range(params.frozen_layers):
        backbone.get_layer(TRANSFORMER_LAYER.format(index)).trainable = False


def compile_trainer(model: keras.Model) -> keras.Model:
    """AdamW with a learning rate set before every step from the run's ``SchedulePlan``."""
    optimizer = keras.optimizers.AdamW(learning_rate=0.0, weight_decay=WEIGHT_DECAY, epsilon=ADAM_EPSILON,
                                       global_clipnorm=GLOBAL_CLIPNORM)
    optimizer.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=False)
    return model


def _seed_generators(model: keras.Model) -> list[Any]:
    """Every dropout's random state in the model (the backbone's included)."""
    return [layer.seed_generator for layer in model._flatten_layers()  # noqa: SLF001 - Keras's layer walk
            if getattr(layer, "seed_generator", None) is not None]


def seed_step(generators: list[Any], seed: int, step: int) -> None:
    """Dropout masks as a function of (seed, step): a resumed run draws the same masks."""
    for index, generator in enumerate(generators):
        generator.state.assign(np.array([seed, step * SEED_STRIDE + index], dtype=generator.state.dtype))


def predict_logits(model: keras.Model, split: Split, pad_multiple: int, cap: int) -> np.ndarray:
    """Logits of every review of ``split``, batched by length and padded only as needed."""
    order = np.argsort(split.lengths, kind="stable")
    logits = np.zeros((len(order), split.y.shape[1]), dtype=np.float32)
    for start in range(0, len(order), EVAL_BATCH):
        rows = order[start:start + EVAL_BATCH]
        length = padded_length(split.lengths[rows].max(), pad_multiple, cap)
        logits[rows] = np.asarray(model.predict_on_batch(slice_batch(split.x, rows, length)))
    return logits


def evaluate_split(model: keras.Model, split: Split, pad_multiple: int, cap: int) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``split``."""
    logits = predict_logits(model, split, pad_multiple, cap)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    labels = split.y.argmax(axis=1)
    return {"accuracy": round(float((logits.argmax(axis=1) == labels).mean()), METRIC_DIGITS),
            "loss": round(float(-log_probs[np.arange(len(labels)), labels].mean()), METRIC_DIGITS)}


class _Trainer:
    """One process's share of a run: steps from ``state.step`` to the plan's end, checkpointed."""

    def __init__(self, trainer: keras.Model, data: TrainingData, config: Config, run: CheckpointRun,
                 state: RunState) -> None:
        self.trainer = trainer
        self.data = data
        self.config = config
        self.params = config.bert
        self.run = run
        self.state = state
        self.generators = _seed_generators(trainer)
        # Inverse-frequency loss weights of the whole training set (class_balance: weights).
        labels = data.train.y.argmax(axis=1)
        self.class_weights = (balance.class_weights(labels, data.train.y.shape[1])
                              if config.class_balance == balance.WEIGHTS else None)

    def _batches(self, epoch: int) -> list[np.ndarray]:
        batches = epoch_batches(self.data.train.lengths, self.params.batch_size, self.config.seed, epoch)
        fingerprint = order_fingerprint(batches)
        recorded = self.state.order_sha256.setdefault(str(epoch), fingerprint)
        if recorded != fingerprint:
            raise ModelError(f"the batch order of epoch {epoch + 1} differs from the one recorded in "
                             f"{self.run.state_path}: delete {self.run.directory} to start over")
        return batches

    def _step(self, indices: np.ndarray) -> dict[str, float]:
        train = self.data.train
        length = padded_length(train.lengths[indices].max(), self.params.pad_multiple, self.params.max_len)
        self.trainer.optimizer.learning_rate = self.state.plan.rate(self.state.step)
        seed_step(self.generators, self.config.seed, self.state.step)
        weights = None if self.class_weights is None else \
            self.class_weights[train.y[indices].argmax(axis=1)].astype(np.float32)
        return self.trainer.train_on_batch(slice_batch(train.x, indices, length), train.y[indices],
                                           sample_weight=weights, return_dict=True)

    def _curve_point(self) -> None:
        started = time.perf_counter()
        metrics = evaluate_split(self.trainer, self.data.curve, self.params.pad_multiple, self.params.max_len)
        point = {"step": self.state.step, "reviews_seen": self.state.step * self.params.batch_size,
                 "curve_accuracy": metrics["accuracy"], "curve_loss": metrics["loss"],
                 "seconds": round(time.perf_counter() - started, SECONDS_DIGITS)}
        self.state.curve = [p for p in self.state.curve if p["step"] != self.state.step] + [point]
        LOG.info("learning curve at %d reviews: accuracy %.4f on %d validation reviews", point["reviews_seen"],
                 metrics["accuracy"], len(self.data.curve.ids))

    def _checkpoint(self, epoch_logs: dict[str, float] | None) -> None:
        self._curve_point()
        if epoch_logs is not None:
            self.state.history.append({"epoch": self.state.epochs_done, "optimizer_step": self.state.step,
                                       **{name: round(float(value), METRIC_DIGITS)
                                          for name, value in epoch_logs.items()}})
        self.run.save(self.trainer, self.state)

    def train(self, progress: bool) -> None:
        from tqdm import tqdm

        total = self.run.epochs * self.state.steps_per_epoch
        bar = tqdm(total=total, initial=self.state.step, unit="step", disable=not progress,
                   mininterval=PROGRESS_INTERVAL_S, desc="BERT fine-tuning")
        logs: dict[str, float] = {}
        try:
            while self.state.step < total:
                epoch, position = divmod(self.state.step, self.state.steps_per_epoch)
                batches = self._batches(epoch)
                if position == 0:
                    self.trainer.reset_metrics()
                for indices in batches[position:]:
                    started = time.perf_counter()
                    logs = self._step(indices)
                    self.state.train_seconds += time.perf_counter() - started
                    self.state.step += 1
                    bar.update(1)
                    bar.set_postfix(loss=f"{logs['loss']:.4f}", accuracy=f"{logs['accuracy']:.4f}", refresh=False)
                    at_epoch_end = self.state.step % self.state.steps_per_epoch == 0
                    if at_epoch_end or self.state.step % self.params.checkpoint_every == 0:
                        self._checkpoint(logs if at_epoch_end else None)
                        self._log_rate(total)
        finally:
            bar.close()

    def _log_rate(self, total: int) -> None:
        rate = self.state.step * self.params.batch_size / max(self.state.train_seconds, _MIN_SECONDS)
        step_seconds = self.state.train_seconds / max(self.state.step, 1)
        LOG.info("step %d/%d checkpointed in %s: %.2f reviews/s, ETA %.0f s of training", self.state.step, total,
                 self.run.directory, rate, (total - self.state.step) * step_seconds)


def _plan(params: BertConfig, steps_per_epoch: int) -> SchedulePlan:
    return SchedulePlan.for_steps(params.learning_rate, steps_per_epoch * params.epochs)


def _start_or_resume(trainer: keras.Model, run: CheckpointRun, state: RunState | None, params: BertConfig,
                     steps_per_epoch: int) -> RunState:
    if state is None:
        return RunState(run.settings, _plan(params, steps_per_epoch), steps_per_epoch)
    trainer.optimizer.build(trainer.trainable_variables)
    trainer.load_weights(run.directory / state.weights_file)
    state.resumed_from_step = state.step
    planned_epochs = state.plan.total_steps // steps_per_epoch
    LOG.info("resuming BERT training from %s after epoch %d of %d, at step %d of %d", run.directory,
             state.epochs_done, run.epochs, state.step, run.epochs * steps_per_epoch)
    if run.epochs > planned_epochs:
        # The run's plan ended at its last step; extending it re-plans the decay over the new
        # total (the warm-up already happened), which the log and the card record.
        state.plan = SchedulePlan(state.plan.peak, state.plan.warmup_steps, run.epochs * steps_per_epoch)
        LOG.warning("extending the run from %d to %d epochs: the rate now decays to 0 at step %d",
                    planned_epochs, run.epochs, state.plan.total_steps)
    return state


def fit(pair: tuple[keras.Model, keras.Model], data: TrainingData, config: Config, run: CheckpointRun,
        state: RunState | None, *, progress: bool, stop_now: bool = False) -> RunState:
    """Train the steps still missing from ``state`` (all of them for a fresh run).

    ``stop_now`` ends the run at its last checkpoint instead (when time is up): the model is
    that checkpoint's, and the card says how many of the planned steps it had.
    """
    _, any_length = pair
    freeze(any_length, config.bert)
    trainer = compile_trainer(any_length)
    steps_per_epoch = -(-len(data.train.ids) // config.bert.batch_size)
    if stop_now and state is None:
        raise ModelError(f"no BERT training checkpoint in {run.directory} to stop at: train without "
                         f"--stop-at-checkpoint first")
    state = _start_or_resume(trainer, run, state, config.bert, steps_per_epoch)
    if stop_now:
        LOG.info("stopping the run at its checkpoint of step %d of %d", state.step, state.plan.total_steps)
        return state
    if state.step >= run.epochs * steps_per_epoch:
        LOG.info("all %d epochs are already trained in %s; saving that model", run.epochs, run.directory)
        return state
    _Trainer(trainer, data, config, run, state).train(progress)
    return state


def model_card(config: Config, pipeline: Pipeline, data: TrainingData, state: RunState, shipped: dict[str, Any],
               float32: dict[str, float], wall_seconds: float, files: list[Path]) -> dict[str, Any]:
    """The measured numbers and the settings that produced them (``bert.json`` beside the model).

    ``validation_accuracy`` is the shipped ``.keras`` file's (float16-stored weights, served
    inputs: what ``imdb-leap evaluate`` reproduces); ``float32_validation_*`` the trained model's
    before the rounding, so the card shows what the float16 storage costs."""
    params = config.bert
    reviews = state.step * params.batch_size
    return {
        "family": config.model,
        "data": config.as_given("data"),
        "checkpoint": config.as_given("bert.checkpoint"),
        "train_samples": len(data.train.ids),
        "validation_samples": len(data.validation.ids),
        "sequence_length": params.max_len,
        "truncation": params.truncation,
        "truncated_train_fraction": round(data.truncated_fraction, METRIC_DIGITS),
        "epochs_run": state.epochs_done,
        "optimizer_steps": state.step,
        "planned_steps": state.plan.total_steps,
        "reviews_seen": reviews,
        "resumed_from_epoch": state.resumed_from_step // state.steps_per_epoch,
        "resumed_from_step": state.resumed_from_step,
        "train_seconds": round(state.train_seconds, SECONDS_DIGITS),
        "wall_seconds_this_process": round(wall_seconds, SECONDS_DIGITS),
        "train_samples_per_second": round(reviews / max(state.train_seconds, _MIN_SECONDS), RATE_DIGITS),
        "validation_accuracy": shipped["accuracy"],
        "validation_loss": shipped["loss"],
        **classes_card(config, pipeline, shipped["summary"]),
        "float32_validation_accuracy": float32["accuracy"],
        "float32_validation_loss": float32["loss"],
        "learning_curve": {"subset_samples": len(data.curve.ids), "points": state.curve},
        "history": state.history,
        "schedule": state.plan.to_dict(),
        "params": {"max_len": params.max_len, "truncation": params.truncation, "dropout": params.dropout,
                   "epochs": params.epochs, "batch_size": params.batch_size, "learning_rate": params.learning_rate,
                   "pad_multiple": params.pad_multiple, "freeze_embeddings": params.freeze_embeddings,
                   "frozen_layers": params.frozen_layers, "training_precision": params.training_precision,
                   "weight_decay": WEIGHT_DECAY,
                   "warmup_fraction": WARMUP_FRACTION, "seed": config.seed},
        "files": [path.name for path in files],
    }


def with_resolved_precision(config: Config) -> Config:
    """``config`` with ``bert.training_precision`` resolved for this machine (``auto`` decided once),
    so the checkpoint settings and the card record the arithmetic that actually ran."""
    precision = resolve_precision(config.bert.training_precision)
    return dataclasses.replace(config, bert=dataclasses.replace(config.bert, training_precision=precision))


def copy_weights(source: keras.Model, target: keras.Model) -> None:
    """Every variable of ``source`` into the same-shaped, same-named variable of ``target``."""
    sources, targets = source.weights, target.weights
    if len(sources) != len(targets):
        raise ModelError(f"cannot copy {source.name}'s {len(sources)} weights into {target.name}'s {len(targets)}")
    for origin, destination in zip(sources, targets, strict=True):
        if origin.shape != destination.shape or origin.name != destination.name:
            raise ModelError(f"weight {origin.path} {origin.shape} does not match {destination.path} "
                             f"{destination.shape}: the two classifiers were built differently")
        destination.assign(keras.ops.convert_to_numpy(origin).astype(destination.dtype))


def float32_pair(config: Config, trained: tuple[keras.Model, keras.Model]) -> tuple[keras.Model, keras.Model]:
    """The pair to score and save: ``trained`` itself when it ran in float32, else a float32 twin
    holding its weights (mixed precision keeps the variables float32, so nothing is rounded)."""
    if config.bert.training_precision == FLOAT32:
        return trained
    backbone = backbone_of(trained[0])
    twin = type(backbone).from_config({**backbone.get_config(), "dtype": FLOAT32})
    served = build_classifier_pair(config, twin, num_classes=trained[0].outputs[0].shape[-1])
    freeze(served[1], config.bert)
    copy_weights(trained[0], served[0])
    return served


def train_bert(config: Config, *, progress: bool = True, stop_at_checkpoint: bool = False) -> dict[str, Any]:
    """Fine-tune on a label-balanced training subset, resumably; save the model and its card.

    The recipe is ``bert.*`` in the configuration (the CLI's ``--max-len``, ``--train-samples``
    and ``--epochs`` are applied to it once, in ``config_from_args``). Rerunning the same
    command after an interruption resumes at the last checkpoint; asking for more epochs
    extends a finished run; ``stop_at_checkpoint`` ends it at its last checkpoint. No
    checkpoint is selected on validation: the model saved is the last step's, and the whole
    validation split is scored once, at the end.
    """
    started = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    config = with_resolved_precision(config)
    pipeline = Pipeline(config)
    data = training_data(pipeline)
    run = CheckpointRun(config.model_dir / CHECKPOINT_DIR, run_settings(config, data), config.bert.epochs)
    state = run.resumable_state()
    pair = build_classifier_pair(config, dtype=config.bert.training_precision, num_classes=len(pipeline.labels))
    state = fit(pair, data, config, run, state, progress=progress, stop_now=stop_at_checkpoint)
    served = float32_pair(config, pair)
    LOG.info("BERT training finished; scoring the %d validation reviews", len(data.validation.ids))
    float32 = evaluate_split(served[1], data.validation, config.bert.pad_multiple, config.bert.max_len)
    files = save_keras_model(served[0], config)
    LOG.info("scoring the saved %s (float16 weights) on the same reviews", model_path(config, KERAS_SUFFIX).name)
    shipped = score_shipped_file(config, pipeline, data.validation.ids)
    card = model_card(config, pipeline, data, state, shipped, float32, time.perf_counter() - started, files)
    write_card(config, card)
    return card
