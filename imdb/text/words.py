"""Word-level text handling for the dense and CNN models: standardisation, vocabulary, encoding.

Why one module: the training pipeline, the Tensorleap encoders, the metadata (OOV counts)
and the visualizers must see *exactly* the same words, or heatmaps drift off the tokens the
model actually read. Standardisation follows the seeds' preprocessing: lowercase, drop
``<br />`` and other HTML residue, drop punctuation.
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from imdb.contract.files import atomic_write_text
from imdb.contract.model_files import WORD_INPUT
from imdb.text.encoded import Encoded
from imdb.text.plain import strip_tags

PAD_ID = 0
OOV_ID = 1
PAD_TOKEN = "[PAD]"
OOV_TOKEN = "[UNK]"
RESERVED_TOKENS = (PAD_TOKEN, OOV_TOKEN)

_APOSTROPHE = re.compile(r"['\u2019]")
# Anything that is not a letter or digit separates words (punctuation, emoji, control chars).
_NON_WORD = re.compile(r"[\W_]+")
# A score the reviewer states ("7/10", "7 out of 10", "8.5/10", "3/5"): a number, then a scale of 4, 5 or 10.
_SCORE = re.compile(r"(?<![\w/])(?<!\d\.)(\d{1,2}(?:\.\d)?)\s*(?:/|out of)\s*(10|5|4)(?![\w/]|\.\d)")


def standardize(text: str, *, keep_scores: bool = False) -> str:
    """Lowercase, unescape entities, drop tags and punctuation; words joined by single spaces.

    Apostrophes are removed rather than split on, so "don't" stays one word ("dont"), as in
    the seeds' Keras ``TextVectorization`` recipe. ``keep_scores`` keeps a stated score as one
    word ("7 out of 10" reads ``7/10``): split into "7" and "10", a bag of words cannot tell
    a 7/10 from a 10/7 or the "10" of a 3/10 from the one of a 10/10.
    """
    text = _APOSTROPHE.sub("", strip_tags(html.unescape(text.lower())))
    if not keep_scores:
        return _NON_WORD.sub(" ", text).strip()
    pieces, start = [], 0
    for score in _SCORE.finditer(text):
        pieces += [_NON_WORD.sub(" ", text[start:score.start()]), f"{score.group(1)}/{score.group(2)}"]
        start = score.end()
    pieces.append(_NON_WORD.sub(" ", text[start:]))
    return " ".join(" ".join(pieces).split())


def words(text: str, *, keep_scores: bool = False) -> list[str]:
    """The standardised words of a review, in order (see ``standardize``)."""
    cleaned = standardize(text, keep_scores=keep_scores)
    return cleaned.split(" ") if cleaned else []


class VocabularyError(ValueError):
    """The vocabulary file is missing, malformed, or does not match the model."""


@dataclass(frozen=True)
class WordVocabulary:
    """Word <-> id mapping; id 0 is padding, id 1 is out-of-vocabulary."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {token: i for i, token in enumerate(self.tokens)})

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index  # type: ignore[attr-defined]

    @classmethod
    def build(cls, documents: Iterable[Sequence[str]], size: int) -> "WordVocabulary":
        """The ``size - 2`` most frequent words; ties broken alphabetically for determinism."""
        counts: Counter[str] = Counter()
        for document in documents:
            counts.update(document)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = [word for word, _ in ranked[: size - len(RESERVED_TOKENS)]]
        return cls(RESERVED_TOKENS + tuple(kept))

    @classmethod
    def load(cls, path: str | os.PathLike, family: str = "dense") -> "WordVocabulary":
        """``family`` names the model whose training writes this file (for the error's advice)."""
        path = Path(path)
        try:
            tokens = tuple(path.read_text(encoding="utf-8").split("\n"))
        except FileNotFoundError as exc:
            raise VocabularyError(
                f"vocabulary file {path} not found: train a {family} model first (imdb-leap train --model {family})"
            ) from exc
        if tokens and tokens[-1] == "":
            tokens = tokens[:-1]
        if tokens[: len(RESERVED_TOKENS)] != RESERVED_TOKENS or len(set(tokens)) != len(tokens):
            raise VocabularyError(
                f"vocabulary file {path} is malformed: it must start with {RESERVED_TOKENS} and hold unique words"
            )
        return cls(tokens)

    def save(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, "\n".join(self.tokens) + "\n")

    def id_of(self, word: str) -> int:
        return self._index.get(word, OOV_ID)  # type: ignore[attr-defined]

    def ids(self, document: Sequence[str]) -> list[int]:
        return [self.id_of(word) for word in document]

    def oov_count(self, document: Sequence[str]) -> int:
        return sum(1 for word in document if word not in self._index)  # type: ignore[attr-defined]

    def encode(self, document: Sequence[str], length: int) -> np.ndarray:
        """Float32 ids, truncated or zero-padded to ``length`` (the model casts them back)."""
        encoded = np.zeros(length, dtype=np.float32)
        ids = self.ids(document[:length])
        encoded[: len(ids)] = ids
        return encoded


class WordEncoder:
    """Review text -> ``input_tokens`` for the dense and CNN models."""

    INPUT_NAME = WORD_INPUT

    def __init__(self, vocabulary: WordVocabulary, sequence_length: int, *, keep_scores: bool = False) -> None:
        self.vocabulary = vocabulary
        self.sequence_length = sequence_length
        self.keep_scores = keep_scores
        self.input_names: tuple[str, ...] = (self.INPUT_NAME,)
        # Lookup table for the visualizer: padding shows as an empty string.
        self._display = display_table(vocabulary)

    def encode(self, text: str) -> Encoded:
        document = words(text, keep_scores=self.keep_scores)
        return Encoded(
            inputs={self.INPUT_NAME: self.vocabulary.encode(document, self.sequence_length)},
            token_count=len(document),
            oov_count=self.vocabulary.oov_count(document),
        )

    def display_tokens(self, token_ids: np.ndarray) -> list[str]:
        """One string per input position, as the model saw it: OOV words read ``[UNK]`` and
        padding positions are empty strings (LeapText's convention for fixed-length inputs)."""
        return tokens_at(self._display, token_ids)


def display_table(vocabulary: WordVocabulary) -> np.ndarray:
    """Id -> the string the dashboard shows: the vocabulary's tokens, padding (id 0) as ``""``."""
    return np.array(("",) + tuple(vocabulary.tokens[1:]), dtype=object)


def tokens_at(display: np.ndarray, token_ids: np.ndarray) -> list[str]:
    """One string per input position from ``display``; an id outside it reads as padding, so a
    corrupt or foreign id never raises inside a visualizer."""
    ids = np.asarray(token_ids).reshape(-1).astype(np.int64)
    ids[(ids < 0) | (ids >= len(display))] = PAD_ID
    return display[ids].tolist()
