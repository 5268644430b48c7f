"""Probe every given model on the same cases; rates, verdicts and failing cases' heatmaps.

Why through the pipeline: probe ids resolve in ``Pipeline`` like review ids, so the model
inputs come from the integration's own encoders and the heatmaps from the report's explainer
and the binder's ``heatmap_function`` path (``imdb.tools.report.heatmaps``), exactly as for
the reviews the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from imdb.contract.config import Config
from imdb.models.inference import DEFAULT_BATCH_SIZE, predict_logits
from imdb.models.loading import load_keras_model
from imdb.tools.report.settings import AnalysisError
from imdb.probes import MINIMUM_FUNCTIONALITY, ProbeCase, ProbeSet
from imdb.probes.outcomes import CapabilityRate, outcomes, rates, template_rates
from imdb.probes.stats import CONFIDENCE, difference_interval
from imdb.runtime import scoring
from imdb.runtime.pipeline import Pipeline
from imdb.tools.explain import DEFAULT_METHOD, DEFAULT_STEPS
from imdb.tools.report.heatmaps import Heatmap, heatmaps

# Failing cases shown with a heatmap, per capability and model.
DEFAULT_FAILING_SHOWN = 2
PERCENT = 100


@dataclass
class ProbeTarget:
    """One model to probe: its display name, pipeline (encoder) and Keras model."""

    name: str
    pipeline: Pipeline
    model: Any
    explainer: Any = None


@dataclass
class ModelProbe:
    """One model's results: p(positive) per case and source review, pass per case, rates."""

    name: str
    config: Config
    positive: dict[str, float]
    passed: np.ndarray
    rates: list[CapabilityRate]
    failing: dict[str, list[str]] = field(default_factory=dict)
    heatmaps: dict[str, Heatmap] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    capability: str
    sentence: str
    difference: float | None = None
    low: float | None = None
    high: float | None = None
    outcome: str = ""


@dataclass
class Behaviour:
    """Everything the Behaviour section shows."""

    probes: ProbeSet
    models: list[ModelProbe]
    verdicts: list[Verdict]

    @property
    def cases(self) -> list[ProbeCase]:
        return self.probes.cases

    def case(self, sample_id: str) -> ProbeCase:
        return self.probes[sample_id]

    def pass_rates(self) -> dict[str, dict[str, float]]:
        """capability -> model -> pass rate (what ``imdb-leap probe`` prints)."""
        table: dict[str, dict[str, float]] = {}
        for model in self.models:
            for row in model.rates:
                table.setdefault(row.capability, {})[model.name] = round(row.rate.value, 4)
        return table


def _positive_probabilities(target: ProbeTarget, ids: Sequence[str], batch_size: int, progress: bool) -> dict[str, float]:
    logits = predict_logits(target.pipeline, target.model, list(ids), batch_size=batch_size, progress=progress,
                            desc=f"probes ({target.name})")
    polarity = target.pipeline.polarity
    if polarity is None:
        raise AnalysisError(f"the classes of {target.pipeline.config.data} ({', '.join(target.pipeline.labels)}) "
                            f"have no negative/positive polarity, which the probes test: set `polarity` in the "
                            f"config to map each class to negative or positive")
    return dict(zip(ids, scoring.positive_probability(logits, polarity).astype(float).tolist()))


def probe_model(target: ProbeTarget, probes: ProbeSet, *, batch_size: int = DEFAULT_BATCH_SIZE,
                progress: bool = True) -> ModelProbe:
    """Predictions on every case and on the source reviews the perturbations start from."""
    sources = sorted({case.source_id for case in probes if case.kind != MINIMUM_FUNCTIONALITY})
    positive = _positive_probabilities(target, [*probes.ids, *sources], batch_size, progress)
    passed = outcomes(probes.cases, positive, probes.suite.directional_tolerance)
    return ModelProbe(name=target.name, config=target.pipeline.config, positive=positive, passed=passed,
                      rates=rates(probes.cases, passed))


def failing_cases(result: ModelProbe, probes: ProbeSet, shown: int) -> dict[str, list[str]]:
    """Per capability, the failing cases the model got most wrong (most confident, or the
    largest move the wrong way)."""
    by_capability: dict[str, list[tuple[float, str]]] = {}
    for case, ok in zip(probes.cases, result.passed):
        if ok:
            continue
        p = result.positive[case.sample_id]
        if case.kind == MINIMUM_FUNCTIONALITY:
            badness = abs(p - case.label)
        else:
            badness = abs(p - result.positive[case.source_id])
        by_capability.setdefault(case.capability, []).append((badness, case.sample_id))
    return {capability: [sample_id for _, sample_id in sorted(items, key=lambda item: -item[0])[:shown]]
            for capability, items in by_capability.items()}


def _points(value: float) -> str:
    return f"{PERCENT * value:.1f}"


