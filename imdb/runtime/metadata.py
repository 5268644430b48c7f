"""Per-sample metadata: the fields the seeds' analysis sets against loss.

Why cached: Tensorleap calls every metadata function once per sample, over and over, in
several processes. The expensive part (TextBlob sentiment, ~1 ms a review) depends only on
the text, so it is computed once per corpus and persisted atomically under the data root;
the cheap token-dependent part depends on the model's tokenizer and is memoised in memory.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from tqdm.auto import tqdm

from imdb.data.cache import cache_file
from imdb.text.plain import plain_text

LOG = logging.getLogger(__name__)
# Bump when the scores' computation changes, so old cache files are not reused.
SENTIMENT_CACHE_VERSION = 1


class _Review(Protocol):
    sample_id: str
    label: int
    rating: int
    movie_id: str
    text: str


class _Encoded(Protocol):
    token_count: int
    oov_count: int
    content_tokens: int


@dataclass(frozen=True)
class SampleMetadata:
    """Everything the dashboard and the report slice by, for one review."""

    label: str
    word_count: int
    token_count: int
    truncated: bool
    empty: bool
    oov_count: int
    oov_ratio: float
    polarity: float
    subjectivity: float
    rating: int
    movie_id: str


def lexicon_sentiment(text: str) -> tuple[float, float]:
    """TextBlob (pattern lexicon) polarity in [-1, 1] and subjectivity in [0, 1]."""
    from textblob import TextBlob

    cleaned = plain_text(text)
    if not cleaned:
        return 0.0, 0.0
    sentiment = TextBlob(cleaned).sentiment
    return float(sentiment.polarity), float(sentiment.subjectivity)


class SentimentCache:
    """TextBlob scores per sample id, filled on demand and persisted as one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._scores: dict[str, tuple[float, float]] = self._read()
        self._dirty = False

    def _read(self) -> dict[str, tuple[float, float]]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {key: (float(pair[0]), float(pair[1])) for key, pair in raw.items()}
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
            LOG.warning("sentiment cache %s is corrupt (%s); recomputing it", self.path, exc)
            return {}

    def get(self, review: _Review) -> tuple[float, float]:
        scores = self._scores.get(review.sample_id)
        if scores is None:
            scores = lexicon_sentiment(review.text)
            self._scores[review.sample_id] = scores
            self._dirty = True
        return scores

    def fill(self, reviews: list[_Review], *, progress: bool = True) -> None:
        """Score every review not yet cached, then persist once."""
        missing = [review for review in reviews if review.sample_id not in self._scores]
        for review in tqdm(missing, desc="TextBlob sentiment", unit="review", disable=not progress or not missing):
            self.get(review)
        self.save()

    def save(self) -> None:
        """Written like every other cache entry: locked temp file, fsync, rename; a full or
        read-only disk becomes a CacheWriteError naming the file."""
        if self._dirty:
            with cache_file(self.path) as temp:
                temp.write_text(json.dumps(self._scores, separators=(",", ":")), encoding="utf-8")
            self._dirty = False


def sentiment_cache_name(content_key: str) -> str:
    """File name of a corpus's sentiment cache: the corpus's content key and the cache version."""
    return f"sentiment-v{SENTIMENT_CACHE_VERSION}-{content_key}.json"


class MetadataStore:
    """Metadata for one corpus and one tokenizer, computed once per sample.

    ``encode`` is the pipeline's memoised tokenisation, so a review is tokenised once whether
    the model input or the metadata asks first.
    """

    def __init__(self, encode: Callable[[str], _Encoded], sequence_length: int, labels: tuple[str, ...],
                 sentiment: SentimentCache) -> None:
        self.encode = encode
        self.sequence_length = sequence_length
        self.labels = labels
        self.sentiment = sentiment
        self._memo: dict[str, SampleMetadata] = {}

    def get(self, review: _Review) -> SampleMetadata:
        cached = self._memo.get(review.sample_id)
        if cached is None:
            cached = self._compute(review)
            self._memo[review.sample_id] = cached
        return cached

    def precompute(self, reviews: list[_Review], *, progress: bool = True) -> None:
        self.sentiment.fill(reviews, progress=progress)
        for review in tqdm(reviews, desc="metadata", unit="review", disable=not progress):
            self.get(review)

    def _compute(self, review: _Review) -> SampleMetadata:
        encoded = self.encode(review.sample_id)
        polarity, subjectivity = self.sentiment.get(review)
        return SampleMetadata(
            label=self.labels[review.label],
            word_count=len(review.text.split()),
            token_count=encoded.token_count,
            truncated=encoded.token_count > self.sequence_length,
            empty=encoded.content_tokens == 0,
            oov_count=encoded.oov_count,
            oov_ratio=encoded.oov_count / encoded.content_tokens if encoded.content_tokens else 0.0,
            polarity=polarity,
            subjectivity=subjectivity,
            rating=review.rating,
            movie_id=review.movie_id,
        )
