"""Tensorleap visualizer payloads: the review as tokens, word heatmaps, probability bars.

Why separate from the binder: the same payloads are produced locally (integration test,
analysis report) and on the platform, and they must stay aligned with the tokens the model
actually read.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from code_loader.contract.visualizer_classes import LeapHorizontalBar, LeapText

from imdb.runtime.scoring import softmax


def token_heatmap(heatmap: np.ndarray, sequence_length: int) -> np.ndarray:
    """Collapse an input-shaped heatmap to one float32 score per input position.

    The platform hands back a heatmap shaped like the input it explained: ``(L,)`` for token
    ids, or ``(L, D)`` when it explains an embedded input. Extra axes are summed (the
    attribution of a token is the sum over its embedding dimensions), then padded/cut to L.
    """
    values = np.asarray(heatmap, dtype=np.float32)
    if values.ndim == 0:
        values = values.reshape(1)
    if values.shape[0] != sequence_length and values.ndim > 1 and values.shape[-1] == sequence_length:
        values = np.moveaxis(values, -1, 0)
    values = values.reshape(values.shape[0], -1).sum(axis=1)
    out = np.zeros(sequence_length, dtype=np.float32)
    count = min(sequence_length, values.shape[0])
    out[:count] = np.nan_to_num(values[:count])
    return out


def text_payload(tokens: Sequence[str], heatmap: np.ndarray | None = None) -> LeapText:
    """LeapText with one entry per model position; padding positions never carry heat."""
    if heatmap is None:
        return LeapText(data=list(tokens))
    scores = token_heatmap(heatmap, len(tokens))
    scores[[i for i, token in enumerate(tokens) if not token]] = 0.0
    return LeapText(data=list(tokens), heatmap=[float(value) for value in scores])


def probability_bars(logits: np.ndarray, labels: Sequence[str], ground_truth: np.ndarray | None = None) -> LeapHorizontalBar:
    """Predicted probabilities (softmax of the logits) with the one-hot ground truth beside them."""
    probabilities = softmax(np.asarray(logits, dtype=np.float32).reshape(1, -1))[0]
    gt = None if ground_truth is None else np.asarray(ground_truth, dtype=np.float32).reshape(-1)
    return LeapHorizontalBar(body=probabilities.astype(np.float32), labels=list(labels), gt=gt)


def label_bars(one_hot: np.ndarray, labels: Sequence[str]) -> LeapHorizontalBar:
    """The ground-truth label as a one-hot bar chart."""
    return LeapHorizontalBar(body=np.asarray(one_hot, dtype=np.float32).reshape(-1), labels=list(labels))
