"""Process faults: two processes filling one cache at once, and a download killed with SIGKILL.

The platform runs the integration in several processes over one data root and kills them at
will. Cache entries are replaced whole (temp file + rename), so concurrent writers cannot tear
a file; each writer locks its temp file, so the next start can tell a killed writer's leftover
(removed) from a live writer's file (kept).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from faults_helpers import (GO_FILE, THROTTLE, FaultProxy, Staged, cache_files, corpus_digest, direct_client,
                            put_objects, temp_files)
from imdb.data import load_corpus
from imdb.data import cache as cache_module
from imdb.data.cache import DOWNLOAD_DIR, INDEX_DIR, PARTIAL_SUFFIX, SOURCE_DIR, SPLIT_DIR, cache_file, prepare_data_root
from imdb.data.gcs import ObjectInfo, file_mismatch
from imdb.data.index import load_index

HELPERS = Path(__file__).with_name("faults_helpers.py")
REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_BUCKET = "imdb-faults-real"
REAL_PREFIX = "train"
WORKERS = 2
# Two cold loads of the 25,000-review tarball share two busy cores; each takes ~15 s alone.
WORKER_TIMEOUT_S = 240
SHARED_THROTTLE_BPS = 30_000_000
# The killed download: the sample tarball (164 KB) sent at 48 KB/s takes ~3.4 s; the worker is
# killed once a quarter of it is on disk.
THROTTLE_BPS = 48_000
KILL_AFTER_BYTES = 40_000
KILL_WAIT_S = 60.0
POLL_S = 0.05
# Writers racing a process that sweeps temp files without pause.
RACE_WRITERS = 2
RACE_WRITES = 400
RACE_ENTRIES = 5
RACE_PAYLOAD = b"complete entry " * 100
RACE_DEADLINE_S = 60.0


def _spawn(uri: str, root: Path, report: Path, environment: dict[str, str],
           barrier: Path | None = None) -> subprocess.Popen[bytes]:
    extra = [str(barrier)] if barrier is not None else []
    return subprocess.Popen([sys.executable, str(HELPERS), "load", uri, str(root), str(report), *extra],
                            cwd=REPO_ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _release_when_ready(barrier: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    """Let the workers start their loads together, once all have imported everything."""
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while len(list(barrier.glob("ready-*"))) < len(processes) and time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            break
        time.sleep(POLL_S)
    (barrier / GO_FILE).touch()


def _environment(proxy: FaultProxy) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update({"STORAGE_EMULATOR_HOST": proxy.url, "PYTHONPATH": str(REPO_ROOT)})
    return environment


def _finish(process: subprocess.Popen[bytes]) -> str:
    try:
        _, stderr = process.communicate(timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"worker {process.pid} did not finish in {WORKER_TIMEOUT_S} s: {stderr.decode()[-2000:]}")
    return stderr.decode(errors="replace")


def test_two_processes_fill_one_cache_with_the_real_tarball(imdb_tarball: Path, gcs_server,
                                                            fault_proxy: FaultProxy, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Both cold-load the real 25,000-review tarball from the bucket into one data root at the
    same instant: both download it, index it and write the split and source record over each other."""
    monkeypatch.setenv("IMDB_GCS_TIMEOUT", "30")
    object_name = f"{REAL_PREFIX}/{imdb_tarball.name}"
    put_objects(direct_client(gcs_server.url), REAL_BUCKET, {object_name: imdb_tarball.read_bytes()})
    uri = f"gs://{REAL_BUCKET}/{REAL_PREFIX}"
    root = tmp_path / "shared-root"
    reports = [tmp_path / f"worker-{number}.json" for number in range(WORKERS)]
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    # A little slower than loopback, so that both downloads are surely in flight at once.
    fault_proxy.inject(THROTTLE, rate_bps=SHARED_THROTTLE_BPS, times=WORKERS)
    processes = [_spawn(uri, root, report, _environment(fault_proxy), barrier) for report in reports]
    _release_when_ready(barrier, processes)
    for process in processes:
        stderr = _finish(process)
        assert process.returncode == 0, stderr[-3000:]
    results: list[dict[str, Any]] = [json.loads(report.read_text()) for report in reports]
    assert all("digest" in result for result in results), [result.get("error") for result in results]

    first, second = results
    assert first["digest"] == second["digest"]
    assert first["digest"]["n"] == 25_000
    overlap = min(first["ended"], second["ended"]) - max(first["started"], second["started"])
    assert overlap > 0, "the two loads did not run at the same time"
    downloads = [exchange for exchange in fault_proxy.media() if exchange.status == 200]
    assert len(downloads) == WORKERS, "each process should have downloaded the tarball itself"

    # The cache ends valid: one verified download, one complete index, no temp files, and a
    # third (warm) load yields the same reviews.
    assert temp_files(root) == []
    (download,) = (root / DOWNLOAD_DIR).iterdir()
    blob = direct_client(gcs_server.url).bucket(REAL_BUCKET).get_blob(object_name)
    assert file_mismatch(download, ObjectInfo.of(blob)) is None
    (index_file,) = (root / INDEX_DIR).iterdir()
    assert len(load_index(index_file, index_file.name.removesuffix(".json.gz"))) == 25_000
    assert len(list((root / SPLIT_DIR).iterdir())) == 1 and len(list((root / SOURCE_DIR).iterdir())) == 1
    started = time.perf_counter()
    assert corpus_digest(load_corpus(uri, root)) == first["digest"]
    logging.getLogger(__name__).info("two processes: %.1f s and %.1f s, overlapping %.1f s; warm load %.2f s",
                                     first["seconds"], second["seconds"], overlap, time.perf_counter() - started)


