"""The benchmark's ``faithfulness`` section: the heatmap deletion test of every trained family.

Why every family and not only the benched one: the heatmaps are what a user reads on the
dashboard for whichever family they serve, and the n-gram family's exact heatmap is only worth
its claim beside the gradient heatmaps of the others — on the same split, the same k and the same
seed, in one run. Each family runs in a fresh (spawned) process, as the probe and inference rows
do, so BERT's and the ensemble's integrated-gradient passes are released before the next family
loads, and each row records its own process's peak, held to that family's memory ceiling.
"""

from __future__ import annotations

from typing import Any, Sequence

from imdb.contract.config import MODEL_FAMILIES, Config
from imdb.contract.model_files import ModelError
from imdb.tools.bench.results import skipped

PROCESS_PEAK = "process_peak_rss_mb"


def bench_faithfulness(config: Config, n_samples: int | None, families: Sequence[str] = MODEL_FAMILIES) -> dict[str, Any]:
    """Per family with a trained model: the deletion test of each of its heatmap methods.

    ``n_samples`` reviews for every family, or None for each family's own default (what
    ``analyze`` uses: fewer for the transformer families, whose integrated gradients cost most)."""
    from imdb.tools.memory import in_fresh_process

    return {family: in_fresh_process(faithfulness_row, config.with_overrides(model=family), n_samples)
            for family in families}


def faithfulness_row(family_config: Config, n_samples: int | None) -> dict[str, Any]:
    """One family's deletion tests, keyed by method, and its process's peak (run in its own process).

    The methods and integration steps are the ones ``analyze`` uses for the family (both gradient
    methods and 32 steps for the word models, with the exact heatmap beside them for the n-gram
    family; for BERT and the ensemble integrated gradients alone, 4 steps: see
    ``imdb.tools.report.settings``)."""
    import imdb  # noqa: F401  (analytics off in the spawned process too)
    from imdb.models.loading import load_keras_model
    from imdb.tools.explain.deletion import faithfulness_of_methods
    from imdb.tools.explain.methods import DEFAULT_METHOD
    from imdb.tools.memory import process_peak_mb
    from imdb.tools.report.settings import default_faithfulness_samples, default_steps, faithfulness_methods

    family = family_config.model
    try:
        model = load_keras_model(family_config)
    except (ModelError, ValueError) as exc:
        return skipped(family_config, exc)
    samples = default_faithfulness_samples(family) if n_samples is None else n_samples
    methods = faithfulness_methods(family, DEFAULT_METHOD)
    rows = faithfulness_of_methods(family_config, methods, samples, steps=default_steps(family), model=model)
    return {**dict(zip(methods, rows)), PROCESS_PEAK: process_peak_mb()}
