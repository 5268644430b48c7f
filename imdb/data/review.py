"""What one review is, and the names of the splits and labels.

Why: every other module (and the integration) agrees on these few names; keeping them in one
place prevents "train" vs "training" mix-ups between the official split and the exposed ones.
"""

from __future__ import annotations

from dataclasses import dataclass

# Official aclImdb split directories, in the order the index sorts them.
OFFICIAL_TRAIN = "train"
OFFICIAL_TEST = "test"
OFFICIAL_SPLITS = (OFFICIAL_TRAIN, OFFICIAL_TEST)

# Label directories; a directory's position in this tuple is the integer label.
LABEL_DIRS = ("neg", "pos")
LABEL_NAMES = ("negative", "positive")
NEGATIVE = 0
POSITIVE = 1

# Splits a Corpus exposes.
TRAINING = "training"
VALIDATION = "validation"
TEST = "test"


@dataclass(frozen=True)
class Review:
    """One labelled review, exactly as the source holds it (text is not cleaned)."""

    sample_id: str
    split: str
    label: int
    rating: int
    movie_id: str
    text: str
