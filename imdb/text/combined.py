"""Two encoders read as one: the ensemble family's inputs are both its members' inputs.

Why a pair, not a new tokenizer: the ensemble's members read a review their own ways (BERT's
WordPieces, the n-gram model's distinct uni+bigrams), so one review yields both input sets. The
first encoder is the one the dashboard and the metadata see (its tokens are what the review
visualizer shows and what the token count and truncation describe); the second adds its inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imdb.text.encoded import Encoded


class CombinedEncoder:
    """Review text -> the inputs of ``primary`` and ``secondary``; counts and tokens from ``primary``."""

    def __init__(self, primary: Any, secondary: Any) -> None:
        overlap = set(primary.input_names) & set(secondary.input_names)
        if overlap:
            raise ValueError(f"the two encoders share the input names {sorted(overlap)}: their inputs would collide")
        self.primary = primary
        self.secondary = secondary
        self.sequence_length = primary.sequence_length
        self.input_names: tuple[str, ...] = (*primary.input_names, *secondary.input_names)

    def encode(self, text: str) -> Encoded:
        first = self.primary.encode(text)
        second = self.secondary.encode(text)
        return Encoded(inputs={**first.inputs, **second.inputs}, token_count=first.token_count,
                       oov_count=first.oov_count, special_tokens=first.special_tokens)

    def display_tokens(self, token_ids: np.ndarray) -> list[str]:
        """The primary encoder's tokens (the review as the dashboard shows it)."""
        return self.primary.display_tokens(token_ids)

    @property
    def pad_id(self) -> int:
        """The primary encoder's padding id: its ids are ``input_names[0]``, the token input."""
        return self.primary.pad_id

    @property
    def cls_id(self) -> int:
        return self.primary.cls_id

    @property
    def sep_id(self) -> int:
        return self.primary.sep_id
