"""Training against class imbalance: inverse-frequency class weights, or oversampling.

Why a setting (``class_balance``): a corpus such as a 7-class survey with one class ten times
another trains a model that rarely predicts the small classes; weighting the loss by inverse
class frequency, or repeating the small classes' samples, are the standard remedies, and which
helps is measured per corpus (per-class recall on the model card).
"""

from __future__ import annotations

import numpy as np

NONE, WEIGHTS, OVERSAMPLE = "none", "weights", "oversample"


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``n / (classes * count)`` per class (1.0 everywhere when balanced); an absent class gets 0."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_classes, dtype=np.float64)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def oversampled_positions(labels: np.ndarray, seed: int) -> np.ndarray:
    """Positions of a training set in which every class is repeated (drawn with replacement
    beyond its own samples) up to the size of the largest, shuffled with ``seed``."""
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    largest = int(np.bincount(labels).max())
    chosen = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        extra = rng.choice(members, size=largest - len(members), replace=True)
        chosen.append(np.concatenate([members, extra]))
    positions = np.concatenate(chosen)
    rng.shuffle(positions)
    return positions


def sample_weights(labels: np.ndarray, num_classes: int, balance: str) -> np.ndarray | None:
    """Per-sample loss weights for ``class_balance: weights``; None otherwise."""
    if balance != WEIGHTS:
        return None
    return class_weights(labels, num_classes)[np.asarray(labels, dtype=np.int64)].astype(np.float32)
