"""The corpus: reviews by sample id, and the training / validation / test splits over them.

Why a class and not a list: the integration asks for one sample at a time by id, many times;
the corpus keeps the columns it loaded and builds a Review only when one is asked for.

The unlabelled reviews (aclImdb's ``train/unsup/``) are no split: nothing trains, validates or
counts classes on them. ``unlabeled_ids`` names them (capped by ``unlabeled_limit``), ``corpus[id]``
and ``label`` (``UNLABELED_CLASS``) serve them; iterating and ``len`` cover the labelled reviews only.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from typing import Any, Iterator

from dataclasses import replace

from imdb.data.cache import prepare_data_root
from imdb.data.errors import DataError, UnknownSampleError
from imdb.data.index import Index, obtain_index
from imdb.contract.names import (LABEL_NAMES, NEGATIVE_MAX_RATING, RATING_NAMES, RATINGS, TEST, TRAINING,
                                 UNLABELED, UNLABELED_CLASS, VALIDATION)
from imdb.data.review import OFFICIAL_TEST, OFFICIAL_TRAIN, OFFICIAL_VALIDATION, Review
from imdb.data.sources import resolve_source
from imdb.data.split import HOLDOUT_SETTING, fold_count, held_out_positions, movie_groups, validation_ids
from imdb.data.tables import TableSpec

SENTIMENT = "sentiment"
RATING = "rating"
TASKS = (SENTIMENT, RATING)
POLARITY_NAMES = LABEL_NAMES

DEFAULT_VALIDATION_FRACTION = 0.1
DEFAULT_SEED = 1337


class Corpus:
    """All reviews of one source with its splits; ``corpus[sample_id]`` returns a Review."""

    def __init__(self, source: str, index: Index, validation: frozenset[str], task: str = SENTIMENT,
                 polarity: dict[str, str] | None = None, *, unlabeled_limit: int | None = None,
                 seed: int = DEFAULT_SEED) -> None:
        self.source = source
        self.task = task
        self._index = index
        self._positions = {sample_id: position for position, sample_id in enumerate(index.sample_ids)}
        self._split_positions = self._assign_splits(index, validation)
        self.splits: tuple[str, ...] = tuple(self._split_positions)
        self._labelled = sorted(position for positions in self._split_positions.values() for position in positions)
        self._unlabeled_order = _unlabeled_sample(index, unlabeled_limit, seed)
        self.label_names, self._labels = _task_labels(source, index, task)
        self.polarity = _polarity(self.label_names, task, polarity, source)

    @staticmethod
    def _assign_splits(index: Index, validation: frozenset[str]) -> dict[str, list[int]]:
        """Official train minus validation, validation, and official test when the source has it."""
        splits: dict[str, list[int]] = {TRAINING: [], VALIDATION: []}
        for position, (sample_id, official) in enumerate(zip(index.sample_ids, index.splits, strict=True)):
            if official == OFFICIAL_VALIDATION:
                splits[VALIDATION].append(position)
            elif official == OFFICIAL_TRAIN:
                splits[VALIDATION if sample_id in validation else TRAINING].append(position)
            elif official == OFFICIAL_TEST:
                splits.setdefault(TEST, []).append(position)
        return splits

    def unlabeled_ids(self, limit: int | None = None) -> list[str]:
        """Ids of the unlabelled reviews served, in canonical order (review id); ``[]`` when the
        source has none or ``unlabeled_limit`` is 0.

        ``limit`` keeps the first ``limit`` of the same seeded draw that ``unlabeled_limit`` made, so
        a smaller cap always serves a subset of a larger one."""
        chosen = self._unlabeled_order if limit is None else self._unlabeled_order[:limit]
        return [self._index.sample_ids[position] for position in sorted(chosen)]

    @property
    def content_key(self) -> str:
        """Identifies the indexed content (changes when the source does): a key for derived caches."""
        return self._index.key

    def ids(self, split: str) -> list[str]:
        """Sample ids of ``split`` in canonical order (official split, label, review id)."""
        positions = self._split_positions.get(split)
        if positions is None:
            hint = " (the unlabelled reviews are no split: use unlabeled_ids())" if split == UNLABELED else ""
            raise DataError(f"unknown split {split!r} in {self.source}; available: {', '.join(self.splits)}{hint}")
        return [self._index.sample_ids[position] for position in positions]

    def holdout(self, ids: list[str], fraction: float, seed: int,
                setting: str = HOLDOUT_SETTING) -> tuple[list[str], list[str]]:
        """``ids`` (of the training split) as (fitted, held out): the held-out part ~``fraction`` of
        them, drawn like the validation split (stratified by the index's labels, grouped by movie,
        seeded), so no movie is on both sides; both keep the order of ``ids``."""
        positions = [self._positions[sample_id] for sample_id in ids]
        labels = [self._index.labels[position] for position in positions]
        chosen = set(held_out_positions(labels, movie_groups(self._index, positions), fraction, seed, setting))
        fitted = [sample_id for i, sample_id in enumerate(ids) if i not in chosen]
        held_out = [sample_id for i, sample_id in enumerate(ids) if i in chosen]
        return fitted, held_out

    def __getitem__(self, sample_id: str) -> Review:
        position = self._positions.get(sample_id) if isinstance(sample_id, str) else None
        if position is None:
            raise UnknownSampleError(f"unknown sample id {sample_id!r} in {self.source}")
        review = self._index.review(position)
        if self._labels is not None:
            review = replace(review, label=self._labels[position])
        return review

    def label(self, sample_id: str) -> int:
        """The class of one sample (cheaper than building its Review)."""
        position = self._positions.get(sample_id) if isinstance(sample_id, str) else None
        if position is None:
            raise UnknownSampleError(f"unknown sample id {sample_id!r} in {self.source}")
        return self._index.labels[position] if self._labels is None else self._labels[position]

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self._positions

    def __iter__(self) -> Iterator[str]:
        """The labelled reviews' ids (``unlabeled_ids`` names the others)."""
        return (self._index.sample_ids[position] for position in self._labelled)

    def __len__(self) -> int:
        return len(self._labelled)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(positions)}" for name, positions in self._split_positions.items())
        unlabeled = f", {UNLABELED}={len(self._unlabeled_order)}" if self._unlabeled_order else ""
        return f"Corpus({self.source!r}, {sizes}{unlabeled})"


