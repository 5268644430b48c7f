"""The deletion test: do the words an attribution ranks highest matter more than random words?

For each review, the ``k`` words with the highest attribution towards the predicted class
are deleted (replaced by padding, and masked out for BERT, exactly as padding looks to the
model), and the drop in the predicted class's probability is compared with deleting ``k``
random words of the same review. A faithful heatmap makes the first drop much larger.
The n-gram family's gradient heatmaps score its tokens (n-grams), so k n-grams go; its exact
heatmap scores words, so k words go, each with every n-gram containing it (``deletion_unit``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from imdb.runtime import scoring
from imdb.contract.config import Config
from imdb.tools.explain.attribution import Attribution, Explainer
from imdb.tools.explain.methods import DEFAULT_BASELINE, DEFAULT_STEPS, EXACT, INTEGRATED_GRADIENTS
from imdb.tools.explain.split import TokenSpec
from imdb.models.inference import batch_inputs, run_model_batched
from imdb.runtime.pipeline import Pipeline

DEFAULT_SPLIT = "validation"
DEFAULT_K = 10
# Random deletions drawn per review; their drops are averaged, so the random reference is
# not one lucky (or unlucky) draw.
RANDOM_REPEATS = 5


@dataclass(frozen=True)
class DeletionDrops:
    """Per review: the predicted-class probability before, and after each kind of deletion."""

    original: np.ndarray
    top_k: np.ndarray
    random: np.ndarray
    flipped_top_k: np.ndarray
    flipped_random: np.ndarray


def faithfulness(config: Config, method: str, n_samples: int, k: int = DEFAULT_K, *,
                 split: str = DEFAULT_SPLIT, steps: int = DEFAULT_STEPS, baseline: str = DEFAULT_BASELINE,
                 model: Any = None, progress: bool = False) -> dict[str, Any]:
    """Deletion test of ``method`` on ``n_samples`` label-balanced reviews of ``split``.

    Returns the mean drop of the predicted-class probability after deleting the top-``k``
    words and after deleting ``k`` random words, their difference (``margin``), how often the
    top-k deletion hurt more than the random one (``win_rate``), and how often each flipped
    the prediction.
    """
    return faithfulness_of_methods(config, [method], n_samples, k, split=split, steps=steps, baseline=baseline,
                                   model=model, progress=progress)[0]


def faithfulness_of_methods(config: Config, methods: Sequence[str], n_samples: int, k: int = DEFAULT_K, *,
                            split: str = DEFAULT_SPLIT, steps: int = DEFAULT_STEPS,
                            baseline: str = DEFAULT_BASELINE, model: Any = None,
                            progress: bool = False) -> list[dict[str, Any]]:
    """:func:`faithfulness` of each method on the same reviews, loading the data and the
    model once for all of them."""
    pipeline = Pipeline(config.with_overrides(sample_limit_per_split=n_samples))
    ids = pipeline.split_ids(split)
    explainer = Explainer(pipeline, model, baseline=baseline)
    return [_deletion_test(pipeline, explainer, ids, method, k, split=split, steps=steps, progress=progress)
            for method in methods]


def _deletion_test(pipeline: Pipeline, explainer: Explainer, ids: list[str], method: str, k: int, *, split: str,
                   steps: int, progress: bool) -> dict[str, Any]:
    started = time.perf_counter()
    config = pipeline.config
    attributions = explainer.explain(ids, method, steps=steps, progress=progress)
    drops = deletion_drops(pipeline, explainer.model, explainer.spec, attributions, k, seed=config.seed)
    top_drop = drops.original - drops.top_k
    random_drop = drops.original - drops.random
    return {
        "model": config.model, "method": method, "unit": deletion_unit(method), "split": split, "n": len(ids), "k": k,
        "steps": steps if method == INTEGRATED_GRADIENTS else None, "baseline": explainer.baseline,
        "mean_drop_top_k": round(float(top_drop.mean()), 4),
        "mean_drop_random": round(float(random_drop.mean()), 4),
        "margin": round(float(top_drop.mean() - random_drop.mean()), 4),
        "win_rate": round(float((top_drop > random_drop).mean()), 4),
        "flip_rate_top_k": round(float(drops.flipped_top_k.mean()), 4),
        "flip_rate_random": round(float(drops.flipped_random.mean()), 4),
        "seconds": round(time.perf_counter() - started, 1),
    }


def deletion_drops(pipeline: Pipeline, model: Any, spec: TokenSpec, attributions: Sequence[Attribution], k: int,
                   *, seed: int, repeats: int = RANDOM_REPEATS) -> DeletionDrops:
    """Predicted-class probabilities of each review intact, without its top-k words, and
    (averaged over ``repeats`` draws) without k random words."""
    rng = np.random.default_rng(seed)
    ids = [item.sample_id for item in attributions]
    inputs = batch_inputs(pipeline, ids)
    classes = np.array([item.predicted for item in attributions])
    review = spec.review_positions(inputs[spec.token_input])
    top_positions, random_positions = [], [[] for _ in range(repeats)]
    for row, item in enumerate(attributions):
        if item.method == EXACT:
            top, draws = _word_deletions(item, k, rng, repeats)
        else:
            top, draws = _token_deletions(item, np.flatnonzero(review[row]), k, rng, repeats)
        top_positions.append(top)
        for draw, chosen in zip(random_positions, draws):
            draw.append(chosen)
    original = _class_probability(model, inputs, classes)
    top_k = _class_probability(model, delete_positions(inputs, spec, top_positions), classes)
    random_runs = [_class_probability(model, delete_positions(inputs, spec, draw), classes)
                   for draw in random_positions]
    half = 1.0 / len(pipeline.labels)
    return DeletionDrops(original=original, top_k=top_k, random=np.mean(random_runs, axis=0),
                         flipped_top_k=top_k < half,
                         flipped_random=np.mean([run < half for run in random_runs], axis=0))


def deletion_unit(method: str) -> str:
    """What the test deletes k of: words for the exact n-gram heatmap (a word goes with every
    n-gram containing it), model tokens otherwise (words; n-grams for the n-gram family)."""
    return "word" if method == EXACT else "token"


def _token_deletions(item: Attribution, candidates: np.ndarray, k: int, rng: np.random.Generator,
                     repeats: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The k highest-scored review positions, and ``repeats`` draws of k random ones."""
    count = min(k, len(candidates))
    ranked = candidates[np.argsort(-item.scores[candidates], kind="stable")]
    return ranked[:count], [rng.choice(candidates, size=count, replace=False) for _ in range(repeats)]


