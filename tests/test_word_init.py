"""Word embeddings started from the BERT checkpoint's WordPiece table (``embedding_init``),
read from the real checkpoint in ../shared."""

from __future__ import annotations

import numpy as np
import pytest

from pathlib import Path

from imdb.contract.config import Config, load_config
from imdb.training.word_init import INITIAL_STD, checkpoint_word_vectors
from imdb.text.words import RESERVED_TOKENS, WordVocabulary

WORDS = ("excellent", "superb", "wonderful", "terrible", "awful", "kitchen", "tuesday", "screenplay")
DIM = 4


def shared_config(checkpoint: Path) -> Config:
    """The file's settings alone, with the real checkpoint (the default is hf://, never fetched here)."""
    return load_config(environ={}, **{"bert.checkpoint": str(checkpoint)})


@pytest.fixture(scope="module")
def vectors(bert_checkpoint: Path) -> tuple[WordVocabulary, np.ndarray]:
    vocabulary = WordVocabulary(RESERVED_TOKENS + WORDS)
    return vocabulary, checkpoint_word_vectors(vocabulary, shared_config(bert_checkpoint), DIM)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_shape_scale_and_reserved_rows(vectors: tuple[WordVocabulary, np.ndarray]) -> None:
    vocabulary, table = vectors
    assert table.shape == (len(vocabulary), DIM) and table.dtype == np.float32
    assert not table[: len(RESERVED_TOKENS)].any(), "padding and [UNK] start at zero"
    assert np.std(table[len(RESERVED_TOKENS):]) == pytest.approx(INITIAL_STD, rel=1e-3)


def test_related_words_start_closer_than_unrelated_ones(bert_checkpoint: Path) -> None:
    vocabulary = WordVocabulary(RESERVED_TOKENS + WORDS)
    table = checkpoint_word_vectors(vocabulary, shared_config(bert_checkpoint), len(WORDS))
    row = {word: table[vocabulary.id_of(word)] for word in WORDS}
    assert cosine(row["excellent"], row["superb"]) > cosine(row["excellent"], row["kitchen"])
    assert cosine(row["terrible"], row["awful"]) > cosine(row["terrible"], row["tuesday"])


def test_too_wide_an_embedding_is_refused_naming_the_checkpoint(bert_checkpoint: Path) -> None:
    config = shared_config(bert_checkpoint)
    with pytest.raises(ValueError, match="wider than the checkpoint"):
        checkpoint_word_vectors(WordVocabulary(RESERVED_TOKENS + WORDS), config, 10_000)
