"""Loss and metrics on logits, in NumPy, shared by the binder, ``evaluate``, the report and bench.

Why here and not in the model: models output raw logits (Tensorleap is inference-only and
analyses raw outputs), so softmax lives in exactly one place and every consumer computes
the same numbers.
"""

from __future__ import annotations

import numpy as np

PROBABILITY_FLOOR = 1e-12
# Two numbered classes (tweets' 0/4) are a polarity, not a scale: a star error needs three or more.
ORDINAL_MIN_CLASSES = 3


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
    """Per-sample 1.0 / 0.0 for a correct / wrong arg-max prediction.

    Correct means the predicted class carries the target's largest weight: for a one-hot target
    exactly arg-max equality; for a probe's target spread over the classes of one polarity, any
    class of that polarity."""
    y_true = np.asarray(y_true)
    predicted = np.argmax(logits, axis=-1)
    chosen = np.take_along_axis(y_true, predicted[..., None], axis=-1)[..., 0]
    return (chosen >= y_true.max(axis=-1)).astype(np.float32)


def class_recall(y_true: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Per sample and class ``(batch, classes)``: 1.0 / 0.0 where the sample is of that class and
    was predicted right / wrong, NaN where it is not of that class, so a mean that skips NaN
    over any slice is that slice's recall of the class."""
    y_true = np.asarray(y_true, dtype=np.float32)
    members = y_true >= y_true.max(axis=-1, keepdims=True)
    correct = accuracy(y_true, logits)[..., None]
    return np.where(members, np.broadcast_to(correct, members.shape), np.nan).astype(np.float32)


def positive_probability(logits: np.ndarray, polarity: tuple[int, ...]) -> np.ndarray:
    """p(positive): the probability of all classes whose polarity is positive (the probes' score)."""
    return softmax(logits)[:, np.asarray(polarity, dtype=bool)].sum(axis=-1)


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


def per_class_recall(counts: np.ndarray) -> list[float | None]:
    """Recall of each class from a confusion matrix; None for a class with no samples."""
    totals = counts.sum(axis=1)
    return [float(counts[cls, cls] / totals[cls]) if totals[cls] else None for cls in range(counts.shape[0])]


def class_values(label_names: tuple[str, ...]) -> np.ndarray | None:
    """The star each class stands for (``7-star`` -> 7) when every class name is one, else None:
    what makes the mean absolute error of an ordinal task computable."""
    if len(label_names) <= ORDINAL_MIN_CLASSES - 1:
        return None
    values = []
    for name in label_names:
        head = name.split("-", 1)[0]
        if not head.isdigit():
            return None
        values.append(int(head))
    return np.asarray(values, dtype=np.float64)


def summarize(labels: np.ndarray, logits: np.ndarray, label_names: tuple[str, ...]) -> dict[str, object]:
    """The numbers ``evaluate`` prints, training writes on a card and the report's summary shows:
    accuracy, loss, macro-F1, recall per class, confusion counts and, for ordinal classes
    (IMDB's star ratings), the mean absolute error in stars of the arg-max prediction."""
    labels = np.asarray(labels, dtype=np.int64)
    one_hot = np.eye(len(label_names), dtype=np.float32)[labels]
    predictions = np.argmax(logits, axis=-1)
    counts = confusion_counts(labels, predictions, len(label_names))
    summary: dict[str, object] = {
        "n": int(len(labels)),
        "accuracy": float(accuracy(one_hot, logits).mean()) if len(labels) else 0.0,
        "loss": float(cross_entropy(one_hot, logits).mean()) if len(labels) else 0.0,
        "macro_f1": macro_f1(counts),
        "per_class_recall": dict(zip(label_names, per_class_recall(counts))),
        "confusion": {f"{label_names[t]}->{label_names[p]}": int(counts[t, p])
                      for t in range(len(label_names)) for p in range(len(label_names))},
    }
    stars = class_values(label_names)
    if stars is not None and len(labels):
        summary["star_mae"] = float(np.abs(stars[predictions] - stars[labels]).mean())
    return summary


def confidence(logits: np.ndarray) -> dict[str, np.ndarray]:
    """Per sample: the top probability, its margin over the runner-up, and the entropy (nats) of
    the predicted distribution — the three ways a dashboard slices by how sure the model was."""
    probabilities = softmax(logits).astype(np.float64)
    ordered = np.sort(probabilities, axis=-1)
    entropy = -(probabilities * np.log(np.maximum(probabilities, PROBABILITY_FLOOR))).sum(axis=-1)
    return {"confidence": ordered[:, -1].astype(np.float32),
            "margin": (ordered[:, -1] - ordered[:, -2]).astype(np.float32),
            "entropy": entropy.astype(np.float32)}