def single_sentence(row: CapabilityRate, name: str) -> str:
    """The verdict for one model: pass rate, interval, and what failing means for this kind."""
    rate = row.rate
    interval = f"{int(CONFIDENCE * PERCENT)} % CI {_points(rate.low)}–{_points(rate.high)} %"
    text = f"{name} passes {rate.passed} of {rate.n} '{row.capability}' cases ({_points(rate.value)} %, {interval})"
    if row.kind == "invariance":
        text += f"; flip rate {_points(1 - rate.value)} %"
    elif row.kind == "directional":
        text += f"; violation rate {_points(1 - rate.value)} %"
    return text + "."


def compare_sentence(row_a: CapabilityRate, row_b: CapabilityRate, name_a: str, name_b: str) -> Verdict:
    """Does ``b`` beat ``a`` on this capability by more than the interval of the difference?"""
    diff, low, high = difference_interval(row_b.rate, row_a.rate)
    interval = f"{int(CONFIDENCE * PERCENT)} % CI of the difference {_points(low)} to {_points(high)} points"
    if low > 0:
        outcome = f"{name_b} beats {name_a}"
    elif high < 0:
        outcome = f"{name_a} beats {name_b}"
    else:
        outcome = "no clear difference"
    detail = (f"{row_a.capability}: {name_b} {_points(row_b.rate.value)} % vs {name_a} {_points(row_a.rate.value)} % "
              f"of {row_a.rate.n} cases, a difference of {diff * PERCENT:+.1f} points ({interval})")
    if outcome == "no clear difference":
        sentence = f"{detail}: the interval includes 0, so no clear difference."
    else:
        sentence = f"{detail}: {outcome} by more than the interval."
    return Verdict(capability=row_a.capability, sentence=sentence, difference=diff, low=low, high=high,
                   outcome=outcome)


def verdicts(models: Sequence[ModelProbe]) -> list[Verdict]:
    """One sentence per capability: the first model's rate, or the second against the first."""
    first = models[0]
    if len(models) == 1:
        return [Verdict(capability=row.capability, sentence=single_sentence(row, first.name)) for row in first.rates]
    second = models[1]
    return [compare_sentence(row_a, row_b, first.name, second.name) for row_a, row_b in zip(first.rates, second.rates)]


def run_probes(targets: Sequence[ProbeTarget], *, failing_shown: int = DEFAULT_FAILING_SHOWN,
               method: str = DEFAULT_METHOD, steps: int = DEFAULT_STEPS, batch_size: int = DEFAULT_BATCH_SIZE,
               progress: bool = True) -> Behaviour:
    """Every target on the first target's probe set; heatmaps for the failing cases shown."""
    probes = targets[0].pipeline.probes
    results = []
    for target in targets:
        if target.pipeline.probes.ids != probes.ids:
            raise ValueError(f"{target.name} sees other probe cases than {targets[0].name}: the two configurations "
                             f"must share data, seed and validation fraction")
        result = probe_model(target, probes, batch_size=batch_size, progress=progress)
        if failing_shown:
            result.failing = failing_cases(result, probes, failing_shown)
            explainer = target.explainer or _explainer(target)
            ids = [sample_id for group in result.failing.values() for sample_id in group]
            result.heatmaps = heatmaps(target.pipeline, explainer, ids, method, steps, progress)
        results.append(result)
    return Behaviour(probes=probes, models=results, verdicts=verdicts(results))


def _explainer(target: ProbeTarget) -> Any:
    from imdb.tools.explain import Explainer

    target.explainer = Explainer(target.pipeline, target.model)
    return target.explainer


def target_for(config: Config, name: str | None = None) -> ProbeTarget:
    """A target from a configuration: its pipeline and its Keras model (the explainer needs Keras)."""
    pipeline = Pipeline(config)
    return ProbeTarget(name=name or config.model, pipeline=pipeline, model=load_keras_model(config, pipeline.labels))


def summary_json(behaviour: Behaviour) -> dict[str, Any]:
    """The numbers, machine-readable: per model and capability n, passed, rate and interval."""
    return {
        "suite": {"file": behaviour.probes.suite.path.name, "fingerprint": behaviour.probes.suite.fingerprint,
                  "seed": behaviour.probes.suite.seed, "cases": len(behaviour.probes)},
        "models": {model.name: {row.capability: {"kind": row.kind, "n": row.rate.n, "passed": row.rate.passed,
                                                 "pass_rate": row.rate.value, "ci": [row.rate.low, row.rate.high]}
                                for row in model.rates} for model in behaviour.models},
        "templates": {model.name: {template: {"n": rate.n, "passed": rate.passed, "pass_rate": rate.value,
                                              "ci": [rate.low, rate.high]}
                                   for template, rate in template_rates(behaviour.cases, model.passed).items()}
                      for model in behaviour.models},
        "verdicts": [{"capability": v.capability, "sentence": v.sentence, "difference": v.difference,
                      "ci": None if v.low is None else [v.low, v.high], "outcome": v.outcome}
                     for v in behaviour.verdicts],
        "failing": {model.name: model.failing for model in behaviour.models},
    }
