"""Scores that depend on a review's text alone: TextBlob sentiment and 14 readability indices.

Why these and why here: they are the official Tensorleap IMDB example's metadata (polarity,
subjectivity and the readability indices of ``textstat``, under textstat's own function
names), so a user moving from that example keeps every slice. They cost ~1 ms (TextBlob) and
~10 ms (textstat) a review, so they are computed once per corpus (``imdb.runtime.text_scores``),
in worker processes that run this module as a script (``python -m imdb.runtime.text_scoring``):
a fresh interpreter never re-imports the caller's ``__main__`` (the entry file, a test), which
``multiprocessing``'s spawn and forkserver would.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Sequence

from imdb.text.plain import plain_text

LEXICON_SCORES = ("polarity", "subjectivity")
# textstat function names, as the official example registers them (alphabetical).
READABILITY_FUNCTIONS = (
    "automated_readability_index", "coleman_liau_index", "crawford", "dale_chall_readability_score",
    "difficult_words", "fernandez_huerta", "flesch_kincaid_grade", "flesch_reading_ease", "gulpease_index",
    "gunning_fog", "gutierrez_polini", "linsear_write_formula", "osman", "szigriszt_pazos",
)
# Integer-valued indices (counts), typed as such for the dashboard.
INTEGER_READABILITY = frozenset({"difficult_words"})
SCORE_NAMES = LEXICON_SCORES + READABILITY_FUNCTIONS
# Value of every score for a review with no word in it: textstat's own value for an empty text.
NO_WORDS_SCORE = 0.0
_WORD = re.compile(r"\w")


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))


def _finite(value: float) -> float:
    """The platform rejects NaN and infinities; textstat divides by word counts."""
    value = float(value)
    return value if math.isfinite(value) else NO_WORDS_SCORE


def lexicon_sentiment(text: str) -> tuple[float, float]:
    """TextBlob (pattern lexicon) polarity in [-1, 1] and subjectivity in [0, 1] of the plain text."""
    from textblob import TextBlob

    cleaned = plain_text(text)
    if not has_words(cleaned):
        return NO_WORDS_SCORE, NO_WORDS_SCORE
    sentiment = TextBlob(cleaned).sentiment
    return _finite(sentiment.polarity), _finite(sentiment.subjectivity)


def readability(text: str) -> tuple[float, ...]:
    """The ``READABILITY_FUNCTIONS`` of textstat on the plain text (all 0 for a wordless review)."""
    import textstat

    cleaned = plain_text(text)
    if not has_words(cleaned):
        return (NO_WORDS_SCORE,) * len(READABILITY_FUNCTIONS)
    return tuple(_finite(getattr(textstat, name)(cleaned)) for name in READABILITY_FUNCTIONS)


def score_text(text: str) -> tuple[float, ...]:
    """``SCORE_NAMES`` for one review: lexicon sentiment then readability."""
    return (*lexicon_sentiment(text), *readability(text))


def score_texts(texts: Sequence[str]) -> list[tuple[float, ...]]:
    return [score_text(text) for text in texts]


def main(argv: Sequence[str]) -> int:
    """Worker: read a JSON list of texts from ``argv[0]``, write their score rows to ``argv[1]``."""
    source, target = Path(argv[0]), Path(argv[1])
    texts = json.loads(source.read_text(encoding="utf-8"))
    target.write_text(json.dumps(score_texts(texts)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
