"""Atomic file writes: a reader sees the old file or the whole new one, never a torn one.

Why one writer for everything (cache entries, vocabularies, models, cards, reports): caches
and artifacts are shared between processes (the platform runs several) and runs get killed.
Each write goes to a temp file beside the target, ``.NAME.RANDOM.partial`` (followed by the
target's suffixes, for writers that pick their format from them, as Keras does); on success it
is fsynced and renamed over the target, and if the body raises it is removed. Cache entries
also hold an exclusive lock on their temp file while writing: if the process is killed, the
lock dies with it, which tells the next run's sweep (``remove_if_abandoned``) the file can go.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import secrets
from pathlib import Path
from typing import Iterator

PARTIAL_SUFFIX = ".partial"
TEMP_NAME_BYTES = 8
# Creating a temp file and locking it are two steps; a sweep can only get in between them by
# removing the file, which the writer notices and answers with a new one (twice is already
# a coincidence of microseconds, so a third failure is reported, not retried forever).
TEMP_CREATE_ATTEMPTS = 3
# Plain open() would create files with this mode (less the umask); O_CREAT applies the umask.
FILE_MODE = 0o666
# Files are hashed in chunks of this size: models and archives run to ~90 MB.
HASH_CHUNK_BYTES = 1 << 20


def _same_file(left: os.stat_result, right: os.stat_result) -> bool:
    return (left.st_dev, left.st_ino) == (right.st_dev, right.st_ino)


def _temp_name(target: Path, keep_suffix: bool) -> Path:
    tail = PARTIAL_SUFFIX + ("".join(target.suffixes) if keep_suffix else "")
    return target.parent / f".{target.name}.{secrets.token_hex(TEMP_NAME_BYTES)}{tail}"


def _create_temp(target: Path, keep_suffix: bool, lock: bool) -> tuple[int, Path]:
    """Create (and, with ``lock``, lock) a new temp file beside ``target``; returns its descriptor and path."""
    for _ in range(TEMP_CREATE_ATTEMPTS):
        temp = _temp_name(target, keep_suffix)
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            continue
        if not lock:
            return fd, temp
        try:
            # Blocking: a sweep holds this lock only for the instant it takes to remove the file.
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(os.stat(temp, follow_symlinks=False), os.fstat(fd)):
                return fd, temp
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    raise OSError(errno.EEXIST, f"could not create a temp file beside {target}")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, keep_suffix: bool = True, lock: bool = False) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success fsync it and rename it over ``target``.

    ``keep_suffix`` ends the temp name with the target's suffixes (``.weights.h5``), for
    writers that choose the file format from it (``model.save`` of Keras). ``lock`` holds an
    exclusive lock on the temp file while it is written, which is what lets a sweep tell a
    killed writer's leftovers from a live one's: the data cache turns both options around
    (every cache temp file ends in ``.partial`` and is locked). Artifacts are written unlocked
    because HDF5 writers (Keras ``.h5``) take their own lock on the file they write. Raises the underlying OSError on failure;
    the temp file never outlives the call (or, when the process is killed, the next sweep).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _create_temp(target, keep_suffix, lock)
    try:
        yield temp
        os.fsync(fd)
        # Writers that reopen the path by name (Keras, h5py) wrote through another descriptor.
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        os.close(fd)


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def remove_if_abandoned(path: Path) -> bool:
    """Remove a writer's temp file unless its writer is alive (and so still holds its lock)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # The same file still under that name (not renamed into place in the meantime).
        if _same_file(os.stat(path, follow_symlinks=False), os.fstat(fd)):
            os.unlink(path)
            return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def file_sha256(path: Path) -> str:
    """SHA-256 of a file (a model, a downloaded archive), read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()
