"""Word heatmaps for every model family, and a deletion test of how faithful they are.

``explain(pipeline, ids, method)`` gives, per review, the model's tokens (as the binder's
``review`` visualizer shows them) and one score per token towards the predicted class;
``faithfulness(config, method, n_samples, k)`` measures whether deleting the top-scored
words hurts the prediction more than deleting random ones (``imdb-leap bench`` prints it).

The method names load eagerly; everything else loads on first use (PEP 562), so that the
command line can offer the methods as choices without importing TensorFlow.
"""

from importlib import import_module
from typing import Any

from imdb.tools.explain.methods import (ALL_METHODS, BASELINES, DEFAULT_BASELINE, DEFAULT_METHOD, DEFAULT_STEPS, EXACT,
                                        EXACT_FAMILIES,
                                        GRADIENT_X_INPUT, INTEGRATED_GRADIENTS, METHODS, default_method,
                                        family_methods, method_for)

_LAZY = {
    "Attribution": "attribution", "Explainer": "attribution", "explain": "attribution",
    "predicted_log_odds": "attribution", "to_words": "attribution",
    "DeletionDrops": "deletion", "deletion_drops": "deletion", "delete_positions": "deletion",
    "faithfulness": "deletion",
    "exact_heatmaps": "exact", "served_weights": "exact",
    "EmbeddingSplit": "split", "TokenSpec": "split", "find_layer": "split", "token_spec": "split",
}

__all__ = ["ALL_METHODS", "BASELINES", "DEFAULT_BASELINE", "DEFAULT_METHOD", "DEFAULT_STEPS", "EXACT", "EXACT_FAMILIES",
           "GRADIENT_X_INPUT", "INTEGRATED_GRADIENTS", "METHODS", "default_method", "family_methods", "method_for",
           *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'imdb.tools.explain' has no attribute {name!r}")
    return getattr(import_module(f"imdb.tools.explain.{module}"), name)
