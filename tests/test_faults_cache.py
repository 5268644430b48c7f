"""Cache faults: disk full, read-only cache, corrupt entries, temp files of killed writers.

Disk full and read-only are tested twice: portably, by making the write path raise the errno
part-way through a real write (ENOSPC after some bytes, EROFS on create); and for real, with
tiny or read-only tmpfs mounts in a private mount namespace (``unshare --mount``), where the
kernel itself refuses the writes. The chmod route is useless here: tests run as root, which
ignores permission bits. Every failure must be a DataError naming the file and its directory,
leave no partial or temp file, and the next run with room must load identical data.
"""

from __future__ import annotations

import errno
import gzip
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from faults_helpers import Staged, assert_only_complete_entries, cache_files, corpus_digest, temp_files
from imdb.data import DataError, load_corpus
from imdb.contract import files as files_module
from imdb.data import cache as cache_module
from imdb.data import gcs as gcs_module
from imdb.data import index as index_module
from imdb.data.cache import (DOWNLOAD_DIR, INDEX_DIR, PARTIAL_SUFFIX, SOURCE_DIR, SPLIT_DIR, CacheWriteError,
                             cache_file, prepare_data_root)

HELPERS = Path(__file__).with_name("faults_helpers.py")
REPO_ROOT = Path(__file__).resolve().parents[1]
# Bytes a patched writer lets through before the disk is "full": part of the file is written.
PARTIAL_BYTES = 50_000
TMPFS_WORKER_TIMEOUT_S = 120
NO_SPACE = "No space left on device"
READ_ONLY = "Read-only file system"


def _no_space() -> OSError:
    return OSError(errno.ENOSPC, NO_SPACE)


@pytest.fixture
def sample_tarball(layout_sample, tmp_path: Path) -> Path:
    return layout_sample.write_tarball(tmp_path / "source" / "aclImdb-sample.tar.gz")


