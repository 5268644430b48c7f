"""What an encoder returns for one review, whichever tokenizer made it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Encoded:
    """One review as a model reads it: unbatched float32 inputs plus the counts metadata needs."""

    inputs: dict[str, np.ndarray]
    token_count: int
    oov_count: int
    # Tokens the tokenizer adds around every review ([CLS], [SEP]); they carry no review text.
    special_tokens: int = 0

    @property
    def content_tokens(self) -> int:
        return self.token_count - self.special_tokens
