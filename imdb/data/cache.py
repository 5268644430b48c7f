"""The local cache under the data root: where entries live, how they are keyed and written.

Why: every cache entry is keyed by what it was built from (so a changed source gets a new
entry, never a stale one) and written atomically (so a crash or a concurrent reader never sees a
torn file). Entries are only ever replaced whole, so no locking is needed between processes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from imdb.atomic import atomic_write_bytes
from imdb.data.errors import DataError
from imdb.data.settings import ENV_DATA_ROOT

logger = logging.getLogger(__name__)

INDEX_DIR = "index"
SPLIT_DIR = "splits"
DOWNLOAD_DIR = "downloads"
SOURCE_DIR = "sources"
CACHE_DIRS = (INDEX_DIR, SPLIT_DIR, DOWNLOAD_DIR, SOURCE_DIR)

KEY_HEX_CHARS = 32
# A temp file this old belongs to a writer that was killed; live writers finish in minutes.
STALE_TEMP_AGE_S = 6 * 3600
TEMP_MARKER = ".tmp"


class CorruptCacheError(Exception):
    """A cache entry exists but cannot be trusted; the caller rebuilds or re-fetches it."""


def cache_key(*parts: object) -> str:
    """Hash the facts an entry was built from into a short, filesystem-safe key."""
    digest = hashlib.sha256("\0".join(str(part) for part in parts).encode("utf-8"))
    return digest.hexdigest()[:KEY_HEX_CHARS]


def prepare_data_root(data_root: str | os.PathLike | None) -> Path:
    """Create the data root and its cache folders, and prove they are writable.

    Why probe with a real file: permission bits lie (root ignores them, read-only mounts do not
    show in them), and failing here names the data root instead of failing later mid-download.
    """
    if data_root is None or not os.fspath(data_root).strip():
        raise DataError(f"the data root is empty: pass --data-root DIR or set {ENV_DATA_ROOT}")
    root = Path(os.fspath(data_root)).expanduser()
    if root.exists() and not root.is_dir():
        raise DataError(f"data root {root} is not a directory")
    try:
        for name in CACHE_DIRS:
            (root / name).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root / INDEX_DIR):
            pass
    except OSError as exc:
        raise DataError(f"data root {root} is not writable: {exc.strerror or exc}") from None
    _remove_stale_temp_files(root)
    return root.resolve()


def _remove_stale_temp_files(root: Path) -> None:
    """Delete temp files left by writers that were killed before they could clean up."""
    cutoff = time.time() - STALE_TEMP_AGE_S
    for name in CACHE_DIRS:
        for entry in os.scandir(root / name):
            if entry.name.startswith(".") and TEMP_MARKER in entry.name and entry.is_file():
                try:
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                except OSError:
                    continue


def index_path(root: Path, key: str) -> Path:
    return root / INDEX_DIR / f"{key}.json.gz"


def split_path(root: Path, key: str) -> Path:
    return root / SPLIT_DIR / f"{key}.json"


def download_path(root: Path, key: str, suffix: str) -> Path:
    return root / DOWNLOAD_DIR / f"{key}{suffix}"


def source_record_path(root: Path, uri: str) -> Path:
    return root / SOURCE_DIR / f"{cache_key('source-record', uri)}.json"


def write_json(path: Path, payload: Any) -> None:
    """Write a small JSON cache entry atomically."""
    atomic_write_bytes(path, json.dumps(payload, sort_keys=True).encode("utf-8"))


def read_json(path: Path) -> Any:
    """Read a small JSON cache entry; a missing file raises FileNotFoundError, a torn one CorruptCacheError."""
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise CorruptCacheError(f"{path}: {exc}") from exc
