"""``imdb-leap analyze``: one split through one model (optionally two), every section computed.

The steps are the Tensorleap dashboard's, offline: the integration's own preprocess,
encoders, ground truth, metadata and loss (``imdb.runtime.components``), batched latent
extraction, a 2-D map of the latent space, clusters, metadata against loss, the hardest
errors and likely label issues with word heatmaps, and a model-vs-model comparison. Each
step is timed; only the samples the report shows get heatmaps (they are the costly part).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from imdb.runtime import scoring
from imdb.contract.config import KERAS_FORMAT, Config
from imdb.tools.explain import EXACT_FAMILIES, Explainer, default_method
from imdb.models.inference import DEFAULT_BATCH_SIZE, predict_logits
from imdb.models.loading import load_inference_model, load_keras_model
from imdb.runtime.pipeline import Pipeline
from imdb.tools.report import clusters as clustering
from imdb.tools.report import metadata_loss, projection
from imdb.tools.report.compare import Comparison, compare
from imdb.tools.report.hardest import ErrorGroup, hardest_errors
from imdb.tools.report.heatmaps import Heatmap, heatmaps
from imdb.tools.report.latent import extract
from imdb.tools.calibration import calibration, fit_temperature
from imdb.tools.label_queue import softmax
from imdb.tools.report.classes import ClassErrors, class_errors
from imdb.tools.report.mislabeled import LabelIssues, find_label_issues
from imdb.tools.report.phrases import PhraseTable, deciding_phrases
from imdb.tools.report.samples import Predictions, Samples, collect, score
from imdb.tools.report.settings import (CALIBRATION_FIT_SAMPLES, DECIDING_NGRAMS, DEFAULT_CALIBRATION_FIT_SAMPLES,
                                        AnalysisError, DEFAULT_CLUSTER_METHOD, DEFAULT_CLUSTERS, DEFAULT_LAYER,
                                        DEFAULT_PROBE_FAILING, DEFAULT_PROJECTION, DEFAULT_SPACE, DEFAULT_SPLIT,
                                        DEFAULT_TOP, DEFAULT_UNLABELED_LIMIT, MODEL_SPACE, REPORTS_DIR,
                                        default_faithfulness_samples,
                                        default_steps, faithfulness_methods)
from imdb.tools.report.timing import StepTimer
from imdb.tools.report.unlabeled import (LabeledView, OtherModel, UnlabeledAnalysis, UnlabeledSettings,
                                         analyze_unlabeled, sample_ids)
from imdb.tools.report.words import TermCounts

LOG = logging.getLogger(__name__)

if TYPE_CHECKING:
    from imdb.tools.probes.run import Behaviour

# Fewer samples than this leave nothing to map, cluster or correlate.
MIN_SAMPLES = 10


@dataclass(frozen=True)
class AnalyzeOptions:
    """Everything ``imdb-leap analyze`` can change besides the project configuration."""

    split: str = DEFAULT_SPLIT
    limit: int | None = None
    out: Path | None = None
    layer: str = DEFAULT_LAYER
    space: str = DEFAULT_SPACE
    projection: str = DEFAULT_PROJECTION
    cluster_method: str = DEFAULT_CLUSTER_METHOD
    clusters: int = DEFAULT_CLUSTERS
    top: int = DEFAULT_TOP
    # None: the analysed family's default (``default_method``: exact for the n-gram family, else
    # integrated gradients; ``settings.default_steps`` / ``default_faithfulness_samples``).
    method: str | None = None
    steps: int | None = None
    faithfulness_samples: int | None = None
    compare: str | None = None
    compare_model_dir: str | None = None
    # The report runs Keras (the format of training and gradients) unless told otherwise,
    # whatever ``model_format`` the integration serves.
    compare_format: str = KERAS_FORMAT
    batch_size: int = DEFAULT_BATCH_SIZE
    probes: bool = True
    probe_failing: int = DEFAULT_PROBE_FAILING
    # Unlabelled reviews (train/unsup/) in the "Unlabelled reviews" section, a seeded sample; 0: no section.
    unlabeled_limit: int = DEFAULT_UNLABELED_LIMIT
    progress: bool = True

    def for_family(self, family: str) -> "AnalyzeOptions":
        """These options with the unset integration steps and deletion-test size filled in for ``family``."""
        return replace(self, method=self.method or default_method(family), steps=self.steps or default_steps(family),
                       faithfulness_samples=(default_faithfulness_samples(family) if self.faithfulness_samples is None
                                             else self.faithfulness_samples))

    def out_dir(self, config: Config) -> Path:
        """``--out``, else ``reports/<model>-<split>[-content]/`` under the working directory."""
        suffix = "" if self.space == MODEL_SPACE else f"-{self.space}"
        return (self.out or Path(REPORTS_DIR) / f"{config.model}-{self.split}{suffix}").expanduser().resolve()


@dataclass
class ModelRun:
    """One model's view of the samples."""

    name: str
    config: Config
    pipeline: Pipeline
    predictions: Predictions
    explainer: Explainer


