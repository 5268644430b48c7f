"""The samples a reader should look at first: the highest-loss errors of each kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from imdb.tools.report.samples import Predictions, Samples


@dataclass(frozen=True)
class ErrorGroup:
    """Misclassified samples of one (ground truth, prediction) pair, highest loss first."""

    title: str
    true_class: int
    predicted_class: int
    total: int
    indices: np.ndarray


def hardest_errors(samples: Samples, predictions: Predictions, labels: Sequence[str], top: int) -> list[ErrorGroup]:
    """For each off-diagonal cell of the confusion matrix, its ``top`` highest-loss samples.

    With two classes the last label is the positive one, so the groups are the false
    positives and the false negatives.
    """
    groups = []
    positive = len(labels) - 1
    for truth in range(len(labels)):
        for predicted in range(len(labels)):
            if truth == predicted:
                continue
            members = np.flatnonzero((samples.labels == truth) & (predictions.predicted == predicted))
            ranked = members[np.argsort(-predictions.loss[members], kind="stable")]
            kind = ""
            if len(labels) == 2:
                kind = "false positives: " if predicted == positive else "false negatives: "
            groups.append(ErrorGroup(title=f"{kind}{labels[truth]} reviews predicted {labels[predicted]}",
                                     true_class=truth, predicted_class=predicted, total=len(members),
                                     indices=ranked[:top]))
    return groups
