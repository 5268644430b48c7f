"""Read aclImdb members from local storage: a streamed ``.tar.gz`` or a directory tree.

Why streaming: the official tarball holds ~100,000 small files (half of them the unlabelled
``train/unsup/`` reviews); extracting it would cost minutes and disk, while one pass over the
gzip stream takes seconds.
"""

from __future__ import annotations

import gzip
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from tqdm import tqdm

from imdb.data.errors import DataError
from imdb.data.layout import REVIEW_NAME, ROOT_DIR, UNSUP_NAME, URLS_NAME, LayoutCollector, is_layout_name
from imdb.data.review import LABEL_DIRS, OFFICIAL_SPLITS, OFFICIAL_TRAIN, UNSUP_DIR

GZIP_MAGIC = b"\x1f\x8b"
DRAIN_CHUNK_BYTES = 1 << 20
# tqdm decides by itself: bars on a terminal, silent in CI logs and pipes.
PROGRESS_AUTO = None
_TARBALL_FAILURES = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


@dataclass(frozen=True)
class LocalFile:
    """One layout file of a directory source, with the stat facts its cache key is built from."""

    path: Path
    name: str
    size: int
    mtime_ns: int


class _ProgressReader:
    """File wrapper that advances a progress bar by the compressed bytes consumed."""

    def __init__(self, raw: BinaryIO, bar: tqdm) -> None:
        self._raw = raw
        self._bar = bar

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._bar.update(len(data))
        return data


def read_tarball(path: Path, origin: str) -> LayoutCollector:
    """Collect the layout members of a ``.tar.gz`` in one streaming pass.

    The gzip stream is read to its end so that its CRC-32 and length trailer are verified: a
    corrupt archive fails here instead of yielding silently damaged texts.
    """
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise DataError(f"cannot read {origin}: {exc.strerror or exc}") from None
    with raw:
        if raw.read(len(GZIP_MAGIC)) != GZIP_MAGIC:
            raise DataError(f"{origin} is not a gzip-compressed tar archive (.tar.gz)")
        raw.seek(0)
        try:
            return _stream_members(raw, path, origin)
        except _TARBALL_FAILURES as exc:
            raise DataError(f"{origin} is corrupt or truncated (not a readable .tar.gz): {exc}") from None
        except OSError as exc:
            raise DataError(f"cannot read {origin}: {exc.strerror or exc}") from None


def _stream_members(raw: BinaryIO, path: Path, origin: str) -> LayoutCollector:
    collector = LayoutCollector(origin)
    size = os.fstat(raw.fileno()).st_size
    with tqdm(total=size, unit="B", unit_scale=True, desc=f"indexing {path.name}", disable=PROGRESS_AUTO) as bar, \
            gzip.GzipFile(fileobj=_ProgressReader(raw, bar), mode="rb") as unzipped:
        with tarfile.open(fileobj=unzipped, mode="r|") as archive:
            for member in archive:
                if member.isfile() and is_layout_name(member.name):
                    collector.add(member.name, archive.extractfile(member).read())
        while unzipped.read(DRAIN_CHUNK_BYTES):
            pass
    return collector


def list_layout_files(root: Path) -> list[LocalFile]:
    """The review (unlabelled ones too) and ``urls_*.txt`` files of an aclImdb directory (.feat skipped)."""
    found: list[LocalFile] = []
    for split in OFFICIAL_SPLITS:
        split_dir = root / split
        if not split_dir.is_dir():
            continue
        for label_dir in LABEL_DIRS:
            found.extend(_scan(split_dir / label_dir, f"{ROOT_DIR}/{split}/{label_dir}", REVIEW_NAME.search))
        if split == OFFICIAL_TRAIN:
            found.extend(_scan(split_dir / UNSUP_DIR, f"{ROOT_DIR}/{split}/{UNSUP_DIR}", UNSUP_NAME.search))
        found.extend(_scan(split_dir, f"{ROOT_DIR}/{split}", URLS_NAME.search))
    return found


def _scan(folder: Path, prefix: str, wanted: Callable[[str], object]) -> list[LocalFile]:
    if not folder.is_dir():
        return []
    files = []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = f"{prefix}/{entry.name}"
            if wanted(name) and entry.is_file():
                stat = entry.stat()
                files.append(LocalFile(Path(entry.path), name, stat.st_size, stat.st_mtime_ns))
    return files


def read_directory(files: list[LocalFile], origin: str) -> LayoutCollector:
    """Collect the given layout files of a directory source."""
    collector = LayoutCollector(origin)
    for file in tqdm(files, unit="file", desc="indexing aclImdb/", disable=PROGRESS_AUTO):
        try:
            data = file.path.read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read {file.path}: {exc.strerror or exc}") from None
        collector.add(file.name, data)
    return collector
