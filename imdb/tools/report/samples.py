"""The analysed samples, gathered through the integration's own binder functions.

Why through ``leap_components``: the report must show what the Tensorleap dashboard would
show, so sample ids come from the preprocess responses, ground truth from the GT encoder,
metadata from the metadata functions (under the dashboard's names, ``text_oov_count`` …) and
the loss and accuracy from the custom loss and metric, never from a re-implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from imdb.runtime import components
from imdb.runtime import scoring
from imdb.data import DataError
from imdb.runtime.metadata import SampleMetadata
from imdb.text.plain import plain_text
from imdb.runtime.pipeline import Pipeline

# The binder's metadata functions, under the names they are registered with in leap_binder.py;
# the dashboard shows a dict-valued metadata ``name`` as ``name_<key>``.
LABEL_METADATA = "label"
METADATA_GROUPS: tuple[tuple[str, Callable[[SampleMetadata], dict[str, object]]], ...] = tuple(
    (name, function) for name, function, _ in components.METADATA_GROUPS)
# The probe metadata reads the probe case, not the review's metadata: a constant for reviews.
PROBE_METADATA = "probe"
SNIPPET_CHARS = 160


@dataclass(frozen=True)
class Samples:
    """One split's samples: ids, labels, texts and metadata columns, in preprocess order."""

    ids: list[str]
    labels: np.ndarray
    ground_truth: np.ndarray
    texts: list[str]
    metadata: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def snippets(self) -> list[str]:
        """The start of each review as plain text (hover labels), computed once for all figures."""
        return [snippet(text) for text in self.texts]


def snippet(text: str) -> str:
    """The start of a review as plain text, cut at a word boundary (a map's hover label)."""
    plain = plain_text(text)
    return plain if len(plain) <= SNIPPET_CHARS else plain[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


@dataclass(frozen=True)
class Predictions:
    """A model's outputs on ``Samples``, scored by the binder's loss and metric."""

    logits: np.ndarray
    probabilities: np.ndarray
    predicted: np.ndarray
    loss: np.ndarray
    correct: np.ndarray


def split_ids(pipeline: Pipeline, split: str) -> list[str]:
    """The sample ids the integration's preprocess serves for ``split`` (limit applied)."""
    for response in components.preprocess_responses(pipeline):
        if response.data["split"] == split:
            return list(response.sample_ids)
    available = ", ".join(pipeline.corpus.splits)
    raise DataError(f"split {split!r} is not served for {pipeline.config.data} (available: {available})")


def collect(pipeline: Pipeline, split: str, *, progress: bool = True) -> Samples:
    """Ids, ground truth and metadata of ``split``; TextBlob scores filled in bulk and cached."""
    ids = split_ids(pipeline, split)
    reviews = [pipeline.corpus[sample_id] for sample_id in ids]
    pipeline.metadata_store.precompute(reviews, progress=progress)
    ground_truth = np.stack([pipeline.ground_truth(sample_id) for sample_id in ids]) if ids else \
        np.zeros((0, len(pipeline.labels)), dtype=np.float32)
    return Samples(ids=ids, labels=np.argmax(ground_truth, axis=-1) if ids else np.zeros(0, dtype=np.int64),
                   ground_truth=ground_truth, texts=[review.text for review in reviews],
                   metadata=metadata_columns(pipeline, ids))


def metadata_columns(pipeline: Pipeline, ids: list[str]) -> dict[str, np.ndarray]:
    """Every metadata field the binder registers, one column per dashboard name."""
    rows: dict[str, list[object]] = {LABEL_METADATA: []}
    for sample_id in ids:
        meta = pipeline.metadata(sample_id)
        rows[LABEL_METADATA].append(meta.label)
        for group, function in METADATA_GROUPS:
            for key, value in function(meta).items():
                rows.setdefault(f"{group}_{key}", []).append(value)
        for key, value in components.probe_metadata(pipeline.probe_case(sample_id)).items():
            rows.setdefault(f"{PROBE_METADATA}_{key}", []).append(value)
    return {name: np.asarray(values) for name, values in rows.items()}


def score(samples: Samples, logits: np.ndarray) -> Predictions:
    """Softmax, arg-max, and the binder's per-sample loss and accuracy."""
    return Predictions(logits=logits, probabilities=scoring.softmax(logits), predicted=np.argmax(logits, axis=-1),
                       loss=components.loss(samples.ground_truth, logits),
                       correct=components.accuracy(samples.ground_truth, logits).astype(bool))
