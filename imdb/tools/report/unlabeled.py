"""The report's "Unlabelled reviews" section, computed: where aclImdb's ``train/unsup/`` reviews
sit against the labelled ones, and how the model behaves on them.

Why these parts: a model is only trusted where its training data reaches. The joint maps show
whether the unlabelled reviews share the labelled reviews' regions (model latent space: as the
model sees them; content space: by their words, whatever the model); the far share counts the
unlabelled reviews beyond what is normal for an unseen *labelled* review; the content clusters
name the topics the labelled data under-covers; the confidence distributions tell whether the
model is as sure of the unlabelled reviews as of labelled ones; and with a second model, the
reviews where the two part ways most are the first to look at.

Why the threshold comes from labelled data only: the 95th percentile of labelled validation
reviews' cosine distance to their nearest training review (content space) is how far a new
review of the labelled distribution typically lies from the training set; an unlabelled review
beyond it is farther than 95 % of those, so on a labelled-like population about 5 % are "far"
and a much larger share says the unlabelled reviews reach where the labels do not. The signals
are ``imdb.tools.label_queue``'s (nearest distance, entropy, total variation), not re-derived.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from imdb.contract.names import TRAINING, VALIDATION
from imdb.tools.label_queue import nearest_distances, normalized_entropy, preview, softmax, total_variation
from imdb.tools.report import clusters as clustering
from imdb.tools.report import projection
from imdb.tools.report.latent import extract
from imdb.tools.report.samples import snippet
from imdb.tools.report.settings import AnalysisError
from imdb.tools.report.timing import StepTimer
from imdb.tools.report.words import TermCounts, distinctive_words

# The far threshold: this percentile of labelled validation reviews' nearest-training distance.
FAR_PERCENTILE = 95.0
# A cluster is dominated by unlabelled reviews when its odds (unlabelled per labelled review)
# are at least this multiple of the whole map's: odds, not shares, so that the populations'
# different sizes do not decide it.
DOMINANCE_ODDS_RATIO = 2.0
# k-means, not HDBSCAN: every review belongs to a cluster, so the clusters' unlabelled counts add
# up to the sample and no population hides in the noise.
CONTENT_CLUSTER_METHOD = "kmeans"
# The compared model's name when it is the analysed model's (same family, directory and format).
SAME_NAME_SUFFIX = " (compared)"
JSON_DIGITS = 4


@dataclass(frozen=True)
class Threshold:
    """The far threshold and what it was fitted on (labelled reviews only)."""

    value: float
    percentile: float
    calibration_reviews: int
    reference_reviews: int


@dataclass(frozen=True)
class ClusterShare:
    """One joint content cluster: its size, the unlabelled reviews' share and odds ratio, words."""

    cluster: int
    size: int
    unlabeled: int
    unlabeled_share: float
    odds_ratio: float
    dominated: bool
    words: list[tuple[str, float]]


@dataclass(frozen=True)
class Disagreement:
    """One unlabelled review where the two models part ways: each model's predicted class and probability."""

    sample_id: str
    preview: str
    distance: float
    predictions: dict[str, tuple[str, float]]


@dataclass
class UnlabeledAnalysis:
    """Everything the section shows; the writer and the section only format it."""

    ids: list[str]
    available: int
    snippets: list[str]
    distances: np.ndarray
    labeled_distances: np.ndarray
    threshold: Threshold
    far_share: float
    # Joint 2-D maps per space (``MODEL_MAP``, ``CONTENT_MAP``): labelled rows first, then unlabelled.
    maps: dict[str, np.ndarray]
    clusters: list[ClusterShare]
    labeled_confidence: np.ndarray
    unlabeled_confidence: np.ndarray
    labeled_entropy: float
    unlabeled_entropy: float
    disagreements: list[Disagreement]

    @property
    def far(self) -> np.ndarray:
        """Whether each unlabelled review lies beyond the threshold."""
        return self.distances > self.threshold.value


def sample_ids(ids: Sequence[str], limit: int, seed: int) -> list[str]:
    """A seeded sample of ``limit`` ids in their canonical order (all of them when fewer): the
    same reviews on every run, spread over the whole set rather than its first files."""
    if limit >= len(ids):
        return list(ids)
    return [ids[position] for position in sorted(random.Random(seed).sample(range(len(ids)), limit))]