@dataclass
class Analysis:
    """Everything the report shows, computed; the writer only formats it."""

    options: AnalyzeOptions
    run: ModelRun
    samples: Samples
    summary: dict[str, Any]
    confusion: np.ndarray
    coords: np.ndarray
    assignments: np.ndarray
    clusters: list[clustering.ClusterSummary]
    fields: list[metadata_loss.FieldLoss]
    claims: list[metadata_loss.Claim]
    errors: list[ErrorGroup]
    issues: LabelIssues
    class_rows: list[ClassErrors] = field(default_factory=list)
    calibration: dict[str, dict[str, Any]] = field(default_factory=dict)
    other: ModelRun | None = None
    comparison: Comparison | None = None
    heatmaps: dict[str, dict[str, Heatmap]] = field(default_factory=dict)
    faithfulness: list[dict[str, Any]] = field(default_factory=list)
    behaviour: "Behaviour | None" = None
    phrases: list[PhraseTable] = field(default_factory=list)
    unlabeled: UnlabeledAnalysis | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        """Class names, in the order of the logits."""
        return self.run.pipeline.labels


def run_analysis(config: Config, options: AnalyzeOptions, timer: StepTimer) -> Analysis:
    """Every computed section of the report, timed step by step."""
    options = options.for_family(config.model)
    if options.limit:
        config = config.with_overrides(sample_limit_per_split=options.limit)
    pipeline = Pipeline(config)
    with timer("load model"):
        model = load_keras_model(config, pipeline.labels)
    with timer("samples + metadata"):
        samples = collect(pipeline, options.split, progress=options.progress)
    if len(samples) < MIN_SAMPLES:
        raise AnalysisError(f"split {options.split!r} has {len(samples)} samples; analyze needs at least {MIN_SAMPLES}")
    with timer("inference + latent"):
        outputs = extract(pipeline, model, samples.ids, layer=options.layer, batch_size=options.batch_size,
                          progress=options.progress)
    predictions = score(samples, outputs.logits)
    # Latent vectors and gradients need the Keras model, whatever ``model_format`` serves.
    run = ModelRun(name=config.model, config=config, pipeline=pipeline, predictions=predictions,
                   explainer=Explainer(pipeline, model))
    labels = pipeline.labels
    summary = scoring.summarize(samples.labels, outputs.logits, labels)
    with timer("projection"):
        vectors = outputs.latent if options.space == MODEL_SPACE else content_vectors(pipeline, samples.ids)
        reduced = projection.reduce(vectors, seed=config.seed)
        coords = projection.project(reduced, options.projection, seed=config.seed, progress=options.progress)
    with timer("clusters"):
        assignments = clustering.cluster(reduced, coords, options.cluster_method, options.clusters, seed=config.seed)
        counts = TermCounts.from_texts(samples.texts)
        cluster_rows = clustering.summarize_clusters(assignments, samples, predictions, labels, counts)
    with timer("metadata vs loss"):
        fields = metadata_loss.field_losses(samples, predictions.loss)
        claims = metadata_loss.evaluate_claims(samples, predictions.loss)
    with timer("label issues"):
        issues = find_label_issues(samples.labels, predictions.probabilities)
    confusion = scoring.confusion_counts(samples.labels, predictions.predicted, len(labels))
    analysis = Analysis(
        options=options, run=run, samples=samples, summary=summary, confusion=confusion,
        class_rows=class_errors(confusion, labels, samples.labels, predictions.loss),
        coords=coords, assignments=assignments, clusters=cluster_rows, fields=fields, claims=claims,
        errors=hardest_errors(samples, predictions, labels, options.top), issues=issues)
    if options.compare:
        with timer("compare"):
            _compare(analysis, config, options)
    if options.unlabeled_limit:
        analysis.unlabeled = _unlabeled(analysis, model, outputs.latent, timer)
    with timer("calibration"):
        _calibrate(analysis, options)
    if config.model in EXACT_FAMILIES:
        with timer("deciding n-grams"):
            analysis.phrases = _phrases(run)
    with timer("heatmaps"):
        _heatmaps(analysis, options)
    if options.probes and pipeline.polarity is None:
        LOG.info("behavioural probes left out: the classes %s have no negative/positive polarity (set `polarity`)",
                 ", ".join(pipeline.labels))
    elif options.probes:
        with timer("probes"):
            analysis.behaviour = _behaviour(analysis, options, model)
    if options.faithfulness_samples > 0:
        with timer("faithfulness"):
            analysis.faithfulness = _faithfulness(config, options, model)
    analysis.timings = timer.rounded()
    return analysis


