"""The analysis' choices and defaults, importable without TensorFlow, scikit-learn or code-loader.

Why separate: ``imdb-leap`` builds every sub-command's parser at start-up, and offering these
as choices must not import the libraries that compute them.
"""

from imdb.tools.explain.methods import DEFAULT_STEPS, family_methods


class AnalysisError(ValueError):
    """The requested analysis cannot run (too few samples); the message says why. Defined here
    so the CLI can report it in one line without importing the analysis."""


DEFAULT_SPLIT = "validation"
# Reviews shown with heatmaps per error kind, per label-issue list and per flip list.
DEFAULT_TOP = 10
REPORTS_DIR = "reports"
# The layer-name contract (imdb.contract.model_files): the penultimate representation.
DEFAULT_LAYER = "latent"
# The space the population map and clusters are computed in: the model's ``--layer`` (the
# platform's "model_latent" space), or the model-independent content space (TF-IDF + SVD),
# whose clusters are topics and whose cluster table then shows the model's accuracy per topic.
MODEL_SPACE = "model"
CONTENT_SPACE = "content"
SPACES = (MODEL_SPACE, CONTENT_SPACE)
DEFAULT_SPACE = MODEL_SPACE
PROJECTIONS = ("tsne", "umap", "pca")
# t-SNE: as readable as UMAP on the validation split and no JIT compilation on a first run
# (imdb.tools.report.projection; the bench's ``projection`` section measures both).
DEFAULT_PROJECTION = "tsne"
CLUSTER_METHODS = ("kmeans", "hdbscan")
DEFAULT_CLUSTER_METHOD = "kmeans"
DEFAULT_CLUSTERS = 8
# Training reviews (label-balanced) whose logits fit each model's temperature for the report's
# calibration section: enough for one scalar, cheap even for BERT on a CPU.
CALIBRATION_FIT_SAMPLES = {"bert": 256, "ensemble": 256}
DEFAULT_CALIBRATION_FIT_SAMPLES = 2000
# Reviews of the analysed split used for the heatmap deletion test (k: imdb.tools.explain's default).
DEFAULT_FAITHFULNESS_SAMPLES = 200
# "The words and phrases that decide" (n-gram family): n-grams listed per class and direction.
DECIDING_NGRAMS = 20
# Failing probe cases shown with a heatmap, per capability and model, in the Behaviour section.
DEFAULT_PROBE_FAILING = 2
# Unlabelled reviews (aclImdb's train/unsup/) the "Unlabelled reviews" section analyses, a seeded
# sample: enough for its shares to about a point (the binomial standard error of a 5 % share is
# 0.5 points at 2,000), few enough for its two extra maps to take seconds on 2 cores. 0 leaves
# the section out.
DEFAULT_UNLABELED_LIMIT = 2000
# Per-family defaults of the heatmaps and their deletion test, for the families whose
# attributions are costly. A BERT attribution is a backward pass through the transformer per
# review and integration step: the heatmaps of a full-split report with a comparison (40 BERT
# reviews) took 283 s with 32 steps on the 2-core machine. Measured on 40 validation reviews
# (deletion test, k = 10): integrated gradients with 4 steps margin 0.268, top-k hurts more on
# 80 %; 8 steps 0.299, 85 %, at 1.6x the time; gradient x input -0.003, 35 %, i.e. no better
# than deleting random words, so it is no default for BERT. BERT therefore takes 4 steps and a
# 100-review deletion test of the heatmap method alone, which keeps `analyze --model bert` on
# the whole validation split within 10 minutes; the word models keep 32 steps, both methods
# tested. ``--ig-steps`` and ``--faithfulness-samples`` override these; the report names what ran.
# The ensemble's attributions are BERT's backward passes too (its heatmaps are taken at BERT's
# WordPiece embedding, see imdb.tools.explain.split.token_spec), so it takes BERT's defaults.
FAMILY_STEPS = {"bert": 4, "ensemble": 4}
FAMILY_FAITHFULNESS_SAMPLES = {"bert": 100, "ensemble": 100}
# Families whose deletion test covers only the heatmap method shown (the others: every method).
SHOWN_METHOD_FAITHFULNESS = frozenset({"bert", "ensemble"})


def default_steps(family: str) -> int:
    """Integrated-gradients steps ``analyze`` uses for ``family`` when ``--ig-steps`` is not given."""
    return FAMILY_STEPS.get(family, DEFAULT_STEPS)


def default_faithfulness_samples(family: str) -> int:
    """Reviews of the deletion test for ``family`` when ``--faithfulness-samples`` is not given."""
    return FAMILY_FAITHFULNESS_SAMPLES.get(family, DEFAULT_FAITHFULNESS_SAMPLES)


def faithfulness_methods(family: str, shown: str) -> tuple[str, ...]:
    """The methods the deletion test compares for ``family``, ``shown`` being the heatmaps' method
    (for the n-gram family: its exact heatmap beside both gradient methods)."""
    return (shown,) if family in SHOWN_METHOD_FAITHFULNESS else family_methods(family)
