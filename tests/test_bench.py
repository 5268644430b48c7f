"""``imdb-leap bench`` runs end to end and reports every section; figures are printed, not asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import leap_test

BENCH_LIMIT = 300
NAIVE_SAMPLES = 100
FAITHFULNESS_SAMPLES = 20


def test_bench_reports_every_section_with_the_naive_ratio(imdb_tarball: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "imdb.tools.cli", "bench", "--model", "dense", "--data", str(imdb_tarball),
               "--limit", str(BENCH_LIMIT), "--naive-samples", str(NAIVE_SAMPLES), "--no-inference",
               "--faithfulness-samples", str(FAITHFULNESS_SAMPLES)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600,
                               env=leap_test.check_env(imdb_tarball, tmp_path / "cache"))
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert {"data", "binder", "pass", "naive", "faithfulness", "linear_reference", "probes", "memory"} <= set(result)
    linear = result["linear_reference"]
    assert linear["training"] == linear["validation"] == BENCH_LIMIT
    for features in ("unigram", "unigram_bigram", "unigram_all_words"):
        assert 0.5 < linear[f"{features}_accuracy"] <= 1.0 and linear[f"{features}_features"] > 0
    assert linear["unigram_all_words_features"] >= linear["unigram_features"]
    assert "dense_accuracy" not in linear, "cards cover the whole split: no ratio on a limited run"
    assert result["data"]["cold_start_s"] > 0 and result["data"]["warm_load_s"] > 0
    assert result["pass"]["samples"] == BENCH_LIMIT and result["pass"]["whole_pass_s"] > 0
    for name in ("input_tokens", "sentiment", "metadata_text", "review_visualizer"):
        timing = result["binder"][name]["repeat"]
        assert timing["calls"] == NAIVE_SAMPLES and 0 < timing["p50_us"] <= timing["p99_us"]
    assert any("ratio" in key for key in result["naive"]) and result["naive"]["speedup_ratio"] > 1
    assert result["memory"]["peak_rss_mb"] > 0
    dense_probes = result["probes"]["dense"]
    assert {"negation", "contrast", "downtoner", "typos", "negative_ending"} <= set(dense_probes)
    for row in dense_probes.values():
        assert row["n"] > 0 and row["ci"][0] <= row["pass_rate"] <= row["ci"][1]
    for method in ("gradxinput", "ig"):
        assert result["faithfulness"][method]["n"] == FAITHFULNESS_SAMPLES
        assert "margin" in result["faithfulness"][method]
