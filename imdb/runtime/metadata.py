"""Per-sample metadata: the fields the seeds' analysis and the official example set against loss.

Why two parts: the text-only scores (TextBlob sentiment, textstat readability) are expensive
and depend only on the text, so they are computed once per corpus and shared between
processes (``imdb.runtime.text_scores``); the cheap token-dependent part (counts, OOV,
truncation) depends on the model's tokenizer and is memoised in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from imdb.contract.names import UNLABELED_CLASS, UNLABELED_NAME
from imdb.runtime.text_scores import TextScores
from imdb.runtime.text_scoring import LEXICON_SCORES, READABILITY_FUNCTIONS


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
    # textstat function name -> value, in READABILITY_FUNCTIONS order.
    readability: dict[str, float]


class MetadataStore:
    """Metadata for one corpus and one tokenizer, computed once per sample.

    ``encode`` is the pipeline's memoised tokenisation, so a review is tokenised once whether
    the model input or the metadata asks first. ``batch_of`` names the reviews scored together
    when a review's text scores are missing (the pipeline's next served ids of its split), so
    they are computed in parallel batches rather than one review at a time.
    """

    def __init__(self, encode: Callable[[str], _Encoded], sequence_length: int, labels: tuple[str, ...],
                 text_scores: TextScores, batch_of: Callable[[_Review], Sequence[_Review]]) -> None:
        self.encode = encode
        self.sequence_length = sequence_length
        self.labels = labels
        self.text_scores = text_scores
        self.batch_of = batch_of
        self._memo: dict[str, SampleMetadata] = {}

    def get(self, review: _Review) -> SampleMetadata:
        cached = self._memo.get(review.sample_id)
        if cached is None:
            cached = self._compute(review)
            self._memo[review.sample_id] = cached
        return cached

    def precompute(self, reviews: Sequence[_Review], *, progress: bool = True, workers: int | None = None) -> None:
        """Score every review's text (in parallel), then build every review's metadata."""
        self.text_scores.ensure(reviews, progress=progress, workers=workers)
        for review in reviews:
            self.get(review)

    def _scores(self, review: _Review) -> tuple[float, ...]:
        if review.sample_id not in self.text_scores:
            self.text_scores.ensure([review, *self.batch_of(review)], progress=False)
        return self.text_scores[review.sample_id]

    def label_name(self, label: int) -> str:
        """The class's name; ``unlabeled`` for an unlabelled review (whose rating is IMDB's 0)."""
        return UNLABELED_NAME if label == UNLABELED_CLASS else self.labels[label]

    def _compute(self, review: _Review) -> SampleMetadata:
        encoded = self.encode(review.sample_id)
        scores = self._scores(review)
        lexicon = dict(zip(LEXICON_SCORES, scores))
        readability = dict(zip(READABILITY_FUNCTIONS, scores[len(LEXICON_SCORES):]))
        return SampleMetadata(
            label=self.label_name(review.label),
            word_count=len(review.text.split()),
            token_count=encoded.token_count,
            truncated=encoded.token_count > self.sequence_length,
            empty=encoded.content_tokens == 0,
            oov_count=encoded.oov_count,
            oov_ratio=encoded.oov_count / encoded.content_tokens if encoded.content_tokens else 0.0,
            polarity=lexicon["polarity"],
            subjectivity=lexicon["subjectivity"],
            rating=review.rating,
            movie_id=review.movie_id,
            readability=readability,
        )
