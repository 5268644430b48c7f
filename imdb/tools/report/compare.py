"""Model vs model on the same samples: accuracy of each, which predictions flip, and how each
fares on reviews with the seeds' cue words ("but", "not", "waste of").

Why cue words: a bag-of-words model cannot see that "not good" is negative or that the
clause after "but" carries the verdict; a model that reads word order can. Counting how the
two models do on reviews containing each cue, from the run's own predictions, tests that
story instead of repeating it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from imdb.tools.report.samples import Predictions
from imdb.text.words import standardize

# The seeds' contrast words, as standardised word sequences (imdb.text.standardize).
CUE_PHRASES = ("but", "not", "waste of")


@dataclass(frozen=True)
class CueRow:
    """Reviews containing one cue phrase: how many, each model's accuracy, and the flips."""

    phrase: str
    count: int
    accuracy_a: float
    accuracy_b: float
    b_right_a_wrong: int
    a_right_b_wrong: int


@dataclass(frozen=True)
class Comparison:
    """Agreement of two models on the same samples, the flips ranked, and the cue table."""

    name_a: str
    name_b: str
    agreement: float
    accuracy_a: float
    accuracy_b: float
    b_right_a_wrong: np.ndarray
    a_right_b_wrong: np.ndarray
    ranked_flips: np.ndarray
    cues: list[CueRow]


def compare(name_a: str, a: Predictions, name_b: str, b: Predictions, labels: np.ndarray,
            texts: Sequence[str]) -> Comparison:
    """Flips are samples one model gets right and the other wrong, ranked by how far the
    probability of the true label moved between the models."""
    rows = np.arange(len(labels))
    b_right_a_wrong = ~a.correct & b.correct
    a_right_b_wrong = a.correct & ~b.correct
    shift = np.abs(b.probabilities[rows, labels] - a.probabilities[rows, labels])
    flips = np.flatnonzero(b_right_a_wrong | a_right_b_wrong)
    return Comparison(
        name_a=name_a, name_b=name_b,
        agreement=float((a.predicted == b.predicted).mean()),
        accuracy_a=float(a.correct.mean()), accuracy_b=float(b.correct.mean()),
        b_right_a_wrong=b_right_a_wrong, a_right_b_wrong=a_right_b_wrong,
        ranked_flips=flips[np.argsort(-shift[flips], kind="stable")],
        cues=cue_rows(a, b, texts),
    )


def cue_rows(a: Predictions, b: Predictions, texts: Sequence[str]) -> list[CueRow]:
    """Per cue phrase, matched as whole words in the standardised text (so "not" never matches "nothing")."""
    padded = [f" {standardize(text)} " for text in texts]
    rows = []
    for phrase in CUE_PHRASES:
        has = np.array([f" {phrase} " in text for text in padded], dtype=bool)
        rows.append(CueRow(
            phrase=phrase, count=int(has.sum()),
            accuracy_a=float(a.correct[has].mean()) if has.any() else float("nan"),
            accuracy_b=float(b.correct[has].mean()) if has.any() else float("nan"),
            b_right_a_wrong=int((has & ~a.correct & b.correct).sum()),
            a_right_b_wrong=int((has & a.correct & ~b.correct).sum()),
        ))
    return rows
