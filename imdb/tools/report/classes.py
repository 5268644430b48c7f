"""Per-class errors: where a many-class model goes wrong, class by class.

With two classes the confusion matrix says it all; with eight star ratings or seven reasons
for happiness a reader asks, per class, how much of it the model finds (recall), how much of
what it calls that class is right (precision), how costly its samples are (mean loss), and
which one class it is most often mistaken for — the cell of the confusion row to look at first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassErrors:
    """One class's row of the per-class error table."""

    name: str
    samples: int
    predicted: int
    recall: float
    precision: float
    f1: float
    mean_loss: float
    mistaken_for: str | None
    mistaken_count: int


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else float("nan")


def class_errors(confusion: np.ndarray, labels: tuple[str, ...], sample_labels: np.ndarray,
                 loss: np.ndarray) -> list[ClassErrors]:
    """The table's rows in class order, from the confusion counts (rows = ground truth) and the losses."""
    rows = []
    for index, name in enumerate(labels):
        row, column, hit = confusion[index], confusion[:, index], confusion[index, index]
        recall, precision = _ratio(hit, row.sum()), _ratio(hit, column.sum())
        f1 = _ratio(2 * precision * recall, precision + recall) if not np.isnan(precision + recall) else float("nan")
        off = row.astype(np.int64).copy()
        off[index] = 0
        worst = int(np.argmax(off))
        members = sample_labels == index
        rows.append(ClassErrors(name=name, samples=int(row.sum()), predicted=int(column.sum()), recall=recall,
                                precision=precision, f1=f1,
                                mean_loss=float(loss[members].mean()) if members.any() else float("nan"),
                                mistaken_for=labels[worst] if off[worst] else None, mistaken_count=int(off[worst])))
    return rows
