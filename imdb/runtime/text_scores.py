"""The corpus's text-only scores (sentiment, readability): computed once, in parallel, shared.

Why: Tensorleap calls metadata once per sample, over and over, in several processes started
together. The text-only scores are the expensive part (~11 ms a review), so they are computed
for a whole batch of reviews at once (the served ids of a split), spread over every core by
worker processes (``imdb.runtime.text_scoring``), and persisted as one JSON file under the data
root. An exclusive lock on a file beside it makes the first process compute while the others
wait and then read what it wrote, so each review is scored once across all processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Protocol, Sequence

from tqdm.auto import tqdm

from imdb.data.cache import cache_file
from imdb.runtime import text_scoring
from imdb.runtime.text_scoring import SCORE_NAMES

LOG = logging.getLogger(__name__)
# Bump when a score's computation changes, so old cache files are not reused.
TEXT_SCORES_VERSION = 2
LOCK_SUFFIX = ".lock"
WORKERS_ENV = "IMDB_METADATA_WORKERS"
# Below this many reviews a worker's start-up (~1 s of imports) costs more than it saves.
MIN_REVIEWS_PER_WORKER = 64
# Chunks per worker: enough for an even finish and a moving progress bar, few enough that
# the workers' start-up stays small next to the scoring.
CHUNKS_PER_WORKER = 4
WORKER_MODULE = text_scoring.__name__
_STDERR_TAIL = 2000


class _Review(Protocol):
    sample_id: str
    text: str


class TextScoreError(RuntimeError):
    """A scoring worker failed; the message names the chunk and carries its error output."""


def text_scores_name(content_key: str) -> str:
    """File name of a corpus's text scores: the corpus's content key and the scores' version."""
    return f"text-scores-v{TEXT_SCORES_VERSION}-{content_key}.json"


def default_workers() -> int:
    """``$IMDB_METADATA_WORKERS``, else the cores this process may run on."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{WORKERS_ENV}={raw!r} is not a whole number of worker processes") from None
        if value < 1:
            raise ValueError(f"{WORKERS_ENV}={raw!r} must be at least 1")
        return value
    return len(os.sched_getaffinity(0))


class TextScores:
    """Scores per sample id (``SCORE_NAMES`` order), filled in batches and persisted as one file."""

    def __init__(self, path: Path, workers: int | None = None) -> None:
        self.path = path
        self.workers = workers
        self._scores: dict[str, tuple[float, ...]] = self._read()
        # How many reviews this process scored itself (the rest came from the shared file).
        self.computed_in_process = 0

    def __contains__(self, sample_id: str) -> bool:
        return sample_id in self._scores

    def __getitem__(self, sample_id: str) -> tuple[float, ...]:
        return self._scores[sample_id]

    def _read(self) -> dict[str, tuple[float, ...]]:
        if not self.path.exists():
            return {}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if document["columns"] != list(SCORE_NAMES):
                raise ValueError(f"columns {document['columns']} are not {list(SCORE_NAMES)}")
            return {key: tuple(float(value) for value in row) for key, row in document["scores"].items()}
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            LOG.warning("text scores %s are corrupt (%s); recomputing them", self.path, exc)
            return {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive across processes: one computes, the others wait, then find its results."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + LOCK_SUFFIX), "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def ensure(self, reviews: Sequence[_Review], *, progress: bool = True, workers: int | None = None) -> None:
        """Score every review not yet scored (here or by another process), then persist once."""
        if all(review.sample_id in self._scores for review in reviews):
            return
        with self._locked():
            self._scores.update(self._read())
            missing = [review for review in reviews if review.sample_id not in self._scores]
            if not missing:
                return
            rows = score_in_workers([review.text for review in missing],
                                    workers or self.workers or default_workers(), progress=progress)
            for review, row in zip(missing, rows, strict=True):
                self._scores[review.sample_id] = row
            self.computed_in_process += len(missing)
            self._save()

    def _save(self) -> None:
        """Written like every cache entry: locked temp file, fsync, rename; a full or read-only
        disk becomes a CacheWriteError naming the file."""
        document = {"columns": list(SCORE_NAMES), "scores": self._scores}
        with cache_file(self.path) as temp:
            temp.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")


def score_in_workers(texts: Sequence[str], workers: int, *, progress: bool = True) -> list[tuple[float, ...]]:
    """Score rows for ``texts`` in their order: in this process when few, else in ``workers``
    fresh interpreters running ``imdb.runtime.text_scoring`` on contiguous chunks."""
    usable = min(workers, math.ceil(len(texts) / MIN_REVIEWS_PER_WORKER))
    bar = tqdm(total=len(texts), desc="text scores (sentiment, readability)", unit="review",
               disable=not progress or not texts)
    try:
        if usable <= 1:
            rows = []
            for text in texts:
                rows.append(text_scoring.score_text(text))
                bar.update()
            return rows
        return _run_chunks(texts, usable, bar)
    finally:
        bar.close()


def _chunks(count: int, parts: int) -> list[range]:
    size = math.ceil(count / parts)
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def _worker_env() -> dict[str, str]:
    """The parent's environment, with this ``imdb`` package first on the import path (a pushed
    bundle is not installed, so the worker must find it where the parent did)."""
    env = dict(os.environ)
    package_root = str(Path(text_scoring.__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


def _run_chunks(texts: Sequence[str], workers: int, bar: tqdm) -> list[tuple[float, ...]]:
    chunks = _chunks(len(texts), workers * CHUNKS_PER_WORKER)
    results: dict[int, list[tuple[float, ...]]] = {}
    with tempfile.TemporaryDirectory(prefix="imdb-text-scores-") as scratch:
        pending = list(enumerate(chunks))
        running: dict[int, tuple[subprocess.Popen, Path, Path]] = {}
        env = _worker_env()
        try:
            while pending or running:
                while pending and len(running) < workers:
                    number, chunk = pending.pop(0)
                    running[number] = _start(Path(scratch), number, [texts[i] for i in chunk], env)
                number = min(running)  # chunks are equal: the earliest started finishes first
                process, output, errors = running.pop(number)
                process.wait()
                results[number] = _collect(process, output, errors, number)
                bar.update(len(chunks[number]))
        finally:
            for process, _, _ in running.values():
                process.kill()
                process.wait()
    return [tuple(row) for number in range(len(chunks)) for row in results[number]]


def _start(scratch: Path, number: int, texts: list[str],
           env: dict[str, str]) -> tuple[subprocess.Popen, Path, Path]:
    source, output, errors = (scratch / f"{kind}-{number}.json" for kind in ("chunk", "scores", "errors"))
    source.write_text(json.dumps(texts), encoding="utf-8")
    with open(errors, "wb") as error_file:
        process = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, str(source), str(output)], env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=error_file)
    return process, output, errors


def _collect(process: subprocess.Popen, output: Path, errors: Path, number: int) -> list[list[float]]:
    if process.returncode != 0 or not output.exists():
        stderr = errors.read_text(encoding="utf-8", errors="replace")
        raise TextScoreError(f"text-score worker for chunk {number} exited with status {process.returncode}: "
                             f"{stderr[-_STDERR_TAIL:].strip() or 'no error output'}")
    return json.loads(output.read_text(encoding="utf-8"))
