"""The validation split: a deterministic, label-stratified, movie-grouped slice of official train.

Stratified by the index's own labels: for IMDB the folder's (negative/positive) under both tasks,
so sentiment and rating models are validated on the very same reviews and compare one to one;
for a table its label column's. Grouped by movie (a table's group column).

Why grouped by movie: reviews of one movie share names and plot words; with the same movie on
both sides, validation accuracy would overstate how the model does on unseen movies. Why cached:
scikit-learn's StratifiedGroupKFold takes over a second on 25,000 reviews, longer than the whole
rest of a warm load; scikit-learn itself is imported only when a split must be computed,
because importing it costs seconds that a warm start does not need.

The same fold, taken once more inside the training split, is the word families' early-stopping
holdout (``Corpus.holdout``): the epoch is chosen on reviews of movies the fitted part never
shows, and the validation split stays unseen until the final score.
"""

from __future__ import annotations

import logging
import math
from importlib.metadata import version
from pathlib import Path

import numpy as np

from imdb.data.cache import CorruptCacheError, cache_key, read_json, split_path, write_json
from imdb.data.errors import DataError
from imdb.data.index import Index
from imdb.data.review import OFFICIAL_TRAIN, OFFICIAL_VALIDATION

logger = logging.getLogger(__name__)

SPLIT_VERSION = 1
# The setting a fraction of official train comes from, named in its errors.
VALIDATION_SETTING = "validation_fraction"
HOLDOUT_SETTING = "early_stopping_holdout"
MIN_FOLDS = 2
# Part of the cache key: another scikit-learn release may assign folds differently.
SKLEARN_DISTRIBUTION = "scikit-learn"


def fold_count(validation_fraction: float, setting: str = VALIDATION_SETTING) -> int:
    """Number of folds whose one fold is ~``validation_fraction`` of the reviews split; ``setting``
    names the fraction in error messages."""
    if isinstance(validation_fraction, bool) or not isinstance(validation_fraction, (int, float)) \
            or not math.isfinite(validation_fraction) or not 0 < validation_fraction < 1:
        raise DataError(f"{setting}={validation_fraction!r} must be a number between 0 and 1")
    folds = round(1 / validation_fraction)
    if folds < MIN_FOLDS:
        raise DataError(f"{setting}={validation_fraction!r} is too large: "
                        f"it must leave at least {MIN_FOLDS} folds (use 0.5 or less)")
    return folds


def movie_groups(index: Index, positions: list[int]) -> list[str]:
    """The group of each review at ``positions``: its movie, or the review itself when the source
    names none (a table without a group column)."""
    return [index.movie_ids[i] or index.sample_ids[i] for i in positions]


def held_out_positions(labels: list[int], groups: list[str], fraction: float, seed: int,
                       setting: str = VALIDATION_SETTING) -> list[int]:
    """Positions (into ``labels``) of one label-stratified, group-disjoint fold of ~``fraction``
    of them, seeded: the validation split of official train, and the early-stopping holdout of
    the training split, are both this fold."""
    return _compute(labels, groups, fold_count(fraction, setting), seed, fraction, setting)


def validation_ids(index: Index, root: Path, validation_fraction: float, seed: int) -> frozenset[str]:
    """Sample ids of the validation split, from cache when this exact split was computed before."""
    folds = fold_count(validation_fraction)
    if OFFICIAL_VALIDATION in index.splits:
        # A table's split column chose the validation rows itself.
        return frozenset()
    train = [i for i, split in enumerate(index.splits) if split == OFFICIAL_TRAIN]
    ids = [index.sample_ids[i] for i in train]
    labels = [index.labels[i] for i in train]
    groups = movie_groups(index, train)
    # Keyed by the split's inputs, not by the source: the same reviews from a directory, a
    # tarball or a bucket share one cached split.
    key = cache_key("split", SPLIT_VERSION, version(SKLEARN_DISTRIBUTION), folds, seed, ids, labels, groups)
    path = split_path(root, key)
    cached = _load(path, set(ids))
    if cached is not None:
        return cached
    chosen = _compute(labels, groups, folds, seed, validation_fraction, VALIDATION_SETTING)
    selected = sorted(ids[i] for i in chosen)
    write_json(path, {"version": SPLIT_VERSION, "validation": selected})
    return frozenset(selected)


def _load(path: Path, train_ids: set[str]) -> frozenset[str] | None:
    try:
        document = read_json(path)
    except FileNotFoundError:
        return None
    except CorruptCacheError as exc:
        logger.warning("cached validation split is damaged (%s); computing it again", exc)
        return None
    selected = document.get("validation") if isinstance(document, dict) else None
    if not isinstance(selected, list) or not selected or not set(selected) <= train_ids:
        logger.warning("cached validation split %s does not match the index; computing it again", path)
        return None
    return frozenset(selected)


def _compute(labels: list[int], groups: list[str], folds: int, seed: int, fraction: float,
             setting: str) -> list[int]:
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    try:
        _, held_out = next(splitter.split(np.zeros(len(labels)), labels, groups))
    except ValueError as exc:
        raise DataError(f"cannot split {len(labels)} train reviews of {len(set(groups))} movies "
                        f"with {setting}={fraction!r} ({folds} folds): {exc}") from None
    return held_out.tolist()