def _phrases(run: ModelRun) -> list[PhraseTable]:
    """The n-gram model's strongest weights per class, from the asset the dashboard reads
    (checked against the Keras model), with its training-split document counts."""
    from imdb.tools.explain.exact import served_weights

    pipeline = run.pipeline
    weights = served_weights(pipeline, run.explainer.model)
    return deciding_phrases(weights, pipeline.encoder.vocabulary.tokens, pipeline.labels, DECIDING_NGRAMS)


def content_vectors(pipeline: Pipeline, ids: list[str]) -> np.ndarray:
    """The content-space vector of every sample (the same vectors the binder serves)."""
    return np.stack([pipeline.content_vector(sample_id) for sample_id in ids])


def _behaviour(analysis: Analysis, options: AnalyzeOptions, model: Any) -> "Behaviour":
    """The probes on the analysed model (and the compared one), heatmaps by the same explainers."""
    from imdb.tools.probes.run import ProbeTarget, run_probes

    runs = [(analysis.run, model)]
    if analysis.other is not None:
        runs.append((analysis.other, analysis.other.explainer.model))
    targets = [ProbeTarget(name=run.name, pipeline=run.pipeline, model=keras_model, explainer=run.explainer)
               for run, keras_model in runs]
    return run_probes(targets, failing_shown=options.probe_failing, method=options.method, steps=options.steps,
                      batch_size=options.batch_size, progress=options.progress)


def _faithfulness(config: Config, options: AnalyzeOptions, model: Any) -> list[dict[str, Any]]:
    """The deletion test of the family's attribution methods on the analysed split (label-balanced)."""
    from imdb.tools.explain.deletion import faithfulness_of_methods

    n_samples = min(options.faithfulness_samples, options.limit or options.faithfulness_samples)
    return faithfulness_of_methods(config, faithfulness_methods(config.model, options.method), n_samples,
                                   split=options.split, steps=options.steps, model=model)


def compared_label(other: Config, reference: Config) -> str:
    """The second model's name: its family, its format when ONNX serves its predictions, and its
    directory when only the directory tells it from the first (Keras) model."""
    label = other.model if other.model_format == "h5" else f"{other.model} ({other.model_format})"
    if label == reference.model and other.model_dir != reference.model_dir:
        label = f"{label} [{other.model_dir.name}]"
    return label


def _compare(analysis: Analysis, config: Config, options: AnalyzeOptions) -> None:
    other_config = config.with_overrides(model=options.compare, model_dir=options.compare_model_dir,
                                         model_format=options.compare_format)
    pipeline = Pipeline(other_config)
    model = load_inference_model(other_config)
    logits = predict_logits(pipeline, model, analysis.samples.ids, batch_size=options.batch_size,
                            progress=options.progress, desc=f"inference ({other_config.model})")
    other = ModelRun(name=compared_label(other_config, config), config=other_config, pipeline=pipeline,
                     predictions=score(analysis.samples, logits),
                     explainer=Explainer(pipeline, load_keras_model(other_config)))
    analysis.other = other
    analysis.comparison = compare(analysis.run.name, analysis.run.predictions, other.name, other.predictions,
                                  analysis.samples.labels, analysis.samples.texts)


