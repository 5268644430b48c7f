"""The ``bert_training`` section: BERT fine-tuning throughput, the old step beside the new ones.

Why side by side in one process on the same reviews: the machine is shared, so only figures
taken together compare. The baseline is faithful to the step the project had before length
bucketing: the static-length classifier (every batch padded to ``bert.max_len``), all of
the backbone trainable, batches in shuffled order. The new step is what ``imdb-leap train``
runs: the any-length twin, batches bucketed by length (``imdb.training.batches``), the
configured frozen layers and the configured arithmetic (``bert.training_precision``, resolved
for this machine). Two middle rows (bucketing alone; bucketing and freezing, in float32) show
what each lever brings. Every variant steps over the same number of batches (bucketing only
changes which reviews share one). The variants run one after another and each is released
before the next is built, so the section fits the bench's memory ceiling.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from imdb.contract.config import Config
from imdb.contract.names import TRAINING
from imdb.runtime.pipeline import Pipeline
from imdb.tools.bench.settings import BERT_TRAINING_SAMPLES
from imdb.training.precision import FLOAT32

# Steps run before timing: graph tracing (one per new input shape, until Keras generalises
# the shape) is a one-off cost of a run, not of a step.
WARMUP_STEPS = 3
ROUND = 2


@dataclass
class _Variant:
    """One way of stepping: its compiled trainer, batches, their padded lengths, the time taken."""

    trainer: Any
    batches: list[np.ndarray]
    lengths: list[int]
    params: Any
    seconds: float = 0.0

    def step(self, split: Any, index: int) -> None:
        from imdb.training.batches import slice_batch

        indices = self.batches[index]
        self.trainer.train_on_batch(slice_batch(split.x, indices, self.lengths[index]), split.y[indices])

    def row(self) -> dict[str, Any]:
        reviews = sum(len(indices) for indices in self.batches)
        return {"reviews": reviews, "seconds": round(self.seconds, ROUND),
                "reviews_per_s": round(reviews / self.seconds, ROUND),
                "mean_padded_length": round(float(np.mean(self.lengths)), 1),
                "frozen_embeddings": self.params.freeze_embeddings, "frozen_layers": self.params.frozen_layers,
                "precision": self.params.training_precision}


def _variant(config: Config, split: Any, *, bucketed: bool, frozen: bool, precision: str = FLOAT32) -> _Variant:
    from imdb.models.bert import build_classifier_pair
    from imdb.training.bert import compile_trainer, freeze
    from imdb.training.batches import epoch_batches, padded_length

    params = dataclasses.replace(config.bert, training_precision=precision)
    if not frozen:
        params = dataclasses.replace(params, freeze_embeddings=False, frozen_layers=0)
    static, any_length = build_classifier_pair(config, dtype=params.training_precision)
    freeze(any_length, params)
    if bucketed:
        batches = epoch_batches(split.lengths, params.batch_size, config.seed, 0)
        lengths = [padded_length(split.lengths[b].max(), params.pad_multiple, params.max_len) for b in batches]
        trainer = any_length
    else:
        order = np.random.default_rng(config.seed).permutation(len(split.ids))
        batches = [order[start:start + params.batch_size] for start in range(0, len(order), params.batch_size)]
        lengths = [params.max_len] * len(batches)
        trainer = static
    return _Variant(compile_trainer(trainer), batches, lengths, params)


def _timed_row(bert_config: Config, split: Any, **how: Any) -> dict[str, Any]:
    """Build one variant, warm it up, time every batch, then release it before the next is built.

    Why one at a time: four BERT trainers with their traced graphs held together took most of
    the bench's 18 GB peak; released in turn, the section peaks at one trainer's footprint.
    """
    import gc

    import keras

    variant = _variant(bert_config, split, **how)
    for index in range(min(WARMUP_STEPS, len(variant.batches))):
        variant.step(split, index)
    for index in range(len(variant.batches)):
        started = time.perf_counter()
        variant.step(split, index)
        variant.seconds += time.perf_counter() - started
    row = {**variant.row(), "load_average_1": round(os.getloadavg()[0], ROUND)}
    del variant
    keras.backend.clear_session()
    gc.collect()
    return row


def bench_bert_training(config: Config, samples: int = BERT_TRAINING_SAMPLES) -> dict[str, Any]:
    """Reviews/s of the fixed-padding step, of each lever added in turn, and of the configured step.

    The variants run one after another, each released before the next is built (the memory
    ceiling); each row carries the one-minute load it ran under, so a change in the shared
    machine's load shows instead of hiding in a ratio.
    """
    from imdb.training.bert import encode_split, with_resolved_precision

    bert_config = with_resolved_precision(config.with_overrides(model="bert"))
    pipeline = Pipeline(bert_config)
    split = encode_split(pipeline, pipeline.split_ids(TRAINING, samples))
    variants = {"fixed_padding": {"bucketed": False, "frozen": False},
                "bucketed": {"bucketed": True, "frozen": False},
                "bucketed_frozen": {"bucketed": True, "frozen": True},
                "configured": {"bucketed": True, "frozen": True,
                               "precision": bert_config.bert.training_precision}}
    rows = {name: _timed_row(bert_config, split, **how) for name, how in variants.items()}
    fixed = rows["fixed_padding"]["reviews_per_s"]
    return {"samples": len(split.ids), "max_len": bert_config.bert.max_len,
            "truncation": bert_config.bert.truncation, "batch_size": bert_config.bert.batch_size, **rows,
            "bucketed_to_fixed_ratio": round(rows["bucketed"]["reviews_per_s"] / fixed, ROUND),
            "bucketed_frozen_to_fixed_ratio": round(rows["bucketed_frozen"]["reviews_per_s"] / fixed, ROUND),
            "configured_to_fixed_ratio": round(rows["configured"]["reviews_per_s"] / fixed, ROUND)}
