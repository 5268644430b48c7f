"""Small, dependency-free timing helpers: per-call latency percentiles, a stopwatch, the machine's load."""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Iterable

import numpy as np

NS_PER_US = 1_000
NS_PER_S = 1_000_000_000
P50, P99 = 50, 99


def time_calls(function: Callable[..., Any], argument_tuples: Iterable[tuple]) -> dict[str, float]:
    """Call ``function(*args)`` for each tuple; latency p50/p99 in microseconds and calls per second."""
    latencies = []
    for args in argument_tuples:
        started = time.perf_counter_ns()
        function(*args)
        latencies.append(time.perf_counter_ns() - started)
    values = np.asarray(latencies, dtype=np.float64)
    total_s = values.sum() / NS_PER_S
    return {
        "calls": int(values.size),
        "p50_us": round(float(np.percentile(values, P50)) / NS_PER_US, 2),
        "p99_us": round(float(np.percentile(values, P99)) / NS_PER_US, 2),
        "per_s": round(values.size / total_s, 1) if total_s else float("inf"),
        "total_s": round(total_s, 3),
    }


class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.seconds``."""

    def __enter__(self) -> "Stopwatch":
        self._started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._started


def machine() -> dict[str, Any]:
    """Cores and load now: the machines are shared, so every figure is read next to this."""
    return {"cores": len(os.sched_getaffinity(0)), "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]}