def test_disk_full_during_download(staged: Staged, gcs_server, fresh_root: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write = gcs_module._ProgressWriter.write
    written = {"bytes": 0}

    def filling(self: Any, data: bytes) -> int:
        if written["bytes"] + len(data) > PARTIAL_BYTES:
            raise _no_space()
        written["bytes"] += len(data)
        return write(self, data)

    monkeypatch.setattr(gcs_module._ProgressWriter, "write", filling)
    with pytest.raises(DataError, match=rf"cannot write the cache file \w+\.tar\.gz in "
                                        rf"{fresh_root.resolve() / DOWNLOAD_DIR}: {NO_SPACE}") as caught:
        load_corpus(staged.tarball_uri, fresh_root)
    assert isinstance(caught.value, CacheWriteError) and caught.value.errno == errno.ENOSPC
    assert written["bytes"] > 0, "the download never started writing"
    assert list((fresh_root / DOWNLOAD_DIR).iterdir()) == [] and list((fresh_root / INDEX_DIR).iterdir()) == []
    assert_only_complete_entries(fresh_root)

    monkeypatch.undo()
    assert corpus_digest(load_corpus(staged.tarball_uri, fresh_root)) == staged.tarball_digest
    assert_only_complete_entries(fresh_root)


def test_disk_full_while_writing_the_index(sample_tarball: Path, fresh_root: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    reference = corpus_digest(load_corpus(sample_tarball, tmp_path / "reference"))
    real_open = gzip.open

    class Filling:
        """A gzip writer whose disk fills after PARTIAL_BYTES of compressed output."""

        def __init__(self, path: Path, *args: Any, **kwargs: Any) -> None:
            self._path = Path(path)
            self._handle = real_open(path, *args, **kwargs)

        def __enter__(self) -> Filling:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

        def write(self, data: bytes) -> int:
            for start in range(0, len(data), PARTIAL_BYTES // 4):
                self._handle.write(data[start:start + PARTIAL_BYTES // 4])
                self._handle.flush()
                if self._path.stat().st_size >= PARTIAL_BYTES:
                    raise _no_space()
            return len(data)

    monkeypatch.setattr(index_module.gzip, "open", Filling)
    with pytest.raises(DataError, match=rf"cannot write the cache file \w+\.json\.gz in "
                                        rf"{fresh_root.resolve() / INDEX_DIR}: {NO_SPACE}"):
        load_corpus(sample_tarball, fresh_root)
    assert list((fresh_root / INDEX_DIR).iterdir()) == []
    assert_only_complete_entries(fresh_root)

    monkeypatch.undo()
    assert corpus_digest(load_corpus(sample_tarball, fresh_root)) == reference
    assert_only_complete_entries(fresh_root)


def test_disk_full_while_writing_the_split_or_at_fsync(sample_tarball: Path, fresh_root: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The last writes of a load (the split's JSON; the fsync that makes a file durable) fail too."""
    reference = corpus_digest(load_corpus(sample_tarball, tmp_path / "reference"))
    write_bytes = Path.write_bytes

    def half_then_full(self: Path, data: bytes) -> int:
        if self.name.endswith(PARTIAL_SUFFIX) and self.parent.name == SPLIT_DIR:
            write_bytes(self, data[:len(data) // 2])
            raise _no_space()
        return write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", half_then_full)
    with pytest.raises(DataError, match=rf"cannot write the cache file \w+\.json in "
                                        rf"{fresh_root.resolve() / SPLIT_DIR}: {NO_SPACE}"):
        load_corpus(sample_tarball, fresh_root)
    monkeypatch.undo()
    assert list((fresh_root / SPLIT_DIR).iterdir()) == []
    assert_only_complete_entries(fresh_root)

    other_root = tmp_path / "fsync"

    def failing_fsync(_fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(cache_module.os, "fsync", failing_fsync)
    with pytest.raises(DataError, match=rf"cannot write the cache file \w+\.json\.gz in "
                                        rf"{other_root.resolve() / INDEX_DIR}: Input/output error"):
        load_corpus(sample_tarball, other_root)
    monkeypatch.undo()
    assert cache_files(other_root) == []
    assert corpus_digest(load_corpus(sample_tarball, fresh_root)) == reference


def test_cache_turning_read_only(sample_tarball: Path, staged: Staged, gcs_server, fresh_root: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The data root passed its writability probe, then the file system went read-only (as an
    ext4 does after an I/O error): every later write names its file and directory."""
    def read_only(*_args: Any) -> Any:
        raise OSError(errno.EROFS, READ_ONLY)

    root = prepare_data_root(fresh_root)
    monkeypatch.setattr(files_module, "_create_temp", read_only)
    with pytest.raises(DataError, match=rf"cannot write the cache file \w+\.json\.gz in {root / INDEX_DIR}: "
                                        rf"{READ_ONLY}; make room or fix permissions there, or set IMDB_DATA_ROOT"):
        load_corpus(sample_tarball, root)
    with pytest.raises(DataError, match=rf"cannot write the cache file \w+\.json in {root / SOURCE_DIR}: "
                                        rf"{READ_ONLY}"):
        load_corpus(staged.tarball_uri, root)
    assert cache_files(root) == []


def test_every_cache_entry_corrupt_at_once(staged: Staged, gcs_server, fresh_root: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """A truncated download and index, a garbage split and source record: all are detected,
    rebuilt or fetched again, and the load is identical to a clean one."""
    load_corpus(staged.tarball_uri, fresh_root)
    for folder, damage in ((DOWNLOAD_DIR, lambda data: data[:len(data) // 3]),
                           (INDEX_DIR, lambda data: data[:len(data) // 2]),
                           (SPLIT_DIR, lambda _data: b'{"version": 1, "validation": ["not/an/id"]}'),
                           (SOURCE_DIR, lambda _data: b"\x00garbage")):
        (entry,) = (fresh_root / folder).iterdir()
        entry.write_bytes(damage(entry.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        assert corpus_digest(load_corpus(staged.tarball_uri, fresh_root)) == staged.tarball_digest
    assert "cached index is damaged" in caplog.text and "downloading it again" in caplog.text
    assert "does not match the index; computing it again" in caplog.text
    assert_only_complete_entries(fresh_root)
    assert json.loads(next((fresh_root / SOURCE_DIR).iterdir()).read_text())["uri"] == staged.tarball_uri


def test_temp_files_of_dead_writers_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    """A temp file whose writer's lock is free belongs to a killed writer and goes at the next
    start, whatever its age; one still locked by a live writer (here another descriptor, which
    flock treats like another process) is left alone, and its writer finishes normally."""
    root = prepare_data_root(tmp_path / "root")
    abandoned = root / DOWNLOAD_DIR / f".abc.tar.gz.0123456789abcdef{PARTIAL_SUFFIX}"
    abandoned.write_bytes(b"half a download")
    target = root / INDEX_DIR / "entry.json"
    with cache_file(target) as live:
        live.write_bytes(b"being written")
        prepare_data_root(root)
        assert live.exists()
        assert not abandoned.exists()
    assert target.read_bytes() == b"being written"
    assert temp_files(root) == []


def _can_mount_privately(folder: Path) -> str | None:
    """Why real tmpfs mounts cannot be used here, or None when they can (probed on ``folder``,
    in a throwaway mount namespace)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "the unshare and mount commands are not installed"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "mount", "-t", "tmpfs",
                            "-o", "size=4k", "tmpfs", str(folder)], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"no private mount namespace with tmpfs here: {probe.stderr.strip()}"
    return None


@pytest.fixture(scope="module")
def tmpfs_report(staged: Staged, layout_sample, gcs_server,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the real disk-full / read-only scenarios once, in a child with its own mount namespace."""
    base = tmp_path_factory.mktemp("tmpfs")
    reason = _can_mount_privately(base)
    if reason is not None:
        pytest.fail(f"real ENOSPC/EROFS scenarios need tmpfs mounts in a private mount namespace ({reason}): "
                    f"run the tests as root with util-linux's unshare and mount", pytrace=False)
    tarball = layout_sample.write_tarball(base / "aclImdb-sample.tar.gz")
    report = base / "report.json"
    command = ["unshare", "--mount", "--propagation", "private", sys.executable, str(HELPERS), "tmpfs",
               staged.tarball_uri, str(tarball), str(base), str(report)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TMPFS_WORKER_TIMEOUT_S, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(report.read_text())
    logging.getLogger(__name__).info("tmpfs scenarios: %s",
                                     {name: (result.get("error", "ok"), result["seconds"])
                                      for name, result in results.items()})
    return results


def test_real_disk_full_during_download_then_index_then_room(tmpfs_report: dict[str, Any],
                                                             staged: Staged) -> None:
    during_download = tmpfs_report["full_during_download"]
    assert during_download["error_type"] == "CacheWriteError"
    assert f"/full/root/{DOWNLOAD_DIR}: {NO_SPACE}" in during_download["error"]
    assert [name for name in during_download["files"] if not name.startswith(SOURCE_DIR)] == []

    during_index = tmpfs_report["full_during_index"]
    assert during_index["error_type"] == "CacheWriteError"
    assert f"/full/root/{INDEX_DIR}: {NO_SPACE}" in during_index["error"]
    kept = [name for name in during_index["files"] if not name.startswith(SOURCE_DIR)]
    assert len(kept) == 1 and kept[0].startswith(f"{DOWNLOAD_DIR}/") and not Path(kept[0]).name.startswith(".")

    with_room = tmpfs_report["full_then_room"]
    assert with_room["digest"] == staged.tarball_digest
    assert not [name for name in with_room["files"] if Path(name).name.startswith(".")]


def test_real_read_only_cache(tmpfs_report: dict[str, Any]) -> None:
    at_start = tmpfs_report["read_only_at_start"]
    assert f"/read-only/root is not writable: {READ_ONLY}" in at_start["error"] and at_start["files"] == []

    midway = tmpfs_report["read_only_midway"]
    assert midway["error_type"] == "CacheWriteError"
    assert f"/midway/root/{INDEX_DIR}: {READ_ONLY}" in midway["error"]
    assert not [name for name in midway["files"] if name.startswith(INDEX_DIR) or Path(name).name.startswith(".")]
    again = tmpfs_report["read_only_midway_then_rw"]
    assert "digest" in again

    # A warm cache on a read-only mount is refused at the start, naming the data root (the
    # data root must be writable; see the report).
    warm = tmpfs_report["warm_cache_read_only"]
    assert f"/midway/root is not writable: {READ_ONLY}" in warm["error"]
