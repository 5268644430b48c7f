"""Clusters of the latent space, and what sets each apart (label mix, accuracy, loss, words).

k-means runs on the PCA-reduced latent vectors: it needs a number of clusters but always
partitions every sample, which suits "which regions does the model get wrong". HDBSCAN
finds density clusters without a number and leaves outliers as noise; it runs on the 2-D
map, where UMAP has already concentrated the neighbourhood structure (HDBSCAN on tens of
thousands of wider vectors is far slower and, on these latent spaces, merges almost
everything into one cluster).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imdb.tools.report.samples import Predictions, Samples
from imdb.tools.report.settings import CLUSTER_METHODS, DEFAULT_CLUSTER_METHOD, DEFAULT_CLUSTERS
from imdb.tools.report.words import TermCounts, distinctive_words

KMEANS_RESTARTS = 4
NOISE = -1
# HDBSCAN's smallest cluster: this share of the samples, but never fewer than the floor.
HDBSCAN_MIN_SHARE = 0.01
HDBSCAN_MIN_FLOOR = 10
# Metadata averaged per cluster in the table (dashboard names).
SUMMARY_FIELDS = ("text_word_count", "text_oov_count", "sentiment_lexicon_polarity",
                  "sentiment_lexicon_subjectivity", "review_rating", "text_truncated")


@dataclass(frozen=True)
class ClusterSummary:
    """One row of the cluster table."""

    cluster: int
    size: int
    label_share: dict[str, float]
    accuracy: float
    mean_loss: float
    metadata_means: dict[str, float]
    words: list[tuple[str, float]]


def cluster(reduced: np.ndarray, coords: np.ndarray, method: str = DEFAULT_CLUSTER_METHOD,
            count: int = DEFAULT_CLUSTERS, *, seed: int) -> np.ndarray:
    """Cluster id per sample (``NOISE`` = -1 for HDBSCAN's outliers)."""
    if method not in CLUSTER_METHODS:
        raise ValueError(f"clustering must be one of {', '.join(CLUSTER_METHODS)}, got {method!r}")
    if method == "hdbscan":
        from sklearn.cluster import HDBSCAN

        smallest = max(HDBSCAN_MIN_FLOOR, int(HDBSCAN_MIN_SHARE * len(coords)))
        return HDBSCAN(min_cluster_size=smallest, copy=True).fit_predict(coords).astype(np.int64)
    from sklearn.cluster import KMeans

    clusters = min(count, len(reduced))
    return KMeans(n_clusters=clusters, n_init=KMEANS_RESTARTS, random_state=seed).fit_predict(reduced).astype(np.int64)


def summarize_clusters(assignments: np.ndarray, samples: Samples, predictions: Predictions,
                       labels: tuple[str, ...], counts: TermCounts) -> list[ClusterSummary]:
    """Per cluster, largest first: size, label mix, accuracy, mean loss, metadata means, words."""
    rows = []
    for cluster_id in np.unique(assignments):
        members = assignments == cluster_id
        rows.append(ClusterSummary(
            cluster=int(cluster_id),
            size=int(members.sum()),
            label_share={name: float((samples.labels[members] == index).mean()) for index, name in enumerate(labels)},
            accuracy=float(predictions.correct[members].mean()),
            mean_loss=float(predictions.loss[members].mean()),
            metadata_means={field: float(np.mean(samples.metadata[field][members].astype(np.float64)))
                            for field in SUMMARY_FIELDS},
            words=distinctive_words(counts, members),
        ))
    return sorted(rows, key=lambda row: -row.size)