def fit_threshold(calibration: np.ndarray, reference: np.ndarray, percentile: float = FAR_PERCENTILE) -> Threshold:
    """The ``percentile`` of labelled calibration reviews' cosine distance to their nearest
    reference (training) review: how far an unseen labelled review normally lies."""
    if not len(calibration):
        raise AnalysisError("no labelled validation reviews to fit the unlabelled section's far threshold on: "
                            "set validation_fraction above 0, or --unlabeled-limit 0 to leave the section out")
    distances = nearest_distances(calibration, reference)
    return Threshold(value=float(np.percentile(distances, percentile)), percentile=percentile,
                     calibration_reviews=len(calibration), reference_reviews=len(reference))


def far_share(distances: np.ndarray, threshold: float) -> float:
    """The share of ``distances`` strictly beyond ``threshold`` (0 for none)."""
    return float((np.asarray(distances) > threshold).mean()) if len(distances) else 0.0


def cluster_shares(assignments: np.ndarray, is_unlabeled: np.ndarray, counts: TermCounts | None = None,
                   odds_ratio: float = DOMINANCE_ODDS_RATIO) -> list[ClusterShare]:
    """Per joint cluster, highest unlabelled share first: size, unlabelled count and share, the
    odds ratio against the whole map, whether unlabelled reviews dominate it, its words."""
    is_unlabeled = np.asarray(is_unlabeled, dtype=bool)
    overall = _odds(int(is_unlabeled.sum()), int((~is_unlabeled).sum()))
    rows = []
    for cluster_id in np.unique(assignments):
        members = assignments == cluster_id
        unlabeled = int(is_unlabeled[members].sum())
        ratio = _odds(unlabeled, int(members.sum()) - unlabeled) / overall if overall > 0 else float("nan")
        rows.append(ClusterShare(cluster=int(cluster_id), size=int(members.sum()), unlabeled=unlabeled,
                                 unlabeled_share=unlabeled / int(members.sum()), odds_ratio=ratio,
                                 dominated=bool(ratio >= odds_ratio),
                                 words=distinctive_words(counts, members) if counts is not None else []))
    return sorted(rows, key=lambda row: (-row.unlabeled_share, -row.size))


def _odds(unlabeled: int, labeled: int) -> float:
    """Unlabelled reviews per labelled one; infinite where a group holds only unlabelled reviews."""
    return float("inf") if labeled == 0 else unlabeled / labeled


