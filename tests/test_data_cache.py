"""Cache writes are atomic: no torn file for a concurrent reader, no temp file after a failure."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from imdb.data import index as index_module
from imdb.data.cache import INDEX_DIR, STALE_TEMP_AGE_S, CorruptCacheError, prepare_data_root
from imdb.data.errors import DataError
from imdb.data.index import Index, load_index, save_index
from imdb.data.review import Review

KEY = "k" * 32
REVIEWS = 3000
REWRITES = 20
READER_DEADLINE_S = 30.0


def _index(text: str, count: int = REVIEWS) -> Index:
    reviews = [Review(f"train/pos/{i}_10", "train", 1, 10, f"tt{i:07d}", text * 50) for i in range(count)]
    return Index.from_reviews(KEY, reviews)


def _rewrite(path: Path) -> None:
    """Writer process: replace the index again and again, alternating its content."""
    for round_number in range(REWRITES):
        save_index(path, _index("ab"[round_number % 2]))


def test_reader_never_sees_a_torn_index(tmp_path: Path) -> None:
    """A second process rewrites the index again and again while this one keeps reading it."""
    path = tmp_path / "index.json.gz"
    save_index(path, _index("a"))
    # fork: the writer inherits the imported modules and starts at once.
    writer = multiprocessing.get_context("fork").Process(target=_rewrite, args=(path,))
    writer.start()
    reads = 0
    deadline = time.monotonic() + READER_DEADLINE_S
    while writer.is_alive() and time.monotonic() < deadline:
        loaded = load_index(path, KEY)
        assert len(loaded) == REVIEWS and loaded.review(REVIEWS - 1).text in ("a" * 50, "b" * 50)
        reads += 1
    writer.join(timeout=READER_DEADLINE_S)
    assert writer.exitcode == 0
    assert reads > 0, "the reader never overlapped the writer"
    assert [entry.name for entry in tmp_path.iterdir()] == [path.name]


def test_failed_write_leaves_the_previous_index_and_no_temp_file(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "index.json.gz"
    save_index(path, _index("a", count=10))

    class Exploding:
        def __init__(self, *_args: object, **_kwargs: object) -> None:
            pass

        def __enter__(self) -> Exploding:
            return self

        def __exit__(self, *_args: object) -> None:
            return None

        def write(self, _data: bytes) -> int:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(index_module.gzip, "open", Exploding)
    with pytest.raises(OSError):
        save_index(path, _index("b", count=10))
    monkeypatch.undo()
    assert [entry.name for entry in tmp_path.iterdir()] == [path.name]
    assert load_index(path, KEY).review(0).text == "a" * 50


def test_index_with_wrong_values_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "index.json.gz"
    broken = _index("a", count=5)
    broken.columns["label"][2] = "1"
    save_index(path, broken)
    with pytest.raises(CorruptCacheError, match="column label"):
        load_index(path, KEY)
    with pytest.raises(CorruptCacheError, match="another index version or source"):
        save_index(path, _index("a", count=5))
        load_index(path, "0" * 32)


def test_stale_temp_files_are_swept_and_fresh_ones_kept(tmp_path: Path) -> None:
    root = prepare_data_root(tmp_path / "root")
    stale = root / INDEX_DIR / ".abc.json.1234.tmp.gz"
    fresh = root / INDEX_DIR / ".def.json.5678.tmp.gz"
    for temp in (stale, fresh):
        temp.write_bytes(b"partial")
    old = time.time() - STALE_TEMP_AGE_S - 1
    os.utime(stale, (old, old))
    prepare_data_root(root)
    assert not stale.exists() and fresh.exists()


def test_data_root_below_a_file_is_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(DataError, match="is not writable"):
        prepare_data_root(blocker / "root")
