"""The fine-tuning learning-rate plan: linear warm-up, then linear decay to zero.

Why a plain function of the global step, fixed when a run starts: a run can span several
interrupted processes, and each must apply exactly the rate the uninterrupted run would
have. The plan (peak, warm-up steps, total steps) is stored in the run's checkpoint state,
so a resumed process never re-derives it from settings that may have changed around it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

# The usual BERT fine-tuning recipe: warm up over the first 10 % of the steps.
WARMUP_FRACTION = 0.1


@dataclass(frozen=True)
class SchedulePlan:
    """Warm up over ``warmup_steps`` to ``peak``, then fall linearly to 0 at ``total_steps``.

    Warm-up keeps the first updates from wrecking pretrained weights while AdamW's moment
    estimates are still noise; the decay lets the last steps settle.
    """

    peak: float
    warmup_steps: int
    total_steps: int

    @classmethod
    def for_steps(cls, peak: float, total_steps: int) -> "SchedulePlan":
        return cls(peak, math.ceil(WARMUP_FRACTION * total_steps), total_steps)

    def rate(self, step: int) -> float:
        """The rate of the update made at ``step`` (0-based: the first update is not zero)."""
        if step < self.warmup_steps:
            return self.peak * (step + 1) / max(self.warmup_steps, 1)
        return self.peak * max(0, self.total_steps - step) / max(self.total_steps - self.warmup_steps, 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "SchedulePlan":
        return cls(float(raw["peak"]), int(raw["warmup_steps"]), int(raw["total_steps"]))