def joint_map(labeled: np.ndarray, unlabeled: np.ndarray, method: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Both populations reduced and projected together (one map, one scale): ``(reduced, coords)``."""
    reduced = projection.reduce(np.concatenate([labeled, unlabeled]), seed=seed)
    return reduced, projection.project(reduced, method, seed=seed)


def confidence(probabilities: np.ndarray) -> np.ndarray:
    """The predicted class's probability per row."""
    return np.asarray(probabilities).max(axis=1)


def disagreements(ids: Sequence[str], texts: Sequence[str], models: dict[str, np.ndarray],
                  labels: Sequence[str], top: int) -> list[Disagreement]:
    """The ``top`` unlabelled reviews with the largest total variation between the two models'
    probabilities (``models``: name -> probabilities, in the order of ``ids``)."""
    (_, first), (_, second) = models.items()
    distance = total_variation(first, second)
    order = np.argsort(-distance, kind="stable")[:top]
    return [Disagreement(sample_id=ids[i], preview=preview(texts[i]), distance=float(distance[i]),
                         predictions={name: (labels[int(np.argmax(p[i]))], float(np.max(p[i])))
                                      for name, p in models.items()})
            for i in order]


def entropy_mean(probabilities: np.ndarray) -> float:
    """Mean normalised entropy (0: certain, 1: uniform) of the rows."""
    return float(normalized_entropy(probabilities).mean()) if len(probabilities) else float("nan")


def summary_json(result: UnlabeledAnalysis) -> dict[str, Any]:
    """The section's numbers for ``report.json``."""
    threshold = result.threshold
    return {
        "available": result.available, "analysed": len(result.ids),
        "threshold": {"value": threshold.value, "percentile": threshold.percentile,
                      "calibration_reviews": threshold.calibration_reviews,
                      "reference_reviews": threshold.reference_reviews},
        "far_share": result.far_share, "far": int(result.far.sum()),
        "labeled_far_share": far_share(result.labeled_distances, threshold.value),
        "clusters": [{"cluster": row.cluster, "size": row.size, "unlabeled": row.unlabeled,
                      "unlabeled_share": row.unlabeled_share, "odds_ratio": row.odds_ratio,
                      "dominated": row.dominated, "words": [word for word, _ in row.words]}
                     for row in result.clusters],
        "confidence": {"labeled_mean": float(result.labeled_confidence.mean()),
                       "unlabeled_mean": float(result.unlabeled_confidence.mean()),
                       "labeled_entropy": result.labeled_entropy, "unlabeled_entropy": result.unlabeled_entropy},
        "disagreements": [{"id": row.sample_id, "total_variation": round(row.distance, JSON_DIGITS),
                           "predictions": {name: {"label": label, "probability": round(p, JSON_DIGITS)}
                                           for name, (label, p) in row.predictions.items()}}
                          for row in result.disagreements],
    }



# The spaces the joint maps are drawn in, in the section's order.
MODEL_MAP, CONTENT_MAP = "model", "content"


@dataclass(frozen=True)
class LabeledView:
    """The analysed labelled reviews as the report already computed them (map rows come first)."""

    ids: list[str]
    texts: list[str]
    latent: np.ndarray
    probabilities: np.ndarray


@dataclass(frozen=True)
class OtherModel:
    """The compared model: its name and a function from ids to its probabilities."""

    name: str
    probabilities: Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class UnlabeledSettings:
    """The analysis options this section reads."""

    layer: str
    batch_size: int
    projection: str
    clusters: int
    top: int
    seed: int
    progress: bool


def analyze_unlabeled(pipeline: Any, model: Any, labeled: LabeledView, ids: list[str], available: int,
                      settings: UnlabeledSettings, timer: StepTimer, other: OtherModel | None = None,
                      ) -> UnlabeledAnalysis:
    """Every part of the section for the unlabelled ``ids`` (a sample of ``available``), timed."""
    texts = [pipeline.corpus[sample_id].text for sample_id in ids]
    with timer("unlabelled: inference + latent"):
        outputs = extract(pipeline, model, ids, layer=settings.layer, batch_size=settings.batch_size,
                          progress=settings.progress)
    probabilities = softmax(outputs.logits)
    with timer("unlabelled: content distances"):
        labeled_content, unlabeled_content = _content(pipeline, labeled.ids), _content(pipeline, ids)
        threshold, labeled_distances, distances = _distances(pipeline, labeled_content, unlabeled_content)
    with timer("unlabelled: maps"):
        _, model_coords = joint_map(labeled.latent, outputs.latent, settings.projection, settings.seed)
        content_reduced, content_coords = joint_map(labeled_content, unlabeled_content, settings.projection,
                                                    settings.seed)
    with timer("unlabelled: clusters"):
        assignments = clustering.cluster(content_reduced, content_coords, CONTENT_CLUSTER_METHOD, settings.clusters,
                                         seed=settings.seed)
        is_unlabeled = np.r_[np.zeros(len(labeled.ids), dtype=bool), np.ones(len(ids), dtype=bool)]
        rows = cluster_shares(assignments, is_unlabeled, TermCounts.from_texts([*labeled.texts, *texts]))
    shown: list[Disagreement] = []
    if other is not None:
        with timer("unlabelled: compare"):
            name = other.name + SAME_NAME_SUFFIX if other.name == pipeline.config.model else other.name
            models = {pipeline.config.model: probabilities, name: other.probabilities(ids)}
            shown = disagreements(ids, texts, models, pipeline.labels, settings.top)
    return UnlabeledAnalysis(
        ids=ids, available=available, snippets=[snippet(text) for text in texts], distances=distances,
        labeled_distances=labeled_distances, threshold=threshold, far_share=far_share(distances, threshold.value),
        maps={MODEL_MAP: model_coords, CONTENT_MAP: content_coords}, clusters=rows,
        labeled_confidence=confidence(labeled.probabilities), unlabeled_confidence=confidence(probabilities),
        labeled_entropy=entropy_mean(labeled.probabilities), unlabeled_entropy=entropy_mean(probabilities),
        disagreements=shown)


def _distances(pipeline: Any, labeled: np.ndarray, unlabeled: np.ndarray) -> tuple[Threshold, np.ndarray, np.ndarray]:
    """The far threshold (validation against training reviews, labelled only), then the analysed
    labelled and the unlabelled reviews' distances to their nearest training review."""
    training = _content(pipeline, pipeline.split_ids(TRAINING))
    threshold = fit_threshold(_content(pipeline, pipeline.split_ids(VALIDATION)), training)
    return threshold, nearest_distances(labeled, training), nearest_distances(unlabeled, training)


def _content(pipeline: Any, ids: Sequence[str]) -> np.ndarray:
    """Content-space vectors of ``ids`` (the binder's, memoised by the pipeline); no rows for no ids."""
    if not ids:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([pipeline.content_vector(sample_id) for sample_id in ids])