def _unlabeled_sample(index: Index, limit: int | None, seed: int) -> list[int]:
    """Positions of the unlabelled reviews in a seeded order, the first ``limit`` of them (all
    for None, none for 0): the same reviews on every start, whatever else changes."""
    if limit is not None and limit < 0:
        raise DataError(f"unlabeled_limit={limit!r} must be 0 (off), a positive number of reviews, or null (all)")
    positions = [position for position, split in enumerate(index.splits) if split == UNLABELED]
    if limit is None or limit >= len(positions):
        return positions
    return random.Random(seed).sample(positions, limit)


def _task_labels(source: str, index: Index, task: str) -> tuple[tuple[str, ...], list[int] | None]:
    """The class names under ``task`` and, where they differ from the index's, each sample's class.

    An aclImdb index holds the folder's label (negative/positive) and the file name's rating;
    ``rating`` classifies by the latter. A table's classes are its label column's, whatever the task.
    """
    if task not in TASKS:
        raise DataError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    if task == SENTIMENT:
        return index.label_names, None
    labelled = [rating for rating, split in zip(index.ratings, index.splits) if split != UNLABELED]
    if index.label_names != LABEL_NAMES or not any(labelled):
        raise DataError(f"task: rating classifies IMDB reviews by the star rating in their file names, and "
                        f"{source} has none (a table's classes are its label_column): set task: sentiment")
    unknown = sorted({rating for rating in labelled if rating not in RATINGS})
    if unknown:
        raise DataError(f"{source} holds reviews rated {unknown}, outside IMDB's labelled ratings {list(RATINGS)}")
    position = {rating: cls for cls, rating in enumerate(RATINGS)}
    return RATING_NAMES, [UNLABELED_CLASS if split == UNLABELED else position[rating]
                          for rating, split in zip(index.ratings, index.splits)]


