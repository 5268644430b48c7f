"""The analysis' choices and defaults, importable without TensorFlow, scikit-learn or code-loader.

Why separate: ``imdb-leap`` builds every sub-command's parser at start-up, and offering these
as choices must not import the libraries that compute them.
"""



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
PROJECTIONS = ("umap", "pca", "tsne")
DEFAULT_PROJECTION = "umap"
CLUSTER_METHODS = ("kmeans", "hdbscan")
DEFAULT_CLUSTER_METHOD = "kmeans"
DEFAULT_CLUSTERS = 8
# Reviews of the analysed split used for the heatmap deletion test (k: imdb.tools.explain's default).
DEFAULT_FAITHFULNESS_SAMPLES = 200
# Failing probe cases shown with a heatmap, per capability and model, in the Behaviour section.
DEFAULT_PROBE_FAILING = 2
