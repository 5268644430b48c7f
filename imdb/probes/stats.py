"""Pass rates with binomial confidence intervals, and the interval of a difference of two rates.

Wilson's score interval (via SciPy's ``binomtest``) rather than the normal approximation:
it stays inside [0, 1] and keeps its coverage at rates near 0 or 1 and for n of a few dozen,
which is where probe pass rates live. The difference of two models' rates uses Newcombe's
hybrid score interval (1998, method 10), built from the two Wilson intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Rate:
    """``passed`` of ``n`` cases, with its Wilson interval."""

    passed: int
    n: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.passed / self.n if self.n else float("nan")


def wilson(passed: int, n: int, confidence: float = CONFIDENCE) -> Rate:
    """The rate ``passed / n`` with its Wilson score interval (NaN bounds when ``n`` is 0)."""
    if n == 0:
        return Rate(passed=0, n=0, low=float("nan"), high=float("nan"))
    from scipy.stats import binomtest

    interval = binomtest(passed, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Rate(passed=passed, n=n, low=float(interval.low), high=float(interval.high))


def difference_interval(a: Rate, b: Rate) -> tuple[float, float, float]:
    """``a - b`` and Newcombe's hybrid score interval for it (independent samples: for the same
    cases under two models this is conservative, i.e. wider than a paired interval)."""
    pa, pb = a.value, b.value
    diff = pa - pb
    low = diff - math.sqrt((pa - a.low) ** 2 + (b.high - pb) ** 2)
    high = diff + math.sqrt((a.high - pa) ** 2 + (pb - b.low) ** 2)
    return diff, low, high