def _polarity(names: tuple[str, ...], task: str, given: dict[str, str] | None, source: str) -> tuple[int, ...] | None:
    """Each class's polarity (0 negative, 1 positive) for the behavioural probes, or None.

    From the ``polarity`` setting when given; else IMDB's own (sentiment, and ratings 1-4 / 7-10),
    or classes that are named negative and positive; else None (the probes are left out).
    """
    if given:
        unknown = sorted(set(given) - set(names))
        missing = [name for name in names if name not in given]
        if unknown or missing:
            raise DataError(f"setting 'polarity' must map each class of {source} ({', '.join(names)}) to negative "
                            f"or positive" + (f"; it names unknown {unknown}" if unknown else "")
                            + (f"; it leaves out {missing}" if missing else ""))
        return tuple(POLARITY_NAMES.index(given[name]) for name in names)
    if task == RATING:
        return tuple(int(rating > NEGATIVE_MAX_RATING) for rating in RATINGS)
    if set(names) == set(POLARITY_NAMES):
        return tuple(POLARITY_NAMES.index(name) for name in names)
    return None


def load_corpus(uri: str | os.PathLike, data_root: str | os.PathLike, *,
                validation_fraction: float = DEFAULT_VALIDATION_FRACTION, seed: int = DEFAULT_SEED,
                task: str = SENTIMENT, table: TableSpec | None = None,
                polarity: dict[str, str] | None = None, unlabeled_limit: int | None = None) -> Corpus:
    """Load the reviews at ``uri`` (aclImdb directory or .tar.gz, a table file, gs:// or https://),
    cached under ``data_root``.

    The first load of a source indexes it (and downloads it, for a bucket or a URL); later loads read
    the cached index and the cached validation split only. ``task`` picks IMDB's classes
    (sentiment or rating); ``table`` says which columns of a table hold what; ``unlabeled_limit``
    caps the unlabelled reviews served (a sample drawn by ``seed``; None all, 0 none).
    """
    fold_count(validation_fraction)
    root = prepare_data_root(data_root)
    source = resolve_source(uri, root, table)
    index = obtain_index(source, root)
    return Corpus(os.fspath(uri), index, validation_ids(index, root, validation_fraction, seed), task, polarity,
                  unlabeled_limit=unlabeled_limit, seed=seed)


def imbalance_ratio(counts: list[int]) -> float | None:
    """Largest class over smallest (None when a class is empty): 1.0 is balanced."""
    return round(max(counts) / min(counts), 3) if counts and min(counts) > 0 else None


def describe(corpus: Corpus) -> dict[str, Any]:
    """Counts per split and class, the classes' imbalance, and group (movie) counts, e.g. for
    ``imdb-leap data info``."""
    splits: dict[str, dict[str, Any]] = {}
    totals: Counter[int] = Counter()
    for split in corpus.splits:
        ids = corpus.ids(split)
        labels = Counter(corpus.label(sample_id) for sample_id in ids)
        totals.update(labels)
        counts = [labels[label] for label in range(corpus.num_classes)]
        splits[split] = {"n": len(ids), **dict(zip(corpus.label_names, counts)),
                         "imbalance_ratio": imbalance_ratio(counts),
                         "movies": len({corpus[sample_id].movie_id for sample_id in ids} - {""})}
    overall = [totals[label] for label in range(corpus.num_classes)]
    summary = {"source": corpus.source, "task": corpus.task, "n": len(corpus), "classes": list(corpus.label_names),
               "counts": dict(zip(corpus.label_names, overall)), "imbalance_ratio": imbalance_ratio(overall),
               "polarity": None if corpus.polarity is None else
               {name: POLARITY_NAMES[value] for name, value in zip(corpus.label_names, corpus.polarity)},
               "splits": splits}
    unlabeled = corpus.unlabeled_ids()
    if unlabeled:
        summary[UNLABELED] = {"n": len(unlabeled),
                              "movies": len({corpus[sample_id].movie_id for sample_id in unlabeled} - {""})}
    return summary
