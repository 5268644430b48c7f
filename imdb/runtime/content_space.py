"""The content space: a model-independent embedding of each review (TF-IDF, then truncated SVD).

Why: the model's latent space shows how the model groups reviews; a user also needs to see
where its errors sit among the *topics* of the reviews, whatever the model. The projection is
fitted once on the training split (``imdb.training.content_space``) and shipped as a small
asset (``imdb/assets/content_space.npz``: vocabulary, IDF weights, SVD components); serving it
needs only NumPy and the word standardiser, so the platform computes it per sample.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imdb.contract.config import PACKAGE_DIR
from imdb.text.words import words

CONTENT_SPACE_FILE = PACKAGE_DIR / "assets" / "content_space.npz"
VOCABULARY_KEY = "vocabulary"
IDF_KEY = "idf"
COMPONENTS_KEY = "components"


class ContentSpaceError(ValueError):
    """The content-space asset is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class ContentSpace:
    """TF-IDF (sublinear term frequency, L2-normalised, as scikit-learn's ``TfidfVectorizer``) of the
    standardised words, projected on the SVD components: one float32 vector per review."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    components: np.ndarray

    @property
    def dimensions(self) -> int:
        return int(self.components.shape[0])

    @classmethod
    def load(cls, path: str | Path = CONTENT_SPACE_FILE) -> "ContentSpace":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as arrays:
                tokens = [str(token) for token in arrays[VOCABULARY_KEY]]
                idf = arrays[IDF_KEY].astype(np.float32)
                components = arrays[COMPONENTS_KEY].astype(np.float32)
        except FileNotFoundError as exc:
            raise ContentSpaceError(f"content-space asset {path} not found: build it with "
                                    "`imdb-leap content-space` (fitted on the training split)") from exc
        except (OSError, KeyError, ValueError) as exc:
            raise ContentSpaceError(f"content-space asset {path} is malformed ({exc}): rebuild it with "
                                    "`imdb-leap content-space`") from exc
        if components.shape[1] != len(tokens) or idf.shape != (len(tokens),):
            raise ContentSpaceError(f"content-space asset {path} is inconsistent: {len(tokens)} words, "
                                    f"idf {idf.shape}, components {components.shape}")
        return cls({token: index for index, token in enumerate(tokens)}, idf, components)

    def embed(self, text: str) -> np.ndarray:
        """The review's ``(dimensions,)`` float32 vector; zeros for a review with no known word."""
        counts = Counter(index for word in words(text) if (index := self.vocabulary.get(word)) is not None)
        vector = np.zeros(self.dimensions, dtype=np.float32)
        if not counts:
            return vector
        indices = np.fromiter(counts, dtype=np.int64, count=len(counts))
        weights = np.array([1.0 + math.log(counts[index]) for index in indices], dtype=np.float32) * self.idf[indices]
        weights /= np.linalg.norm(weights)
        return (self.components[:, indices] @ weights).astype(np.float32)


@functools.lru_cache(maxsize=2)
def load_content_space(path: str = str(CONTENT_SPACE_FILE)) -> ContentSpace:
    """Loaded once per process and file."""
    return ContentSpace.load(path)
