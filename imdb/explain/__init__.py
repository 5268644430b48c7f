"""Word heatmaps for every model family, and a deletion test of how faithful they are.

``explain(pipeline, ids, method)`` gives, per review, the model's tokens (as the binder's
``review`` visualizer shows them) and one score per token towards the predicted class;
``faithfulness(config, method, n_samples, k)`` measures whether deleting the top-scored
words hurts the prediction more than deleting random ones (``imdb-leap bench`` prints it).
"""

from imdb.explain.attribution import (
    BASELINES,
    DEFAULT_BASELINE,
    DEFAULT_METHOD,
    DEFAULT_STEPS,
    GRADIENT_X_INPUT,
    INTEGRATED_GRADIENTS,
    METHODS,
    Attribution,
    Explainer,
    explain,
    predicted_log_odds,
    to_words,
)
from imdb.explain.faithfulness import DeletionDrops, deletion_drops, delete_positions, faithfulness
from imdb.explain.split import EmbeddingSplit, TokenSpec, find_layer, token_spec

__all__ = [
    "BASELINES", "DEFAULT_BASELINE", "DEFAULT_METHOD", "DEFAULT_STEPS", "GRADIENT_X_INPUT", "INTEGRATED_GRADIENTS",
    "METHODS", "Attribution", "DeletionDrops", "EmbeddingSplit", "Explainer", "TokenSpec", "delete_positions",
    "deletion_drops", "explain", "faithfulness", "find_layer", "predicted_log_odds", "to_words", "token_spec",
]
