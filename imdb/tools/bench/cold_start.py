"""The ``cold_start`` section: the text scores (TextBlob, readability) of every served review,
labelled and unlabelled, computed cold serial and parallel in one run, then served from the
persisted cache to a later start.

Why a section of its own: the ``data`` section times the labelled splits the integration trains
and validates on; a source holding aclImdb's ``train/unsup/`` adds 50,000 reviews whose metadata
the unlabelled state needs as well, so its first start scores three times as many reviews. Both
runs score the same reviews, each into an empty score file, from one index built cold beforehand
(timed apart): the serial run in this process, the parallel one in a worker per core. The later
start is a fresh pipeline on the parallel run's data root: its warm index and its score file read
once, with no review scored again (``computed`` says so). Each run also reports the CPU seconds
it used (this process and its workers) and so how many cores it kept busy (``cores_busy``): on a
shared machine a parallel run that finds no free core is no faster than the serial one, and its
CPU time says what it would take where both cores are free.

Run as ``python -m imdb.tools.bench.cold_start [--limit N]`` it benches the configured corpus
(``IMDB_DATA``) alone and prints one JSON line; ``run_bench`` runs it as one of its sections.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from imdb.contract.config import Config
from imdb.data.cache import METADATA_DIR
from imdb.runtime.pipeline import Pipeline
from imdb.runtime.text_scores import MIN_REVIEWS_PER_WORKER, TextScores, default_workers, text_scores_name
from imdb.tools.bench.timing import Stopwatch, machine

# Issue 21's goal: train + unsup (75,000 reviews) scored cold in a minute on 2 cores.
TARGET_S = 60.0
TARGET_REVIEWS = 75_000
SERIAL_WORKERS = 1
INDEX_CACHE, SERIAL_SCORES = "cache", "serial-scores"
ROUND = 3
MS_PER_S = 1e3


def served_ids(pipeline: Pipeline, limit: int | None, seed: int) -> tuple[list[str], int]:
    """Every served id of every labelled split, then the unlabelled ones (``limit`` per state,
    the labelled label-balanced, the unlabelled the first of the corpus's seeded draw), and how
    many of them are unlabelled."""
    labelled = [sample_id for split in pipeline.corpus.splits for sample_id in pipeline.split_ids(split, limit)]
    unlabeled = pipeline.unlabeled_ids()
    if limit is not None and limit < len(unlabeled):
        unlabeled = sorted(random.Random(seed).sample(unlabeled, limit))
    return labelled + unlabeled, len(unlabeled)


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the scoring workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _score(path: Path, reviews: Sequence[Any], workers: int, progress: bool) -> tuple[dict[str, Any], TextScores]:
    scores = TextScores(path, workers=workers)
    cpu_before = _cpu_seconds()
    with Stopwatch() as watch:
        scores.ensure(reviews, progress=progress, workers=workers)
    cpu = _cpu_seconds() - cpu_before
    used = min(workers, max(1, len(reviews) // MIN_REVIEWS_PER_WORKER))
    return {"workers": workers, "worker_processes": used if used > 1 else 0, "scored": scores.computed_in_process,
            "seconds": round(watch.seconds, ROUND),
            "per_review_ms": round(watch.seconds / max(len(reviews), 1) * MS_PER_S, ROUND),
            "cpu_s": round(cpu, ROUND), "cores_busy": round(cpu / watch.seconds, 2) if watch.seconds else None}, scores


def _later_start(config: Config, ids: Sequence[str]) -> dict[str, Any]:
    """A fresh pipeline on the parallel run's data root: warm index, persisted scores, nothing scored."""
    later = Pipeline(config)
    with Stopwatch() as index_watch:
        corpus = later.corpus
    with Stopwatch() as scores_watch:
        scores = later.metadata_store.text_scores
        missing = [sample_id for sample_id in ids if sample_id not in scores]
        scores.ensure([corpus[sample_id] for sample_id in missing], progress=False)
    return {"index_s": round(index_watch.seconds, ROUND), "text_scores_s": round(scores_watch.seconds, ROUND),
            "seconds": round(index_watch.seconds + scores_watch.seconds, ROUND),
            "served_from_cache": len(ids) - len(missing), "computed": scores.computed_in_process}


def bench_cold_start(config: Config, workdir: Path, limit: int | None = None, *,
                     progress: bool = True) -> dict[str, Any]:
    """Cold index, then the text scores of every served review serial and parallel into empty
    score files, then a later start served by the parallel run's persisted file."""
    config = config.with_overrides(data_root=str(workdir / INDEX_CACHE))
    pipeline = Pipeline(config)
    with Stopwatch() as index_watch:
        corpus = pipeline.corpus
    ids, unlabeled = served_ids(pipeline, limit, config.seed)
    reviews = [corpus[sample_id] for sample_id in ids]
    name = text_scores_name(corpus.content_key)
    serial, serial_scores = _score(workdir / SERIAL_SCORES / name, reviews, SERIAL_WORKERS, progress)
    parallel, parallel_scores = _score(config.data_root / METADATA_DIR / name, reviews, default_workers(), progress)
    identical = all(serial_scores[sample_id] == parallel_scores[sample_id] for sample_id in ids)
    del serial_scores, parallel_scores
    per_target = parallel["seconds"] * TARGET_REVIEWS / max(len(ids), 1)
    return {
        "source": config.as_given("data"),
        "reviews": len(ids),
        "labelled": len(ids) - unlabeled,
        "unlabeled": unlabeled,
        "index_s": round(index_watch.seconds, ROUND),
        "serial": serial,
        "parallel": parallel,
        "parallel_speedup_ratio": round(serial["seconds"] / parallel["seconds"], 2) if parallel["seconds"] else None,
        "scores_identical": identical,
        "later_start": _later_start(config, ids),
        "target_s": TARGET_S,
        "target_reviews": TARGET_REVIEWS,
        "parallel_s_per_target_reviews": round(per_target, ROUND),
        "within_target": per_target <= TARGET_S,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """The section alone, on the configured corpus (``IMDB_DATA`` or the project config)."""
    from imdb.contract.config import load_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="N reviews per state (label-balanced) instead of all")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="imdb-bench-cold-start-") as scratch:
        start = machine()
        result = bench_cold_start(load_config(), Path(scratch), args.limit, progress=not args.no_progress)
    print(json.dumps({"machine": {"start": start, "end": machine()}, "cold_start": result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
