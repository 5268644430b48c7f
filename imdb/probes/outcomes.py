"""Did a model pass each probe case? Pass rates per capability, from positive-class probabilities.

Minimum functionality: the arg-max is the expected label. Invariance: the predicted class is
the source review's. Directional: p(positive) moved the stated way, or the wrong way by no
more than the suite's tolerance (a saturated probability cannot move at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from imdb.probes.cases import DIRECTIONAL, INVARIANCE, MINIMUM_FUNCTIONALITY, ProbeCase
from imdb.probes.stats import Rate, wilson

POSITIVE = 1
# Two classes: the arg-max is positive exactly when p(positive) exceeds one half.
DECISION_THRESHOLD = 0.5


@dataclass(frozen=True)
class CapabilityRate:
    capability: str
    kind: str
    rate: Rate


def case_passes(case: ProbeCase, positive: float, source_positive: float | None, tolerance: float) -> bool:
    """``positive`` is p(positive) on the case, ``source_positive`` on its source review."""
    if case.kind == MINIMUM_FUNCTIONALITY:
        return (positive > DECISION_THRESHOLD) == (case.label == POSITIVE)
    if source_positive is None:
        raise ValueError(f"probe {case.sample_id} needs the prediction on its source review {case.source_id}")
    if case.kind == INVARIANCE:
        return (positive > DECISION_THRESHOLD) == (source_positive > DECISION_THRESHOLD)
    if case.kind == DIRECTIONAL:
        change = positive - source_positive
        return change <= tolerance if case.direction == "down" else change >= -tolerance
    raise ValueError(f"probe {case.sample_id} has unknown kind {case.kind!r}")


def outcomes(cases: Sequence[ProbeCase], positive: Mapping[str, float], tolerance: float) -> np.ndarray:
    """One bool per case; ``positive`` maps sample ids (cases and source reviews) to p(positive)."""
    return np.array([case_passes(case, positive[case.sample_id],
                                 positive.get(case.source_id) if case.kind != MINIMUM_FUNCTIONALITY else None,
                                 tolerance) for case in cases], dtype=bool)


def rates(cases: Sequence[ProbeCase], passed: np.ndarray) -> list[CapabilityRate]:
    """Pass rate and Wilson interval per capability, in the order the capabilities first appear."""
    order = list(dict.fromkeys((case.capability, case.kind) for case in cases))
    rows = []
    for capability, kind in order:
        members = np.array([case.capability == capability and case.kind == kind for case in cases], dtype=bool)
        rows.append(CapabilityRate(capability=capability, kind=kind,
                                   rate=wilson(int(passed[members].sum()), int(members.sum()))))
    return rows


def template_rates(cases: Sequence[ProbeCase], passed: np.ndarray) -> dict[str, Rate]:
    """Pass rate per template (``plain/0``, ``invariance/names`` …): which wording a capability's
    failures come from."""
    order = list(dict.fromkeys(case.template for case in cases))
    templates = np.array([case.template for case in cases])
    return {template: wilson(int(passed[templates == template].sum()), int((templates == template).sum()))
            for template in order}
