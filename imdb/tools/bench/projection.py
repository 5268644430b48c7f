"""The ``projection`` section: the population map's methods side by side, each in a fresh process.

Why a fresh process per method: what a user waits for on a first ``analyze`` is the import and
the first fit together — UMAP's cost is mostly numba compiling its kernels on first use, which a
process that already ran it would hide. Every method maps the same PCA-reduced latent vectors of
the analysed split, and two figures say how readable each map is, so a faster method is never
bought with a worse picture: ``trustworthiness`` (scikit-learn; 1.0 when every point's map
neighbours are its neighbours in the latent space) and ``neighbour_label_agreement`` (the share
of each point's map neighbours that carry its label: how cleanly the classes separate on screen).

Run as ``python -m imdb.tools.bench.projection METHOD VECTORS.npz`` it maps one method and prints
its JSON line; ``bench_projection`` drives it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from imdb.contract.config import Config
from imdb.runtime.pipeline import Pipeline

SPLIT = "validation"
# Neighbours compared between the latent space and the map (UMAP's own neighbourhood size).
NEIGHBOURS = 15
# What a first ``analyze`` of the validation split may spend on the map (issue #22's ceiling).
FIRST_RUN_CEILING_S = 10.0
METHOD_TIMEOUT_S = 900
ROUND = 4
SECONDS_ROUND = 2


def map_quality(vectors: np.ndarray, coords: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Trustworthiness of the map and the share of map neighbours that share the point's label."""
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import NearestNeighbors

    neighbours = min(NEIGHBOURS, len(coords) // 2 - 1)
    index = NearestNeighbors(n_neighbors=neighbours + 1).fit(coords).kneighbors(coords, return_distance=False)[:, 1:]
    agreement = float(np.mean(labels[index] == labels[:, None]))
    return {"trustworthiness": round(float(trustworthiness(vectors, coords, n_neighbors=neighbours)), ROUND),
            "neighbour_label_agreement": round(agreement, ROUND)}


def _one_method(method: str, vectors_file: Path) -> dict[str, Any]:
    """Map the vectors with ``method`` in this (fresh) process: import and fit timed apart."""
    started = time.perf_counter()
    from imdb.tools.report import projection

    projection.warm_imports(method)
    imported = time.perf_counter()
    data = np.load(vectors_file)
    coords = projection.project(data["vectors"], method, seed=int(data["seed"]))
    fitted = time.perf_counter()
    return {"import_s": round(imported - started, SECONDS_ROUND), "fit_s": round(fitted - imported, SECONDS_ROUND),
            "first_run_s": round(fitted - started, SECONDS_ROUND),
            **map_quality(data["vectors"], coords, data["labels"])}


def bench_projection(config: Config, pipeline: Pipeline, limit: int | None) -> dict[str, Any]:
    """Every projection of the analysed split's latent map, cold, with its readability figures."""
    import tempfile

    from imdb.models.loading import load_keras_model
    from imdb.tools.report import projection
    from imdb.tools.report.latent import extract
    from imdb.tools.report.settings import DEFAULT_PROJECTION, PROJECTIONS

    ids = pipeline.split_ids(SPLIT, limit)
    outputs = extract(pipeline, load_keras_model(config, pipeline.labels), ids, progress=False)
    labels = np.array([int(np.argmax(pipeline.ground_truth(i))) for i in ids])
    vectors = projection.reduce(outputs.latent, seed=config.seed)
    result: dict[str, Any] = {"split": SPLIT, "samples": len(ids), "dimensions": int(vectors.shape[1]),
                              "default": DEFAULT_PROJECTION, "first_run_ceiling_s": FIRST_RUN_CEILING_S}
    with tempfile.TemporaryDirectory(prefix="imdb-projection-") as scratch:
        vectors_file = Path(scratch) / "vectors.npz"
        np.savez(vectors_file, vectors=vectors, labels=labels, seed=config.seed)
        for method in PROJECTIONS:
            result[method] = _fresh_process(method, vectors_file, Path(scratch) / method)
    result["default_within_ceiling"] = result[DEFAULT_PROJECTION]["first_run_s"] <= FIRST_RUN_CEILING_S
    return result


def _fresh_process(method: str, vectors_file: Path, numba_cache: Path) -> dict[str, Any]:
    """One method in a new interpreter with an empty numba cache, as on a first run."""
    import os

    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    completed = subprocess.run([sys.executable, "-m", __name__, method, str(vectors_file)], capture_output=True,
                               text=True, timeout=METHOD_TIMEOUT_S, env=env)
    if completed.returncode != 0:
        raise RuntimeError(f"projection {method!r} failed in its own process: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(_one_method(sys.argv[1], Path(sys.argv[2]))))
