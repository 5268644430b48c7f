"""Scores that depend on a review's text alone: TextBlob sentiment and 14 readability indices.

Why these and why here: they are the official Tensorleap IMDB example's metadata (polarity,
subjectivity and the readability indices of ``textstat``, under textstat's own function
names), so a user moving from that example keeps every slice. They cost ~1 ms a review each
(TextBlob; textstat's indices through ``imdb.runtime.readability``, which gives textstat's values
~5× faster than calling textstat per review), so they are computed once per corpus (``imdb.runtime.text_scores``),
in worker processes that run this module as a script (``python -m imdb.runtime.text_scoring``):
a fresh interpreter never re-imports the caller's ``__main__`` (the entry file, a test), which
``multiprocessing``'s spawn and forkserver would.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from imdb.text.plain import plain_text

if TYPE_CHECKING:
    from imdb.runtime.readability import ReadabilityScorer

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
# A worker reports its progress every this many reviews.
PROGRESS_EVERY = 32


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))


def _finite(value: float) -> float:
    """The platform rejects NaN and infinities; textstat divides by word counts."""
    value = float(value)
    return value if math.isfinite(value) else NO_WORDS_SCORE


def lexicon_sentiment(text: str) -> tuple[float, float]:
    """TextBlob (pattern lexicon) polarity in [-1, 1] and subjectivity in [0, 1] of the plain text.

    ``TextBlob(text).sentiment`` is its default analyser's ``analyze(text)``, which returns the
    pattern lexicon's ``textblob.en.sentiment(text)`` in a namedtuple class it builds per call;
    calling the lexicon directly gives the same two numbers a quarter faster, and calling its
    loaded copy with a memoised tokenizer (``imdb.runtime.pattern_sentiment``) faster again."""
    from imdb.runtime.pattern_sentiment import pattern_sentiment

    cleaned = plain_text(text)
    if not has_words(cleaned):
        return NO_WORDS_SCORE, NO_WORDS_SCORE
    polarity, subjectivity = pattern_sentiment()(cleaned)
    return _finite(polarity), _finite(subjectivity)


@functools.cache
def _readability_scorer() -> ReadabilityScorer:
    """One per process: its word memos are what makes a corpus cheap."""
    from imdb.runtime.readability import ReadabilityScorer

    return ReadabilityScorer()


def readability(text: str) -> tuple[float, ...]:
    """The ``READABILITY_FUNCTIONS`` of textstat on the plain text (all 0 for a wordless review)."""
    cleaned = plain_text(text)
    if not has_words(cleaned):
        return (NO_WORDS_SCORE,) * len(READABILITY_FUNCTIONS)
    scores = _readability_scorer().scores(cleaned)
    return tuple(_finite(scores[name]) for name in READABILITY_FUNCTIONS)


def score_text(text: str) -> tuple[float, ...]:
    """``SCORE_NAMES`` for one review: lexicon sentiment then readability."""
    return (*lexicon_sentiment(text), *readability(text))


def score_texts(texts: Sequence[str]) -> list[tuple[float, ...]]:
    return [score_text(text) for text in texts]


def _bare_textblob_package() -> None:
    """Register ``textblob`` without running its ``__init__``, so ``textblob.en`` loads alone.

    Why, and only in a worker: the package's ``__init__`` imports TextBlob's blob classes and with
    them NLTK and SciPy, 3 s of a worker's 4.7 s start, paid by every worker of every batch; the
    pattern lexicon (``textblob.en``, ``textblob._text``) needs none of it. A worker imports nothing
    else of TextBlob; a process that may use ``textblob.TextBlob`` must not call this."""
    if "textblob" in sys.modules:
        return
    spec = importlib.util.find_spec("textblob")
    if spec is not None and spec.submodule_search_locations is not None:
        sys.modules["textblob"] = importlib.util.module_from_spec(spec)


def main(argv: Sequence[str]) -> int:
    """Worker: read a JSON list of texts from ``argv[0]``, write their score rows to ``argv[1]``;
    on stdout, the number of reviews scored since the last line, every ``PROGRESS_EVERY``."""
    _bare_textblob_package()
    source, target = Path(argv[0]), Path(argv[1])
    texts = json.loads(source.read_text(encoding="utf-8"))
    rows = []
    for text in texts:
        rows.append(score_text(text))
        if len(rows) % PROGRESS_EVERY == 0:
            print(PROGRESS_EVERY, flush=True)
    target.write_text(json.dumps(rows), encoding="utf-8")
    print(len(rows) % PROGRESS_EVERY, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
