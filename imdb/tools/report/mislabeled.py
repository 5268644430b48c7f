"""Likely mislabeled samples, confident-learning style (Northcutt, Jiang and Chuang, 2021).

Per class j, the threshold t_j is the mean probability the model gives class j on the
samples labelled j (its average self-confidence). A sample counts towards the confident
joint ``C[label, j]`` for the class j it is most confidently assigned to among those whose
probability reaches t_j. Off-diagonal entries are label issues: the model is confident, by
the class's own standard, that the given label is wrong. They are ranked by the normalised
margin ``p[j] - p[label]``, the ranking the paper recommends.

On a training split the probabilities are in-sample (the model was fitted on those labels),
which hides issues; the report says so, and the validation split gives cleaner estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNASSIGNED = -1


@dataclass(frozen=True)
class LabelIssues:
    """Thresholds, the confident joint, and the flagged samples ranked most suspicious first."""

    thresholds: np.ndarray
    confident_joint: np.ndarray
    ranked: np.ndarray
    suggested: np.ndarray
    margin: np.ndarray


def find_label_issues(labels: np.ndarray, probabilities: np.ndarray) -> LabelIssues:
    """Confident-learning label issues among ``labels`` given the model's ``probabilities``."""
    labels = np.asarray(labels, dtype=np.int64)
    num_classes = probabilities.shape[1]
    thresholds = per_class_thresholds(labels, probabilities)
    suggested = confident_class(probabilities, thresholds)
    joint = np.zeros((num_classes, num_classes), dtype=np.int64)
    assigned = suggested != UNASSIGNED
    np.add.at(joint, (labels[assigned], suggested[assigned]), 1)
    rows = np.arange(len(labels))
    margin = np.where(assigned, probabilities[rows, np.maximum(suggested, 0)] - probabilities[rows, labels], 0.0)
    flagged = np.flatnonzero(assigned & (suggested != labels))
    ranked = flagged[np.argsort(-margin[flagged], kind="stable")]
    return LabelIssues(thresholds=thresholds, confident_joint=joint, ranked=ranked, suggested=suggested, margin=margin)


def per_class_thresholds(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Mean self-confidence per class; a class absent from ``labels`` can never be confident (1.0)."""
    thresholds = np.ones(probabilities.shape[1], dtype=np.float64)
    for cls in range(probabilities.shape[1]):
        members = labels == cls
        if members.any():
            thresholds[cls] = float(probabilities[members, cls].mean())
    return thresholds


def confident_class(probabilities: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per sample, the most probable class among those at or above their threshold (or ``UNASSIGNED``)."""
    above = probabilities >= thresholds[np.newaxis, :]
    masked = np.where(above, probabilities, -np.inf)
    best = np.argmax(masked, axis=1)
    return np.where(above.any(axis=1), best, UNASSIGNED).astype(np.int64)