def test_download_killed_midway_then_rerun(staged: Staged, fault_proxy: FaultProxy, fresh_root: Path,
                                           tmp_path: Path) -> None:
    """A worker downloading through a throttled proxy is SIGKILLed with part of the object on
    disk; the next run removes the leftover, downloads again and loads identical data."""
    fault_proxy.inject(THROTTLE, rate_bps=THROTTLE_BPS)
    worker = _spawn(staged.tarball_uri, fresh_root, tmp_path / "killed.json", _environment(fault_proxy))
    partial = None
    deadline = time.monotonic() + KILL_WAIT_S
    try:
        while time.monotonic() < deadline and worker.poll() is None:
            candidates = list((fresh_root / DOWNLOAD_DIR).glob(f".*{PARTIAL_SUFFIX}")) \
                if (fresh_root / DOWNLOAD_DIR).is_dir() else []
            if candidates and candidates[0].stat().st_size >= KILL_AFTER_BYTES:
                partial = candidates[0]
                break
            time.sleep(POLL_S)
    finally:
        worker.send_signal(signal.SIGKILL)
        _, stderr = worker.communicate(timeout=WORKER_TIMEOUT_S)
    assert partial is not None, f"the download never got under way: {stderr.decode()[-2000:]}"
    assert worker.returncode == -signal.SIGKILL
    left_behind = partial.stat().st_size
    assert 0 < left_behind < len(staged.tarball)
    assert [name for name in cache_files(fresh_root) if name.startswith((DOWNLOAD_DIR, INDEX_DIR))] == \
        [str(partial.relative_to(fresh_root))], "only the killed writer's temp file may be there"

    fault_proxy.clear()
    started = time.perf_counter()
    assert corpus_digest(load_corpus(staged.tarball_uri, fresh_root)) == staged.tarball_digest
    rerun_s = time.perf_counter() - started
    assert not partial.exists()
    assert temp_files(fresh_root) == []
    (download,) = (fresh_root / DOWNLOAD_DIR).iterdir()
    assert download.read_bytes() == staged.tarball
    logging.getLogger(__name__).info("killed with %d of %d bytes on disk; rerun %.2f s", left_behind,
                                     len(staged.tarball), rerun_s)


def _write_entries(root: Path, writes: int) -> None:
    for number in range(writes):
        with cache_file(root / INDEX_DIR / f"entry-{number % RACE_ENTRIES}.json") as temp:
            temp.write_bytes(RACE_PAYLOAD + str(number).encode())


def _sweep(root: Path, stop: Any, deadline: float) -> None:
    while not stop.is_set() and time.monotonic() < deadline:
        cache_module._remove_abandoned_temp_files(root)


def test_sweeping_never_removes_a_live_writers_file(tmp_path: Path) -> None:
    """Every start sweeps temp files whose writer is gone; one process doing nothing but that
    while two others write must never make a writer fail or leave a torn entry (the sweep can
    only win the instant between a temp file's creation and its lock, which the writer notices)."""
    root = prepare_data_root(tmp_path / "root")
    # fork: the children inherit the imported modules and start at once.
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    deadline = time.monotonic() + RACE_DEADLINE_S
    sweeper = context.Process(target=_sweep, args=(root, stop, deadline))
    writers = [context.Process(target=_write_entries, args=(root, RACE_WRITES)) for _ in range(RACE_WRITERS)]
    sweeper.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=RACE_DEADLINE_S)
    stop.set()
    sweeper.join(timeout=RACE_DEADLINE_S)
    assert [writer.exitcode for writer in writers] == [0] * RACE_WRITERS and sweeper.exitcode == 0
    entries = sorted((root / INDEX_DIR).iterdir())
    assert [entry.name for entry in entries] == [f"entry-{number}.json" for number in range(RACE_ENTRIES)]
    assert all(entry.read_bytes().startswith(RACE_PAYLOAD) for entry in entries)
    assert temp_files(root) == []
