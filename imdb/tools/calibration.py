"""Calibration: can the model's probabilities be trusted, and what would one scalar fix?

Expected calibration error (Guo et al. 2017): the mean gap between confidence and accuracy over
15 equal-width confidence bins, weighted by bin size, with a bootstrap interval; and temperature
scaling: the one temperature ``T`` dividing the logits that minimises the cross-entropy on the
**training** split (never the split it is then reported on).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imdb.runtime import scoring

ECE_BINS = 15
BOOTSTRAP_RESAMPLES = 1000
INTERVAL = 0.95
# Temperatures searched (log-uniformly bounded): far beyond what a trained classifier needs.
TEMPERATURE_BOUNDS = (0.05, 20.0)


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Per confidence bin: its range, how many samples, their mean confidence and accuracy."""
    confidence = probabilities.max(axis=-1)
    correct = probabilities.argmax(axis=-1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for index in range(bins):
        members = which == index
        count = int(members.sum())
        rows.append({"low": float(edges[index]), "high": float(edges[index + 1]), "n": count,
                     "confidence": float(confidence[members].mean()) if count else 0.0,
                     "accuracy": float(correct[members].mean()) if count else 0.0})
    return rows


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    rows = reliability(probabilities, labels, bins)
    total = sum(row["n"] for row in rows)
    return float(sum(row["n"] * abs(row["confidence"] - row["accuracy"]) for row in rows) / max(total, 1))


def ece_interval(probabilities: np.ndarray, labels: np.ndarray, seed: int,
                 resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """The central 95 % of the ECE over bootstrap resamples of the samples."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        chosen = rng.integers(0, len(labels), len(labels))
        values.append(expected_calibration_error(probabilities[chosen], labels[chosen]))
    tail = (1.0 - INTERVAL) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1.0 - tail))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the mean cross-entropy of ``logits / T`` (a 1-D convex search in log T)."""
    from scipy.optimize import minimize_scalar

    one_hot = np.eye(logits.shape[1], dtype=np.float32)[labels]

    def loss(log_t: float) -> float:
        return float(scoring.cross_entropy(one_hot, logits / np.exp(log_t)).mean())

    low, high = np.log(TEMPERATURE_BOUNDS)
    return float(np.exp(minimize_scalar(loss, bounds=(low, high), method="bounded").x))


def calibration(logits: np.ndarray, labels: np.ndarray, seed: int, temperature: float | None = None) -> dict[str, Any]:
    """ECE with its interval and the reliability bins; with ``temperature``, the ECE after scaling too."""
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = scoring.softmax(logits)
    low, high = ece_interval(probabilities, labels, seed)
    result: dict[str, Any] = {"ece": expected_calibration_error(probabilities, labels), "ece_interval": [low, high],
                              "bins": ECE_BINS, "reliability": reliability(probabilities, labels)}
    if temperature is not None:
        scaled = scoring.softmax(logits / temperature)
        result.update({"temperature": temperature, "ece_after_temperature": expected_calibration_error(scaled, labels),
                       "reliability_after_temperature": reliability(scaled, labels)})
    return result
