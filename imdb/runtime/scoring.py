"""Loss and metrics on logits, in NumPy, shared by the binder, ``evaluate``, the report and bench.

Why here and not in the model: models output raw logits (Tensorleap is inference-only and
analyses raw outputs), so softmax lives in exactly one place and every consumer computes
the same numbers.
"""

from __future__ import annotations

import numpy as np

PROBABILITY_FLOOR = 1e-12


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable for large logits."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def cross_entropy(y_true: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Per-sample categorical cross-entropy of one-hot ``y_true`` against logits (log-sum-exp form)."""
    logits = np.asarray(logits, dtype=np.float64)
    top = logits.max(axis=-1, keepdims=True)
    log_probs = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
    return (-(np.asarray(y_true, dtype=np.float64) * log_probs).sum(axis=-1)).astype(np.float32)


def accuracy(y_true: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Per-sample 1.0 / 0.0 for a correct / wrong arg-max prediction."""
    return (np.argmax(y_true, axis=-1) == np.argmax(logits, axis=-1)).astype(np.float32)


def confusion_counts(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """``counts[true, predicted]``."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return counts


def macro_f1(counts: np.ndarray) -> float:
    """Unweighted mean of per-class F1 from a confusion matrix; 0 for a class never seen or predicted."""
    scores = []
    for cls in range(counts.shape[0]):
        true_positive = counts[cls, cls]
        denominator = counts[cls, :].sum() + counts[:, cls].sum()
        scores.append(2.0 * true_positive / denominator if denominator else 0.0)
    return float(np.mean(scores))


def summarize(labels: np.ndarray, logits: np.ndarray, label_names: tuple[str, ...]) -> dict[str, object]:
    """The numbers ``evaluate`` prints and the report's summary shows."""
    labels = np.asarray(labels, dtype=np.int64)
    one_hot = np.eye(len(label_names), dtype=np.float32)[labels]
    predictions = np.argmax(logits, axis=-1)
    counts = confusion_counts(labels, predictions, len(label_names))
    return {
        "n": int(len(labels)),
        "accuracy": float(accuracy(one_hot, logits).mean()) if len(labels) else 0.0,
        "loss": float(cross_entropy(one_hot, logits).mean()) if len(labels) else 0.0,
        "macro_f1": macro_f1(counts),
        "confusion": {f"{label_names[t]}->{label_names[p]}": int(counts[t, p])
                      for t in range(len(label_names)) for p in range(len(label_names))},
    }
