"""Knowledge of the aclImdb layout: which member names matter and how they become reviews.

Why one module: the directory reader, the tarball reader and the bucket reader all see the same
names (``aclImdb/train/pos/10001_10.txt``, ``aclImdb/train/urls_pos.txt``); parsing them in one
place guarantees that all three sources yield identical sample ids, movie ids and texts.

The unlabelled reviews (``aclImdb/train/unsup/123_0.txt``, the official archive's 50,000) are read
too: their sample id mirrors their path like every other's (``train/unsup/123_0``), their index
split is ``unlabeled`` and their label ``UNLABELED_CLASS``, so nothing that reads labels or the
official train split (the validation split) ever counts them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from imdb.data.errors import DataError
from imdb.contract.names import UNLABELED, UNLABELED_CLASS
from imdb.data.review import LABEL_DIRS, OFFICIAL_SPLITS, OFFICIAL_TRAIN, UNSUP_DIR, Review

logger = logging.getLogger(__name__)

ROOT_DIR = "aclImdb"
_SPLITS = "|".join(OFFICIAL_SPLITS)
_LABELS = "|".join(LABEL_DIRS)
# The ``aclImdb/`` component is required; anything before it (``./``, ``data/``) is tolerated.
REVIEW_NAME = re.compile(
    rf"(?:^|/){ROOT_DIR}/(?P<split>{_SPLITS})/(?P<label>{_LABELS})/(?P<review>\d+)_(?P<rating>\d+)\.txt$")
# The unlabelled reviews: under official train only, as the official archive has them.
UNSUP_NAME = re.compile(
    rf"(?:^|/){ROOT_DIR}/(?P<split>{OFFICIAL_TRAIN})/(?P<label>{UNSUP_DIR})/(?P<review>\d+)_(?P<rating>\d+)\.txt$")
URLS_NAME = re.compile(rf"(?:^|/){ROOT_DIR}/(?P<split>{_SPLITS})/urls_(?P<label>{_LABELS}|{UNSUP_DIR})\.txt$")
MOVIE_ID = re.compile(r"/title/(tt\d+)")
UNKNOWN_MOVIE = ""
REPLACEMENT_ERRORS = "replace"


def canonical_name(relative: str) -> str | None:
    """Map a name relative to a source root to ``aclImdb/...``, or None if it is not layout data.

    Accepts both roots users point at: the folder holding ``aclImdb/`` and ``aclImdb/`` itself.
    """
    relative = relative.lstrip("/")
    for candidate in (relative, f"{ROOT_DIR}/{relative}"):
        if is_layout_name(candidate):
            return candidate
    return None


def is_layout_name(name: str) -> bool:
    """True for the members a reader must load: reviews (unlabelled ones too) and ``urls_*.txt``
    (not .feat, not the README)."""
    return bool(REVIEW_NAME.search(name) or UNSUP_NAME.search(name) or URLS_NAME.search(name))


def sample_id(split: str, label_dir: str, review_id: int, rating: int) -> str:
    return f"{split}/{label_dir}/{review_id}_{rating}"


@dataclass(frozen=True)
class _RawReview:
    split: str
    label_dir: str
    review_id: int
    rating: int
    member: str
    data: bytes


@dataclass
class LayoutCollector:
    """Accumulates layout members in any order (tarballs put ``urls_*.txt`` after the reviews)."""

    origin: str
    reviews: dict[str, _RawReview] = field(default_factory=dict)
    urls: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def add(self, name: str, data: bytes) -> None:
        """Record one member; names that are not layout data are ignored."""
        match = REVIEW_NAME.search(name) or UNSUP_NAME.search(name)
        if match:
            self._add_review(name, match, data)
            return
        match = URLS_NAME.search(name)
        if match:
            self.urls[(match["split"], match["label"])] = data

    def _add_review(self, name: str, match: re.Match[str], data: bytes) -> None:
        review_id, rating = int(match["review"]), int(match["rating"])
        key = sample_id(match["split"], match["label"], review_id, rating)
        if key in self.reviews:
            raise DataError(f"{self.origin} holds review {key} twice "
                            f"({self.reviews[key].member} and {name})")
        self.reviews[key] = _RawReview(match["split"], match["label"], review_id, rating, name, data)


def assemble(collector: LayoutCollector) -> list[Review]:
    """Turn collected members into reviews in a canonical order, checking the layout is usable.

    The order (official split, label, numeric review id) does not depend on how the source
    listed its files, so ids come out identical from a directory, a tarball or a bucket.
    """
    _check_layout(collector)
    ordered = sorted(collector.reviews.values(), key=_canonical_order)
    movie_ids = _assign_movies(collector, ordered)
    return [
        Review(
            sample_id=sample_id(raw.split, raw.label_dir, raw.review_id, raw.rating),
            split=UNLABELED if _is_unlabeled(raw) else raw.split,
            label=UNLABELED_CLASS if _is_unlabeled(raw) else LABEL_DIRS.index(raw.label_dir),
            rating=raw.rating,
            movie_id=movie_id,
            text=decode_text(raw.data, f"{collector.origin}: {raw.member}"),
        )
        for raw, movie_id in zip(ordered, movie_ids, strict=True)
    ]


def _is_unlabeled(raw: _RawReview) -> bool:
    return raw.label_dir == UNSUP_DIR


def _canonical_order(raw: _RawReview) -> tuple[int, int, int, int, int]:
    """Labelled reviews first, in their order of before unlabelled ones were read, so their
    positions (and everything derived from them) do not move; the unlabelled after them."""
    if _is_unlabeled(raw):
        return 1, OFFICIAL_SPLITS.index(raw.split), len(LABEL_DIRS), raw.review_id, raw.rating
    return 0, OFFICIAL_SPLITS.index(raw.split), LABEL_DIRS.index(raw.label_dir), raw.review_id, raw.rating


def _present_label_dirs(collector: LayoutCollector) -> set[tuple[str, str]]:
    """Each (official split, review directory) that holds a review, ``unsup`` included."""
    return {(raw.split, raw.label_dir) for raw in collector.reviews.values()}


def _check_layout(collector: LayoutCollector) -> None:
    """Every split present needs both labels, and the official train split must be present
    (unlabelled reviews alone are no corpus: nothing could be trained or validated)."""
    present = {(split, label) for split, label in _present_label_dirs(collector) if label != UNSUP_DIR}
    splits = {OFFICIAL_TRAIN} | {split for split, _ in present}
    for split in (s for s in OFFICIAL_SPLITS if s in splits):
        missing = [f"{ROOT_DIR}/{split}/{label}/" for label in LABEL_DIRS if (split, label) not in present]
        if missing:
            raise DataError(f"{collector.origin} is not in the aclImdb layout: "
                            f"no review files (ID_RATING.txt) under {', '.join(missing)}")


def _assign_movies(collector: LayoutCollector, ordered: list[_RawReview]) -> list[str]:
    """Movie id of each review: line ``review_id`` (0-based) of its ``urls_{label}.txt``.

    A review without a usable line gets an empty movie id (the split then groups it by its own
    sample id); one warning per urls file says how many reviews that affected.
    """
    tables = {key: _movie_table(collector, *key) for key in _present_label_dirs(collector)}
    assigned: list[str] = []
    unmatched: dict[tuple[str, str], int] = {}
    for raw in ordered:
        table = tables[(raw.split, raw.label_dir)]
        movie_id = table[raw.review_id] if table is not None and raw.review_id < len(table) else UNKNOWN_MOVIE
        if table is not None and not movie_id:
            unmatched[(raw.split, raw.label_dir)] = unmatched.get((raw.split, raw.label_dir), 0) + 1
        assigned.append(movie_id)
    for (split, label_dir), count in sorted(unmatched.items()):
        logger.warning("%s: %d review(s) under %s/%s have no /title/ttNNN line in urls_%s.txt; "
                       "their movie id is empty", collector.origin, count, split, label_dir, label_dir)
    return assigned


def _movie_table(collector: LayoutCollector, split: str, label_dir: str) -> list[str] | None:
    """Parse one ``urls_{label}.txt``; None (with a warning) when the file is missing."""
    name = f"{ROOT_DIR}/{split}/urls_{label_dir}.txt"
    data = collector.urls.get((split, label_dir))
    if data is None:
        logger.warning("%s: %s is missing; reviews under %s/%s get an empty movie id and are "
                       "grouped by their own sample id in the validation split",
                       collector.origin, name, split, label_dir)
        return None
    lines = decode_text(data, f"{collector.origin}: {name}").splitlines()
    return [match.group(1) if (match := MOVIE_ID.search(line)) else UNKNOWN_MOVIE for line in lines]


def decode_text(data: bytes, where: str) -> str:
    """Decode UTF-8; invalid bytes become U+FFFD with a warning naming the file, never a crash."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        logger.warning("%s: invalid UTF-8 at byte %d; undecodable bytes replaced with U+FFFD",
                       where, exc.start)
        return data.decode("utf-8", errors=REPLACEMENT_ERRORS)
