"""The ``bert_training`` section: BERT fine-tuning throughput, the old step beside the new ones.

Why side by side in one process on the same reviews: the machine is shared, so only figures
taken together compare. The baseline is faithful to the step the project had before length
bucketing: the static-length classifier (every batch padded to ``bert.max_len``), all of
the backbone trainable, batches in shuffled order. The new step is what ``imdb-leap train``
runs: the any-length twin, batches bucketed by length (``imdb.training.batches``) and the
configured frozen layers; a middle row (bucketing alone) shows what each lever brings.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from imdb.contract.config import Config
from imdb.contract.names import TRAINING
from imdb.runtime.pipeline import Pipeline

BENCH_SAMPLES = 256
# Steps run before timing: graph tracing (one per new input shape, until Keras generalises
# the shape) is a one-off cost of a run, not of a step.
WARMUP_STEPS = 3
ROUND = 2


def _rate(trainer: Any, batches: list[np.ndarray], split: Any, lengths: list[int]) -> dict[str, Any]:
    from imdb.training.batches import slice_batch

    def step(indices: np.ndarray, length: int) -> None:
        trainer.train_on_batch(slice_batch(split.x, indices, length), split.y[indices])

    for indices, length in list(zip(batches, lengths, strict=True))[:WARMUP_STEPS]:
        step(indices, length)
    started = time.perf_counter()
    for indices, length in zip(batches, lengths, strict=True):
        step(indices, length)
    seconds = time.perf_counter() - started
    reviews = sum(len(indices) for indices in batches)
    return {"reviews": reviews, "seconds": round(seconds, ROUND), "reviews_per_s": round(reviews / seconds, ROUND),
            "mean_padded_length": round(float(np.mean(lengths)), 1)}


def _variant(config: Config, split: Any, *, bucketed: bool, frozen: bool) -> dict[str, Any]:
    from imdb.models.bert import build_classifier_pair
    from imdb.training.bert import compile_trainer, freeze
    from imdb.training.batches import epoch_batches, padded_length

    params = config.bert
    if not frozen:
        params = dataclasses.replace(params, freeze_embeddings=False, frozen_layers=0)
    static, any_length = build_classifier_pair(config)
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
    compile_trainer(trainer)
    row = _rate(trainer, batches, split, lengths)
    row.update(frozen_embeddings=params.freeze_embeddings, frozen_layers=params.frozen_layers)
    return row


def bench_bert_training(config: Config, samples: int = BENCH_SAMPLES) -> dict[str, Any]:
    """Reviews/s of the fixed-padding step, of bucketing alone, and of the configured step."""
    from imdb.training.bert import encode_split

    bert_config = config.with_overrides(model="bert")
    pipeline = Pipeline(bert_config)
    split = encode_split(pipeline, pipeline.split_ids(TRAINING, samples))
    fixed = _variant(bert_config, split, bucketed=False, frozen=False)
    bucketed = _variant(bert_config, split, bucketed=True, frozen=False)
    configured = _variant(bert_config, split, bucketed=True, frozen=True)
    return {"samples": len(split.ids), "max_len": bert_config.bert.max_len,
            "truncation": bert_config.bert.truncation, "batch_size": bert_config.bert.batch_size,
            "fixed_padding": fixed, "bucketed": bucketed, "configured": configured,
            "bucketed_to_fixed_ratio": round(bucketed["reviews_per_s"] / fixed["reviews_per_s"], ROUND),
            "configured_to_fixed_ratio": round(configured["reviews_per_s"] / fixed["reviews_per_s"], ROUND)}
