"""The population map: the latent space reduced to two dimensions (t-SNE, UMAP or PCA).

Why t-SNE by default: on a first ``analyze`` UMAP spends most of its time importing numba and
compiling its kernels (tens of seconds on 2 cores before the first epoch); scikit-learn's
Barnes-Hut t-SNE is compiled ahead of time, and at 500 iterations its map of the validation
split is at least as trustworthy and separates the classes as cleanly (the bench's
``projection`` section measures all three cold, on the same vectors, with both figures).

Why PCA first: UMAP's nearest-neighbour search and t-SNE both scale with the input width;
the latent vectors (64 wide for the word models, 384 for BERT) keep nearly all their
variance in a few dozen principal components, so the neighbour graph is built on those.
UMAP runs with a fixed seed (one thread, reproducible maps), PCA initialisation instead of
the spectral one (which dominates the run time on tens of thousands of points), and fewer
epochs on large inputs: the map is for looking at, not for downstream distances.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings

import numpy as np

from imdb.tools.report.settings import DEFAULT_PROJECTION, PROJECTIONS

LOG = logging.getLogger(__name__)

MAP_DIMENSIONS = 2
PRE_REDUCTION_DIMENSIONS = 32
UMAP_NEIGHBOURS = 15
UMAP_MIN_DISTANCE = 0.1
# UMAP's own default is 200 epochs above 10,000 points and 500 below; 200 everywhere keeps
# small runs (tests) quick and large runs within the time budget.
UMAP_EPOCHS = 200
TSNE_PERPLEXITY = 30.0
# scikit-learn's default is 1,000; the map's neighbourhoods have settled by 500 (the bench's
# trustworthiness is the same to three decimals) at half the time.
TSNE_ITERATIONS = 500
# UMAP, t-SNE and the neighbour search need more points than neighbours.
MIN_POINTS_FOR_MANIFOLD = UMAP_NEIGHBOURS + 2


def reduce(latent: np.ndarray, dimensions: int = PRE_REDUCTION_DIMENSIONS, *, seed: int) -> np.ndarray:
    """Principal components of the latent vectors (unchanged when already narrow enough)."""
    from sklearn.decomposition import PCA

    limit = min(dimensions, latent.shape[0], latent.shape[1])
    if latent.shape[1] <= limit:
        return latent.astype(np.float32)
    return PCA(n_components=limit, random_state=seed).fit_transform(latent).astype(np.float32)


def project(reduced: np.ndarray, method: str = DEFAULT_PROJECTION, *, seed: int, progress: bool = False) -> np.ndarray:
    """``(n, 2)`` map coordinates of the (PCA-reduced) latent vectors; ``progress`` shows UMAP's
    epoch bar and t-SNE's log."""
    if method not in PROJECTIONS:
        raise ValueError(f"projection must be one of {', '.join(PROJECTIONS)}, got {method!r}")
    if method == "pca" or len(reduced) < MIN_POINTS_FOR_MANIFOLD:
        if method != "pca":
            LOG.warning("%d samples are too few for %s; using PCA for the map", len(reduced), method)
        return _pca_map(reduced, seed)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(TSNE_PERPLEXITY, (len(reduced) - 1) / 3)
        with contextlib.redirect_stdout(sys.stderr):
            return TSNE(MAP_DIMENSIONS, perplexity=perplexity, init="pca", max_iter=TSNE_ITERATIONS,
                        random_state=seed, verbose=int(progress)).fit_transform(reduced).astype(np.float32)
    return _umap(reduced, seed, progress)


def warm_imports(method: str) -> None:
    """Import what ``method`` needs, so a caller can time the import apart from the fit."""
    if method == "umap":
        import umap  # noqa: F401
    else:
        import sklearn.decomposition  # noqa: F401
        import sklearn.manifold  # noqa: F401


def _pca_map(reduced: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    coords = PCA(n_components=min(MAP_DIMENSIONS, reduced.shape[1]), random_state=seed).fit_transform(reduced)
    if coords.shape[1] < MAP_DIMENSIONS:
        coords = np.pad(coords, ((0, 0), (0, MAP_DIMENSIONS - coords.shape[1])))
    return coords.astype(np.float32)


def _umap(reduced: np.ndarray, seed: int, progress: bool) -> np.ndarray:
    import umap

    reducer = umap.UMAP(n_components=MAP_DIMENSIONS, n_neighbors=UMAP_NEIGHBOURS, min_dist=UMAP_MIN_DISTANCE,
                        n_epochs=UMAP_EPOCHS, init="pca", low_memory=True, random_state=seed, verbose=progress,
                        tqdm_kwds={"desc": "UMAP epochs", "disable": not progress})
    # UMAP's verbose log goes to stdout, which belongs to the command's JSON result line.
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        # A fixed seed makes UMAP single-threaded, which it announces on every run.
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        return reducer.fit_transform(reduced).astype(np.float32)
