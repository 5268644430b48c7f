"""The baseline: what the official Tensorleap IMDB example does on every binder call.

It keeps a table of file paths and, per call, opens the review file, re-reads and
re-tokenises it, and computes metadata from scratch — one file read per sample per
function. Reproduced faithfully here (same tokenizer, same outputs) so that the benchmark
compares like with like and the ratio measures only the per-call work.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from imdb.contract.model_files import WORD_INPUT
from imdb.runtime.text_scoring import lexicon_sentiment
from imdb.text.words import WordVocabulary, words

ACL_ROOT = "aclImdb"


def extract_reviews(tarball: Path, sample_ids: Iterable[str], destination: Path) -> Path:
    """Extract only the given reviews (``train/pos/0_9`` -> ``aclImdb/train/pos/0_9.txt``)."""
    wanted = {f"{ACL_ROOT}/{sample_id}.txt" for sample_id in sample_ids}
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive:
            name = member.name.removeprefix("./")
            if name in wanted:
                target = destination / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.extractfile(member).read())
    return destination / ACL_ROOT


class NaiveIntegration:
    """Per-call file reads and recomputation, as in the official example."""

    def __init__(self, root: Path, vocabulary: WordVocabulary, sequence_length: int,
                 labels: Sequence[str]) -> None:
        self.root = root
        self.vocabulary = vocabulary
        self.sequence_length = sequence_length
        self.labels = labels

    def _read(self, sample_id: str) -> str:
        return (self.root / f"{sample_id}.txt").read_bytes().decode("utf-8", errors="replace")

    def input_tokens(self, sample_id: str) -> np.ndarray:
        return self.vocabulary.encode(words(self._read(sample_id)), self.sequence_length)

    def sentiment(self, sample_id: str) -> np.ndarray:
        one_hot = np.zeros(len(self.labels), dtype=np.float32)
        one_hot[1 if "/pos/" in sample_id else 0] = 1.0
        return one_hot

    def metadata_label(self, sample_id: str) -> str:
        return self.labels[1 if "/pos/" in sample_id else 0]

    def metadata_text(self, sample_id: str) -> dict:
        text = self._read(sample_id)
        document = words(text)
        oov = self.vocabulary.oov_count(document)
        return {"word_count": len(text.split()), "token_count": len(document),
                "truncated": len(document) > self.sequence_length, "empty": not document,
                "oov_count": oov, "oov_ratio": oov / len(document) if document else 0.0}

    def metadata_sentiment_lexicon(self, sample_id: str) -> dict:
        polarity, subjectivity = lexicon_sentiment(self._read(sample_id))
        return {"polarity": polarity, "subjectivity": subjectivity}

    def metadata_review(self, sample_id: str) -> dict:
        return {"rating": int(sample_id.rsplit("_", 1)[1]), "movie_id": ""}

    def functions(self) -> dict:
        return {WORD_INPUT: self.input_tokens, "sentiment": self.sentiment,
                "metadata_label": self.metadata_label, "metadata_text": self.metadata_text,
                "metadata_sentiment_lexicon": self.metadata_sentiment_lexicon,
                "metadata_review": self.metadata_review}
