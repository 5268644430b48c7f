"""Which words characterise a group of reviews against the rest (clusters, flipped samples).

Method: the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn,
2008, "Fightin' Words"), ranked by its z-score. Plain frequency ranks "the" and "movie"
first in every group, and plain log-odds ranks words seen twice; the prior (the corpus-wide
counts) shrinks rare words and the z-score rewards words that are both frequent and
over-represented. Words are the word models' standardised words (``imdb.text.words``), so
the same vocabulary describes clusters of every family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import sparse

from imdb.text.words import words

# Words in fewer reviews than this are noise for a group description.
MIN_DOCUMENT_FREQUENCY = 5
# Prior pseudo-counts: this fraction of each word's corpus-wide count.
PRIOR_FRACTION = 0.1
DEFAULT_TOP_WORDS = 8


@dataclass(frozen=True)
class TermCounts:
    """Word counts per review (sparse, reviews x words) and the words themselves."""

    matrix: sparse.csr_matrix
    vocabulary: np.ndarray

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> "TermCounts":
        """Counts of the standardised words kept in at least ``MIN_DOCUMENT_FREQUENCY`` reviews."""
        from sklearn.feature_extraction.text import CountVectorizer

        min_df = MIN_DOCUMENT_FREQUENCY if len(texts) > MIN_DOCUMENT_FREQUENCY else 1
        vectorizer = CountVectorizer(analyzer=words, min_df=min_df, dtype=np.int32)
        try:
            matrix = vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # no review holds a word kept by min_df (tiny or empty inputs)
            return cls(sparse.csr_matrix((len(texts), 0), dtype=np.int32), np.array([], dtype=object))
        return cls(matrix, vectorizer.get_feature_names_out())


def distinctive_words(counts: TermCounts, in_group: np.ndarray, top: int = DEFAULT_TOP_WORDS) -> list[tuple[str, float]]:
    """The ``top`` words most over-represented in the reviews where ``in_group`` is True, with z-scores."""
    in_group = np.asarray(in_group, dtype=bool)
    if not in_group.any() or in_group.all() or counts.matrix.shape[1] == 0:
        return []
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    group = np.asarray(counts.matrix[in_group].sum(axis=0)).ravel().astype(np.float64)
    rest = np.asarray(counts.matrix[~in_group].sum(axis=0)).ravel().astype(np.float64)
    prior = PRIOR_FRACTION * (group + rest)
    z = log_odds_z(group, rest, prior)
    ranked = [index for index in np.argsort(-z) if counts.vocabulary[index] not in ENGLISH_STOP_WORDS]
    return [(str(counts.vocabulary[index]), float(z[index])) for index in ranked[:top]]


def log_odds_z(group: np.ndarray, rest: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """z-scores of the log-odds ratio of each word in ``group`` vs ``rest`` under a Dirichlet prior."""
    prior_total = prior.sum()
    group_total, rest_total = group.sum(), rest.sum()
    log_odds_group = np.log(group + prior) - np.log(group_total + prior_total - group - prior)
    log_odds_rest = np.log(rest + prior) - np.log(rest_total + prior_total - rest - prior)
    variance = 1.0 / (group + prior) + 1.0 / (rest + prior)
    return (log_odds_group - log_odds_rest) / np.sqrt(variance)
