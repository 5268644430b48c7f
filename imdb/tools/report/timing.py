"""Wall-clock time per analysis step, so the report and its JSON line show where time goes."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Iterator

LOG = logging.getLogger(__name__)
DECIMALS = 1


class StepTimer:
    """``with timer("umap"): ...`` records the step's seconds; steps keep their first-run order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()

    @contextlib.contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[step] = self.seconds.get(step, 0.0) + elapsed
            LOG.info("%s: %.1f s", step, elapsed)

    @property
    def total(self) -> float:
        """Seconds since the timer was created (all steps and what ran between them)."""
        return time.perf_counter() - self._started

    def rounded(self) -> dict[str, float]:
        """Seconds per step, rounded for the JSON line and the report."""
        return {step: round(value, DECIMALS) for step, value in self.seconds.items()}
