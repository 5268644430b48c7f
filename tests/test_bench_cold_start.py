"""The bench's ``cold_start`` section on a small official-style source: labelled and unlabelled
reviews scored serial and parallel, then served from the persisted file; figures are reported,
not asserted, but every field is there and the two runs agree."""

from __future__ import annotations

from pathlib import Path

from imdb.contract.config import load_config
from imdb.tools.bench.cold_start import TARGET_REVIEWS, TARGET_S, bench_cold_start

# The official-style sample: 300 train reviews, 200 test reviews and a dozen unlabelled ones,
# enough for two scoring workers (256 reviews each at least).
SAMPLE_UNLABELED = 12
SAMPLE_REVIEWS = 300 + 200 + SAMPLE_UNLABELED
# cores_busy is rounded to 0.01 from unrounded times, cpu_s and seconds to the millisecond.
CORES_ROUNDING = 0.02


def test_cold_start_section_reports_serial_parallel_and_the_later_start(official_tarball: Path,
                                                                        tmp_path: Path) -> None:
    config = load_config(environ={}, model="ngram", data=str(official_tarball), data_root=str(tmp_path / "unused"))
    result = bench_cold_start(config, tmp_path / "bench", progress=False)
    assert result["reviews"] == SAMPLE_REVIEWS == result["labelled"] + result["unlabeled"]
    assert result["unlabeled"] == SAMPLE_UNLABELED and result["index_s"] > 0
    serial, parallel = result["serial"], result["parallel"]
    assert serial["workers"] == 1 and serial["worker_processes"] == 0 and parallel["workers"] >= 1
    for run in (serial, parallel):
        assert run["scored"] == SAMPLE_REVIEWS and run["seconds"] > 0 and run["per_review_ms"] > 0
        assert run["cpu_s"] > 0 and abs(run["cores_busy"] - run["cpu_s"] / run["seconds"]) <= CORES_ROUNDING
    assert result["parallel_speedup_ratio"] == round(serial["seconds"] / parallel["seconds"], 2)
    assert result["scores_identical"], "the serial and parallel runs score every review alike"
    later = result["later_start"]
    assert later["served_from_cache"] == SAMPLE_REVIEWS and later["computed"] == 0
    assert later["seconds"] >= later["text_scores_s"] > 0
    assert (result["target_s"], result["target_reviews"]) == (TARGET_S, TARGET_REVIEWS)
    assert result["within_target"] == (result["parallel_s_per_target_reviews"] <= TARGET_S)
