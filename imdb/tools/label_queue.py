"""``imdb-leap label-queue``: the unlabelled reviews most worth labelling next, as a CSV.

Why three signals, each its own column: a user deciding what to label wants to see why a review
was picked, and the usual single criterion misleads on its own. **Uncertainty** (the entropy of
the model's probabilities, divided by its maximum, log of the class count) finds reviews near the
decision boundary, but on a corpus this large the least certain reviews are often near-duplicates
of one kind. **Disagreement** (with ``--compare``: the total variation distance between the two
models' probabilities, half the sum of absolute differences) finds reviews where the families'
different views of text part ways, which query-by-committee treats as the most informative.
**Coverage** (the cosine distance, in the model-independent content space, from the review to its
nearest labelled training review) finds reviews unlike anything the model was trained on, which
neither of the other two sees when the model is confidently wrong there.

The combined ``score`` is the mean of the signals' percentile ranks among the candidates: the
signals live on different scales, and ranks let none dominate by its units. The ids are the
sample ids of Tensorleap's unlabelled state, so a row can be looked up on the dashboard.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from imdb.contract.config import Config
from imdb.contract.files import atomic_write_text
from imdb.contract.names import TRAINING
from imdb.tools.report.settings import AnalysisError

# Characters of each review shown in the CSV (one line: newlines and HTML breaks flattened).
PREVIEW_CHARS = 200
# Content-space rows compared at once in the nearest-neighbour search (bounds its memory).
NEIGHBOUR_CHUNK = 2048
ROUND = 4


class LabelQueueError(AnalysisError):
    """There is nothing to queue (no unlabelled reviews served); the message says what to set
    (an ``AnalysisError``, so the CLI reports it in one line)."""


@dataclass(frozen=True)
class QueueModel:
    """One model's view of the candidates: its name, pipeline and probabilities."""

    name: str
    pipeline: Any
    probabilities: np.ndarray


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def normalized_entropy(probabilities: np.ndarray) -> np.ndarray:
    """Entropy of each row divided by log(classes): 0 for a certain prediction, 1 for a uniform one."""
    clipped = np.clip(probabilities, 1e-12, 1.0)
    return -(clipped * np.log(clipped)).sum(axis=1) / np.log(probabilities.shape[1])


def total_variation(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Half the L1 distance between two models' probability rows: 0 when they agree, 1 at most."""
    return 0.5 * np.abs(first - second).sum(axis=1)


def nearest_distances(queries: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Cosine distance from each query row to its nearest reference row (exact, chunked)."""
    if not len(references):
        raise LabelQueueError("no labelled training reviews to measure coverage against")
    reference = _unit_rows(references)
    distances = np.empty(len(queries), dtype=np.float32)
    for start in range(0, len(queries), NEIGHBOUR_CHUNK):
        block = _unit_rows(queries[start:start + NEIGHBOUR_CHUNK])
        distances[start:start + len(block)] = 1.0 - (block @ reference.T).max(axis=1)
    return np.clip(distances, 0.0, 2.0)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """Each value's rank among ``values`` scaled to [0, 1] (ties share their mean rank)."""
    from scipy.stats import rankdata

    if len(values) < 2:
        return np.ones(len(values))
    return (rankdata(values) - 1.0) / (len(values) - 1.0)


def combined_score(signals: Sequence[np.ndarray]) -> np.ndarray:
    """The mean of the signals' percentile ranks."""
    return np.mean([percentile_ranks(signal) for signal in signals], axis=0)


def preview(text: str) -> str:
    """The review on one line (HTML breaks and newlines flattened), cut at ``PREVIEW_CHARS``."""
    flat = " ".join(text.replace("<br />", " ").split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[:PREVIEW_CHARS - 1] + "…"


def _model_view(config: Config, ids: list[str], progress: bool, name: str | None = None) -> QueueModel:
    from imdb.models.inference import predict_logits
    from imdb.models.loading import load_keras_model
    from imdb.runtime.pipeline import Pipeline

    pipeline = Pipeline(config)
    logits = predict_logits(pipeline, load_keras_model(config, pipeline.labels), ids, progress=progress,
                            desc=f"inference ({config.model}, unlabelled)")
    return QueueModel(name=name or config.model, pipeline=pipeline, probabilities=softmax(logits))


def candidate_ids(pipeline: Any, limit: int | None) -> list[str]:
    """The unlabelled reviews served (``unlabeled_limit``), at most ``limit`` of them."""
    ids = pipeline.unlabeled_ids()
    if not ids:
        raise LabelQueueError(
            f"no unlabelled reviews in {pipeline.config.data}: the queue ranks aclImdb's train/unsup/ reviews "
            f"(the official archive holds 50,000), and unlabeled_limit (IMDB_UNLABELED_LIMIT) must not be 0")
    return ids if limit is None else ids[:limit]


def build_queue(config: Config, compare: Config | None = None, *, n: int, limit: int | None = None,
                progress: bool = True) -> dict[str, Any]:
    """Score every candidate, keep the ``n`` best; return the rows and what went into them."""
    from imdb.runtime.pipeline import Pipeline

    ids = candidate_ids(Pipeline(config), limit)
    models = [_model_view(config, ids, progress)]
    if compare is not None:
        # Column prefixes: the family, told apart from the first model's when both are one family.
        name = compare.model if compare.model != config.model else f"{compare.model}_compare"
        models.append(_model_view(compare, ids, progress, name))
    pipeline = models[0].pipeline
    uncertainty = normalized_entropy(models[0].probabilities)
    training = np.stack([pipeline.content_vector(sample_id) for sample_id in pipeline.split_ids(TRAINING)])
    candidates = np.stack([pipeline.content_vector(sample_id) for sample_id in ids])
    distance = nearest_distances(candidates, training)
    signals = {"uncertainty": uncertainty, "nearest_labeled_distance": distance}
    if compare is not None:
        signals["disagreement"] = total_variation(models[0].probabilities, models[1].probabilities)
    score = combined_score(list(signals.values()))
    order = np.argsort(-score, kind="stable")[:n]
    rows = [_row(rank, position, ids, score, signals, models) for rank, position in enumerate(order, start=1)]
    return {"rows": rows, "candidates": len(ids), "signals": list(signals), "models": [m.name for m in models]}


def _row(rank: int, position: int, ids: list[str], score: np.ndarray, signals: dict[str, np.ndarray],
         models: list[QueueModel]) -> dict[str, Any]:
    labels = models[0].pipeline.labels
    row: dict[str, Any] = {"rank": rank, "sample_id": ids[position], "score": round(float(score[position]), ROUND)}
    row.update({name: round(float(values[position]), ROUND) for name, values in signals.items()})
    for model in models:
        probabilities = model.probabilities[position]
        row[f"{model.name}_predicted"] = labels[int(np.argmax(probabilities))]
        row[f"{model.name}_confidence"] = round(float(np.max(probabilities)), ROUND)
    row["text"] = preview(models[0].pipeline.corpus[ids[position]].text)
    return row


def write_queue(rows: list[dict[str, Any]], out: Path) -> Path:
    """The rows as a CSV, written atomically (a reader never sees half a queue)."""
    if not rows:
        raise LabelQueueError("the label queue is empty: --n must be at least 1")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, buffer.getvalue())
    return out
