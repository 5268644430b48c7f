"""N-gram text handling for the n-gram linear family: the n-grams of a review and their encoding.

Why beside ``words``: the n-gram family reads the same standardised words as dense and CNN
(so OOV counts, heatmaps and the report agree on what a word is); it only groups them. Its
input is the set of in-vocabulary n-grams a review contains, in order of first appearance, as
float32 ids padded to a fixed length: a binary bag the linear model sums weights over. The
vocabulary is a ``WordVocabulary`` whose tokens are n-grams ("waste of" is one token), so it
shares the file format, the reserved ids and the errors.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from imdb.contract.model_files import WORD_INPUT
from imdb.text.encoded import Encoded
from imdb.text.words import PAD_ID, RESERVED_TOKENS, WordVocabulary, display_table, tokens_at, words

# Words of an n-gram are joined by one space, as in the standardised text.
SEPARATOR = " "


def ngrams(document: Sequence[str], max_n: int) -> list[str]:
    """Every n-gram of 1..``max_n`` words, position by position (``a``, ``a b``, ``b``, ...)."""
    grams = []
    for start in range(len(document)):
        for n in range(1, max_n + 1):
            if start + n > len(document):
                break
            grams.append(SEPARATOR.join(document[start:start + n]))
    return grams


def distinct(grams: Iterable[str]) -> list[str]:
    """The n-grams in order of first appearance, each once (the model's input is a binary bag)."""
    return list(dict.fromkeys(grams))


def build_vocabulary(documents: Iterable[Sequence[str]], max_n: int, size: int, min_documents: int) -> WordVocabulary:
    """The ``size - 2`` n-grams found in the most documents (at least ``min_documents``); ties
    alphabetical. Document frequency, not labels, picks them: one vocabulary serves every task
    on the same reviews (IMDB sentiment and rating), as the word vocabulary does."""
    counts: Counter[str] = Counter()
    for document in documents:
        counts.update(distinct(ngrams(document, max_n)))
    ranked = sorted((item for item in counts.items() if item[1] >= min_documents), key=lambda item: (-item[1], item[0]))
    return WordVocabulary(RESERVED_TOKENS + tuple(gram for gram, _ in ranked[: size - len(RESERVED_TOKENS)]))


class NgramEncoder:
    """Review text -> ``input_tokens`` for the n-gram model: the ids of its distinct in-vocabulary n-grams.

    The input keeps the word models' name: it is one sequence of token ids, whose tokens are n-grams.
    """

    INPUT_NAME = WORD_INPUT

    def __init__(self, vocabulary: WordVocabulary, max_n: int, length: int) -> None:
        self.vocabulary = vocabulary
        self.max_n = max_n
        self.sequence_length = length
        self.input_names: tuple[str, ...] = (self.INPUT_NAME,)
        self._display = display_table(vocabulary)

    def encode(self, text: str) -> Encoded:
        document = words(text)
        grams = [gram for gram in distinct(ngrams(document, self.max_n)) if gram in self.vocabulary]
        kept = grams[: self.sequence_length]
        encoded = np.full(self.sequence_length, PAD_ID, dtype=np.float32)
        encoded[: len(kept)] = [self.vocabulary.id_of(gram) for gram in kept]
        # token_count counts every in-vocabulary n-gram, so the metadata's `truncated` says when some were cut.
        return Encoded(inputs={self.INPUT_NAME: encoded}, token_count=len(grams),
                       oov_count=self.vocabulary.oov_count(document))

    def display_tokens(self, token_ids: np.ndarray) -> list[str]:
        """One string per input position: the n-gram read there, padding as empty strings."""
        return tokens_at(self._display, token_ids)
