"""The bench's per-section memory peaks: each section reports its own high-water mark, not the
process peak so far (which would hide a light section behind a heavy one before it)."""

from __future__ import annotations

import numpy as np

from imdb.tools.memory import SectionPeaks

HEAVY_MB = 400
LIGHT_MB = 20
BYTES_PER_MB = 1024 * 1024


def _touch(megabytes: int) -> int:
    """Allocate and write ``megabytes`` so the pages are resident, then free them."""
    block = np.ones(megabytes * BYTES_PER_MB, dtype=np.uint8)
    total = int(block[::4096].sum())
    del block
    return total


def test_a_light_section_after_a_heavy_one_reads_its_own_lower_peak() -> None:
    peaks = SectionPeaks()
    with peaks.section("heavy"):
        _touch(HEAVY_MB)
    with peaks.section("light"):
        _touch(LIGHT_MB)
    figures = peaks.figures()
    sections = figures["sections_peak_rss_mb"]
    assert figures["per_section"] is True
    assert sections["heavy"] - sections["light"] > HEAVY_MB / 2, sections
    assert figures["largest_section"] == "heavy"
    assert figures["peak_rss_mb"] >= sections["heavy"]
    assert figures["children_peak_rss_mb"] >= 0
