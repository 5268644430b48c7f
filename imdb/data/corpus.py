"""The corpus: reviews by sample id, and the training / validation / test splits over them.

Why a class and not a list: the integration asks for one sample at a time by id, many times;
the corpus keeps the columns it loaded and builds a Review only when one is asked for.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any, Iterator

from imdb.data.cache import prepare_data_root
from imdb.data.errors import DataError, UnknownSampleError
from imdb.data.index import Index, obtain_index
from imdb.contract.names import LABEL_NAMES, TEST, TRAINING, VALIDATION
from imdb.data.review import OFFICIAL_TEST, OFFICIAL_TRAIN, Review
from imdb.data.sources import resolve_source
from imdb.data.split import fold_count, validation_ids

DEFAULT_VALIDATION_FRACTION = 0.1
DEFAULT_SEED = 1337


class Corpus:
    """All reviews of one source with its splits; ``corpus[sample_id]`` returns a Review."""

    def __init__(self, source: str, index: Index, validation: frozenset[str]) -> None:
        self.source = source
        self._index = index
        self._positions = {sample_id: position for position, sample_id in enumerate(index.sample_ids)}
        self._split_positions = self._assign_splits(index, validation)
        self.splits: tuple[str, ...] = tuple(self._split_positions)

    @staticmethod
    def _assign_splits(index: Index, validation: frozenset[str]) -> dict[str, list[int]]:
        """Official train minus validation, validation, and official test when the source has it."""
        splits: dict[str, list[int]] = {TRAINING: [], VALIDATION: []}
        for position, (sample_id, official) in enumerate(zip(index.sample_ids, index.splits, strict=True)):
            if official == OFFICIAL_TRAIN:
                splits[VALIDATION if sample_id in validation else TRAINING].append(position)
            elif official == OFFICIAL_TEST:
                splits.setdefault(TEST, []).append(position)
        return splits

    @property
    def content_key(self) -> str:
        """Identifies the indexed content (changes when the source does): a key for derived caches."""
        return self._index.key

    def ids(self, split: str) -> list[str]:
        """Sample ids of ``split`` in canonical order (official split, label, review id)."""
        positions = self._split_positions.get(split)
        if positions is None:
            raise DataError(f"unknown split {split!r} in {self.source}; available: {', '.join(self.splits)}")
        return [self._index.sample_ids[position] for position in positions]

    def __getitem__(self, sample_id: str) -> Review:
        position = self._positions.get(sample_id) if isinstance(sample_id, str) else None
        if position is None:
            raise UnknownSampleError(f"unknown sample id {sample_id!r} in {self.source}")
        return self._index.review(position)

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self._positions

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.sample_ids)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(positions)}" for name, positions in self._split_positions.items())
        return f"Corpus({self.source!r}, {sizes})"


def load_corpus(uri: str | os.PathLike, data_root: str | os.PathLike, *,
                validation_fraction: float = DEFAULT_VALIDATION_FRACTION, seed: int = DEFAULT_SEED) -> Corpus:
    """Load the reviews at ``uri`` (directory, .tar.gz, gs:// or https://), cached under ``data_root``.

    The first load of a source indexes it (and downloads it, for a bucket or a URL); later loads read
    the cached index and the cached validation split only.
    """
    fold_count(validation_fraction)
    root = prepare_data_root(data_root)
    source = resolve_source(uri, root)
    index = obtain_index(source, root)
    return Corpus(os.fspath(uri), index, validation_ids(index, root, validation_fraction, seed))


def describe(corpus: Corpus) -> dict[str, Any]:
    """Review and movie counts per split and label, e.g. for ``imdb-leap data info``."""
    splits: dict[str, dict[str, int]] = {}
    for split in corpus.splits:
        reviews = [corpus[sample_id] for sample_id in corpus.ids(split)]
        labels = Counter(review.label for review in reviews)
        splits[split] = {"n": len(reviews), **{name: labels[label] for label, name in enumerate(LABEL_NAMES)},
                         "movies": len({review.movie_id for review in reviews if review.movie_id})}
    return {"source": corpus.source, "n": len(corpus), "splits": splits}