def _unlabeled(analysis: Analysis, model: Any, latent: np.ndarray, timer: StepTimer) -> UnlabeledAnalysis | None:
    """The "Unlabelled reviews" section's numbers, or None (one logged line) when the source holds none."""
    run, options = analysis.run, analysis.options
    available = run.pipeline.corpus.unlabeled_ids()
    if not available:
        LOG.info("unlabelled reviews section left out: %s holds no unlabelled reviews (train/unsup/), "
                 "or unlabeled_limit is 0", run.config.data)
        return None
    ids = sample_ids(available, options.unlabeled_limit, run.config.seed)
    labeled = LabeledView(ids=analysis.samples.ids, texts=analysis.samples.texts, latent=latent,
                          probabilities=run.predictions.probabilities)
    settings = UnlabeledSettings(layer=options.layer, batch_size=options.batch_size, projection=options.projection,
                                 clusters=options.clusters, top=options.top, seed=run.config.seed,
                                 progress=options.progress)
    return analyze_unlabeled(run.pipeline, model, labeled, ids, len(available), settings, timer,
                             _other_model(analysis.other, options) if analysis.other is not None else None)


def _other_model(other: ModelRun, options: AnalyzeOptions) -> OtherModel:
    """The compared model's probabilities on any ids, from the format its comparison used."""
    def probabilities(ids: list[str]) -> np.ndarray:
        logits = predict_logits(other.pipeline, load_inference_model(other.config), ids, batch_size=options.batch_size,
                                progress=options.progress, desc=f"inference ({other.name}, unlabelled)")
        return softmax(logits)

    return OtherModel(name=other.name, probabilities=probabilities)


def _calibrate(analysis: Analysis, options: AnalyzeOptions) -> None:
    """ECE and reliability of every model in the report, before and after a temperature fitted
    on a label-balanced sample of the **training** split (in-sample when that is the analysed split)."""
    from imdb.contract.names import TRAINING

    runs = [analysis.run] + ([analysis.other] if analysis.other is not None else [])
    for run in runs:
        pipeline = run.pipeline
        fit_ids = pipeline.split_ids(TRAINING, CALIBRATION_FIT_SAMPLES.get(run.config.model,
                                                                             DEFAULT_CALIBRATION_FIT_SAMPLES))
        model = run.explainer.model
        fit_logits = predict_logits(pipeline, model, fit_ids, batch_size=options.batch_size,
                                    progress=options.progress, desc=f"calibration fit ({run.name})")
        fit_labels = np.array([pipeline.corpus.label(i) for i in fit_ids], dtype=np.int64)
        temperature = fit_temperature(fit_logits, fit_labels)
        result = calibration(run.predictions.logits, analysis.samples.labels, run.config.seed, temperature)
        result["fit_samples"] = len(fit_ids)
        analysis.calibration[run.name] = result


def shown_indices(analysis: Analysis) -> dict[str, list[int]]:
    """Sample indices each heatmap section shows (the only samples that get heatmaps)."""
    top = analysis.options.top
    shown = {"errors": [int(i) for group in analysis.errors for i in group.indices],
             "mislabeled": [int(i) for i in analysis.issues.ranked[:top]]}
    if analysis.comparison is not None:
        shown["compare"] = [int(i) for i in analysis.comparison.ranked_flips[:top]]
    return shown


def _heatmaps(analysis: Analysis, options: AnalyzeOptions) -> None:
    shown = shown_indices(analysis)
    ids = analysis.samples.ids
    own = [ids[i] for indices in shown.values() for i in indices]
    analysis.heatmaps[analysis.run.name] = heatmaps(analysis.run.pipeline, analysis.run.explainer, own,
                                                    options.method, options.steps, options.progress)
    if analysis.other is not None:
        flipped = [ids[i] for i in shown.get("compare", [])]
        analysis.heatmaps[analysis.other.name] = heatmaps(analysis.other.pipeline, analysis.other.explainer, flipped,
                                                          options.method, options.steps, options.progress)
