"""The ``exact`` attribution method: the n-gram model's logits decomposed onto its n-grams and words.

Why through the weights asset: the binder's heatmap function serves the dashboard from the
asset (the platform has no model file), so the report reads the same file, after checking it is
the Keras model's own weights; a stale asset is refused with the command that rewrites it,
rather than showing heatmaps of another model. The decomposition itself is
``imdb.runtime.ngram_explain``; this module runs it on a batch of reviews
(``Explainer.explain`` shapes the result as ``Attribution``s).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from imdb.contract.model_files import ModelError
from imdb.models.inference import batch_inputs
from imdb.runtime.ngram_explain import ExactHeatmap, NgramWeights, contrast, exact_heatmap, ngram_weights_path
from imdb.runtime.pipeline import Pipeline
from imdb.tools.explain.methods import EXACT, EXACT_FAMILIES


def served_weights(pipeline: Pipeline, model: Any) -> NgramWeights:
    """The weights asset, refused unless it holds exactly the weights of ``model`` (the Keras graph)."""
    config = pipeline.config
    if config.model not in EXACT_FAMILIES:
        families = ", ".join(sorted(EXACT_FAMILIES))
        raise ValueError(f"the {EXACT!r} attribution method needs a linear family ({families}); "
                         f"{config.model!r} takes gradxinput or ig")
    from imdb.models.ngram import linear_weights

    weights = pipeline.ngram_weights
    table, bias = linear_weights(model)
    if weights.table.shape != table.shape or not (np.array_equal(weights.table, table)
                                                  and np.array_equal(weights.bias, bias)):
        raise ModelError(f"n-gram weights asset {ngram_weights_path(config)} does not hold the weights of the "
                         f"{config.model} model in {config.model_dir}: rewrite it with "
                         f"`imdb-leap export --model {config.model} --format onnx` (or retrain)")
    return weights


def exact_heatmaps(pipeline: Pipeline, weights: NgramWeights,
                   ids: Sequence[str]) -> list[tuple[list[str], ExactHeatmap, float]]:
    """Per review of ``ids`` (in order): its display tokens, its exact heatmap towards the predicted
    class, and the bias's share of the logit contrast (what the scores leave out)."""
    if not ids:
        return []
    token_input = pipeline.encoder.input_names[0]
    inputs = batch_inputs(pipeline, list(ids))[token_input]
    results = []
    for token_ids in inputs:
        tokens = pipeline.encoder.display_tokens(token_ids)
        heat = exact_heatmap(token_ids, tokens, weights)
        results.append((tokens, heat, float(contrast(weights.bias, heat.target))))
    return results
