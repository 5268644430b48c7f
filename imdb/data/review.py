"""What one review is, and the names of the official aclImdb directories.

Why: the official split directories (``train``/``test``) differ from the splits a corpus
exposes (``training``/``validation``/``test``, in ``imdb.contract.names``); naming both in
their one place each prevents "train" vs "training" mix-ups.
"""

from __future__ import annotations

from dataclasses import dataclass

from imdb.contract.names import UNLABELED

# Official aclImdb split directories, in the order the index sorts them.
OFFICIAL_TRAIN = "train"
OFFICIAL_TEST = "test"
OFFICIAL_SPLITS = (OFFICIAL_TRAIN, OFFICIAL_TEST)
# A table's split column may name validation rows itself (then no split is computed).
OFFICIAL_VALIDATION = "validation"
# The index's split of the unlabelled reviews (``train/unsup/``): outside official train, so the
# validation split, computed over official train alone, never sees them.
INDEX_SPLITS = (*OFFICIAL_SPLITS, OFFICIAL_VALIDATION, UNLABELED)

# Label directories; a directory's position in this tuple is the integer label.
LABEL_DIRS = ("neg", "pos")
# The directory of the unlabelled reviews (rating 0 in their names); only official train has one.
UNSUP_DIR = "unsup"


@dataclass(frozen=True)
class Review:
    """One review, exactly as the source holds it (text is not cleaned).

    ``label`` is the position of its class in the corpus's class names, ``UNLABELED_CLASS`` for
    an unlabelled review (``split`` is then ``unlabeled``); ``rating`` is IMDB's star rating (0
    for a table and for an unlabelled review); ``movie_id`` is the group (IMDB's movie, or a
    table's group column) that the validation split keeps on one side.
    """

    sample_id: str
    split: str
    label: int
    rating: int
    movie_id: str
    text: str
