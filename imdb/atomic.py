"""Atomic file writes: a reader sees the old file or the whole new one, never a torn one.

Why: caches and trained artifacts are shared between processes (the platform runs several)
and runs get killed; writing to a temp file in the same directory and renaming it over the
target is the only way a crash cannot leave a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


_DEFAULT_FILE_MODE = 0o666


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success fsync it and rename it over ``target``.

    The temp file is removed if the body raises, so nothing half-written is ever left.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Keep the real suffix last: writers such as Keras pick the format from it.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; give the final file the permissions a plain open() would.
    tmp.chmod(_DEFAULT_FILE_MODE & ~_current_umask())
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))
