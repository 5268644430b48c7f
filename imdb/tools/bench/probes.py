"""The benchmark's ``probes`` section: behavioural probe pass rates per trained model family.

Why in the benchmark: a model change (new architecture, other training settings) then shows
up as a capability change — negation, contrast, invariance — beside the speed figures, in the
same run and on the same cases. No heatmaps here: only the rates and their intervals.
"""

from __future__ import annotations

from typing import Any, Sequence

from imdb.tools.bench.results import skipped
from imdb.contract.config import MODEL_FAMILIES, Config
from imdb.contract.model_files import ModelError
from imdb.tools.probes.run import ProbeTarget, probe_model

ROUND = 4


def bench_probes(config: Config, families: Sequence[str] = MODEL_FAMILIES, *, progress: bool = True) -> dict[str, Any]:
    """Per family with a trained model: pass rate and 95 % Wilson interval per capability.

    Each family runs in a fresh (spawned) process, as the bench's inference rows do, so BERT's
    and the ensemble's models are released before the next family loads."""
    from imdb.tools.memory import in_fresh_process

    return {family: in_fresh_process(probe_row, config.with_overrides(model=family), progress) for family in families}


def probe_row(family_config: Config, progress: bool) -> dict[str, Any]:
    """One family's pass rates (run in its own process; see ``bench_probes``)."""
    import imdb  # noqa: F401  (analytics off in the spawned process too)
    from imdb.models.loading import load_keras_model
    from imdb.runtime.pipeline import Pipeline

    try:
        model = load_keras_model(family_config)
    except (ModelError, ValueError) as exc:
        return skipped(family_config, exc)
    pipeline = Pipeline(family_config)
    result = probe_model(ProbeTarget(name=family_config.model, pipeline=pipeline, model=model), pipeline.probes,
                         progress=progress)
    return {row.capability: {"kind": row.kind, "n": row.rate.n, "pass_rate": round(row.rate.value, ROUND),
                             "ci": [round(row.rate.low, ROUND), round(row.rate.high, ROUND)]}
            for row in result.rates}