def _word_deletions(item: Attribution, k: int, rng: np.random.Generator,
                    repeats: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The positions of every n-gram holding one of the k highest-scored words, and the same for
    ``repeats`` draws of k random words: the review as if those words were not in it."""
    from imdb.runtime.ngram_explain import word_positions

    by_word = word_positions(item.tokens)
    words = list(by_word)
    count = min(k, len(words))

    def positions(chosen: Sequence[int]) -> np.ndarray:
        return np.array(sorted({position for index in chosen for position in by_word[words[index]]}), dtype=np.int64)

    ranked = np.argsort(-np.asarray(item.word_scores, dtype=np.float64), kind="stable")[:count]
    return positions(ranked), [positions(rng.choice(len(words), size=count, replace=False)) for _ in range(repeats)]


def delete_positions(inputs: dict[str, np.ndarray], spec: TokenSpec, positions: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """A copy of the batch with the given positions of each row turned into padding."""
    edited = {name: values.copy() for name, values in inputs.items()}
    for row, chosen in enumerate(positions):
        edited[spec.token_input][row, chosen] = spec.pad_id
        if spec.mask_input is not None:
            edited[spec.mask_input][row, chosen] = 0.0
    return edited


def _class_probability(model: Any, inputs: dict[str, np.ndarray], classes: np.ndarray) -> np.ndarray:
    return scoring.softmax(run_model_batched(model, inputs))[np.arange(len(classes)), classes]
