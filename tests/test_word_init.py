"""Word embeddings started from the BERT checkpoint's WordPiece table (``embedding_init``),
read from the real checkpoint in ../shared."""

from __future__ import annotations

import numpy as np
import pytest

from imdb.contract.config import load_config
from imdb.training.word_init import INITIAL_STD, checkpoint_word_vectors
from imdb.text.words import RESERVED_TOKENS, WordVocabulary

WORDS = ("excellent", "superb", "wonderful", "terrible", "awful", "kitchen", "tuesday", "screenplay")
DIM = 4


@pytest.fixture(scope="module")
def vectors() -> tuple[WordVocabulary, np.ndarray]:
    vocabulary = WordVocabulary(RESERVED_TOKENS + WORDS)
    return vocabulary, checkpoint_word_vectors(vocabulary, load_config(environ={}), DIM)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_shape_scale_and_reserved_rows(vectors: tuple[WordVocabulary, np.ndarray]) -> None:
    vocabulary, table = vectors
    assert table.shape == (len(vocabulary), DIM) and table.dtype == np.float32
    assert not table[: len(RESERVED_TOKENS)].any(), "padding and [UNK] start at zero"
    assert np.std(table[len(RESERVED_TOKENS):]) == pytest.approx(INITIAL_STD, rel=1e-3)


def test_related_words_start_closer_than_unrelated_ones() -> None:
    vocabulary = WordVocabulary(RESERVED_TOKENS + WORDS)
    table = checkpoint_word_vectors(vocabulary, load_config(environ={}), len(WORDS))
    row = {word: table[vocabulary.id_of(word)] for word in WORDS}
    assert cosine(row["excellent"], row["superb"]) > cosine(row["excellent"], row["kitchen"])
    assert cosine(row["terrible"], row["awful"]) > cosine(row["terrible"], row["tuesday"])


def test_too_wide_an_embedding_is_refused_naming_the_checkpoint() -> None:
    config = load_config(environ={})
    with pytest.raises(ValueError, match="wider than the checkpoint"):
        checkpoint_word_vectors(WordVocabulary(RESERVED_TOKENS + WORDS), config, 10_000)
