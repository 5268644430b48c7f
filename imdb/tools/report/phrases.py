""""The words and phrases that decide": the n-gram model's strongest weights, with their counts.

Why: a linear model is explained by its coefficients (the tweet notebook read ``coef_``); the
heatmaps show one review at a time, this table shows what the model learned overall. A weight
is the n-gram's contribution to the logit contrast towards a class (``ngram_explain.contrast``:
with two classes, positive minus negative logit), added whenever the n-gram is in a review;
the counts are the training reviews of each class that contain it, so a large weight on a rare
n-gram can be told from a large weight on a common one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from imdb.runtime.ngram_explain import NgramWeights, Phrase, deciding_ngrams

TOWARDS = "towards"
AGAINST = "against"


@dataclass(frozen=True)
class PhraseTable:
    """The ``top`` n-grams pushing hardest ``direction`` (towards or against) class ``target``."""

    target: str
    direction: str
    phrases: list[Phrase]


def deciding_phrases(weights: NgramWeights, tokens: Sequence[str], labels: Sequence[str],
                     top: int) -> list[PhraseTable]:
    """Per class, the n-grams towards it; with more than two classes also those against it (with
    two, the n-grams against one class are those towards the other, listed once)."""
    directions = (TOWARDS,) if len(labels) == 2 else (TOWARDS, AGAINST)
    return [PhraseTable(target=label, direction=direction,
                        phrases=deciding_ngrams(weights, tokens, cls, top, towards=direction == TOWARDS))
            for cls, label in enumerate(labels) for direction in directions]


def phrases_json(tables: Sequence[PhraseTable], labels: Sequence[str]) -> list[dict[str, Any]]:
    """The tables as report.json lists them: weights and training-split document counts per class."""
    return [{"class": table.target, "direction": table.direction,
             "ngrams": [{"ngram": phrase.ngram, "weight": phrase.weight, "documents": phrase.documents,
                         "documents_per_class": dict(zip(labels, phrase.documents_per_class))}
                        for phrase in table.phrases]}
            for table in tables]
