"""Peak resident memory per benchmark section (and of a whole ``analyze``), read from the kernel
rather than sampled.

Why the kernel's high-water mark: sampling RSS from a thread misses short spikes (a tf2onnx
conversion, a batch of attention scores), and ``ru_maxrss`` only ever grows, so after the first
heavy section every later one would read the same number. Linux keeps ``VmHWM`` per process and
lets the process reset it (writing ``5`` to ``/proc/self/clear_refs``, Linux 4.0 and later), so
each section starts from what is resident at its start and reports its own peak. Where the reset
is refused (another kernel, a locked-down container) the figures are the process peak so far and
the result says so (``per_section: false``).
"""

from __future__ import annotations

import resource
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

STATUS_FILE = Path("/proc/self/status")
CLEAR_REFS_FILE = Path("/proc/self/clear_refs")
# Written to clear_refs: reset the peak resident set size to the current one.
RESET_PEAK = "5"
HIGH_WATER_FIELD = "VmHWM:"
KIB_PER_MIB = 1024
ROUND = 1


def _high_water_kib() -> int:
    """The process's resident high-water mark in KiB (``ru_maxrss`` where /proc is absent)."""
    try:
        for line in STATUS_FILE.read_text().splitlines():
            if line.startswith(HIGH_WATER_FIELD):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> bool:
    """Reset the high-water mark to the current RSS; False where the kernel refuses."""
    try:
        CLEAR_REFS_FILE.write_text(RESET_PEAK)
    except OSError:
        return False
    return True


def _mib(kib: int) -> float:
    return round(kib / KIB_PER_MIB, ROUND)


def process_peak_mb() -> float:
    """This process's peak resident memory so far, in MiB."""
    return _mib(_high_water_kib())


class SectionPeaks:
    """``with peaks.section("inference"): ...`` records that section's peak RSS in MiB.

    ``figures()`` gives every section's peak, the largest of them, the process peak over the
    whole run and the largest child process (the parallel scoring workers)."""

    def __init__(self) -> None:
        self.sections: dict[str, float] = {}
        self.per_section = True
        self._run_peak_kib = 0

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        self._run_peak_kib = max(self._run_peak_kib, _high_water_kib())
        self.per_section = _reset_peak() and self.per_section
        try:
            yield
        finally:
            peak = _high_water_kib()
            self._run_peak_kib = max(self._run_peak_kib, peak)
            self.sections[name] = _mib(peak)

    def figures(self) -> dict[str, object]:
        run_peak = max(self._run_peak_kib, _high_water_kib())
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return {"peak_rss_mb": _mib(run_peak), "sections_peak_rss_mb": dict(self.sections),
                "largest_section": max(self.sections, key=self.sections.get) if self.sections else None,
                "per_section": self.per_section, "children_peak_rss_mb": _mib(children)}


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a spawned process of its own, which takes every byte it allocated
    with it when it ends: a family's model, a tf2onnx graph, TensorFlow's allocator pools.
    ``function`` must be importable at module level (spawn pickles it by name)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)
