"""``imdb-leap bench`` runs end to end and reports every section; figures are printed, not asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import leap_test
from imdb.contract.config import MODEL_FAMILIES
from imdb.tools.explain.methods import DEFAULT_METHOD
from imdb.tools.report.settings import faithfulness_methods

BENCH_LIMIT = 100
NAIVE_SAMPLES = 50
FAITHFULNESS_SAMPLES = 10
# The word binder: input_tokens, sentiment and five metadata functions; three visualizers.
FUNCTIONS, VISUALIZERS = 7, 3
# Figures are rounded to the millisecond, so a sum of two may differ from the rounded total by two.
ROUNDING = 0.002
# The limited bench still trains the linear references and runs every family's probes and deletion
# test in processes of their own (BERT's and the ensemble's included): minutes on 2 free cores, more under load.
BENCH_TIMEOUT_S = 1500


def test_bench_reports_every_section_with_the_official_example_ratio(imdb_tarball: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "imdb.tools.cli", "bench", "--model", "dense", "--data", str(imdb_tarball),
               "--limit", str(BENCH_LIMIT), "--naive-samples", str(NAIVE_SAMPLES), "--no-inference",
               "--faithfulness-samples", str(FAITHFULNESS_SAMPLES)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S,
                               env=leap_test.check_env(imdb_tarball, tmp_path / "cache"))
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert {"official_example_ratio", "machine", "data", "cold_start", "binder", "pass", "official_example",
            "naive_textblob_per_call", "faithfulness", "linear_reference", "probes", "memory"} <= set(result)
    cold = result["cold_start"]
    assert cold["reviews"] == 2 * BENCH_LIMIT and cold["unlabeled"] == 0, "the training archive has no unsup/"
    assert cold["scores_identical"] and cold["later_start"]["computed"] == 0
    linear = result["linear_reference"]
    assert linear["training"] == linear["validation"] == BENCH_LIMIT
    for features in ("unigram", "unigram_bigram", "unigram_all_words"):
        assert 0.5 < linear[f"{features}_accuracy"] <= 1.0 and linear[f"{features}_features"] > 0
    assert linear["unigram_all_words_features"] >= linear["unigram_features"]
    assert "dense_accuracy" not in linear, "cards cover the whole split: no ratio on a limited run"
    data = result["data"]
    assert data["reviews"] == 2 * BENCH_LIMIT, "training and validation, --limit each"
    assert data["serial"]["workers"] == 1 and data["parallel"]["workers"] >= 1
    assert data["cold_start_serial_s"] == data["serial"]["cold_start_s"] > data["serial"]["metadata_s"] > 0
    assert data["cold_start_parallel_s"] == data["parallel"]["cold_start_s"] > data["parallel"]["metadata_s"] > 0
    assert data["parallel_speedup_ratio"] == round(data["cold_start_serial_s"] / data["cold_start_parallel_s"], 2)
    parts = data["text_scores"]
    assert 0 < parts["samples"] <= data["reviews"] and parts["worker_start_s"] > 0
    assert parts["sentiment"]["mean_ms"] > 0 and parts["readability"]["mean_ms"] > 0
    assert 0 < parts["readability_share"] < 1 and data["warm_load_s"] > 0
    assert parts["readability_values_differing"] == 0, "the fast readability is textstat's, value for value"
    assert parts["readability_textstat_per_call"]["mean_ms"] > 0
    assert parts["readability_speedup_ratio"] > 0
    passed = result["pass"]
    assert passed["samples"] == BENCH_LIMIT
    assert passed["encoders_metadata"] == FUNCTIONS and passed["visualizers"] == VISUALIZERS
    assert passed["encoders_metadata_per_sample_us"] > 0 and passed["visualizers_per_sample_us"] > 0
    assert abs(passed["whole_pass_s"] - passed["encoders_metadata_s"] - passed["visualizers_s"]) <= ROUNDING
    for name in ("input_tokens", "sentiment", "metadata_text", "metadata_readability", "review_visualizer"):
        timing = result["binder"][name]["repeat"]
        assert timing["calls"] == NAIVE_SAMPLES and 0 < timing["p50_us"] <= timing["p99_us"]
    official, textblob = result["official_example"], result["naive_textblob_per_call"]
    assert result["official_example_ratio"] == official["ratio"] == official["platform"]["ratio"]
    for comparison in (official, textblob):
        assert comparison["samples"] == NAIVE_SAMPLES and comparison["functions"] == FUNCTIONS
        for path in ("platform", "validated"):
            assert comparison[path]["ratio"] > 1 and comparison[path]["ours_per_sample_us"] > 0
    assert official["tokenizer_words"] > 0
    assert textblob["platform"]["baseline_per_sample_us"] > official["platform"]["baseline_per_sample_us"], \
        "TextBlob per call costs more than the example's file read and Keras tokenisation"
    maps = result["projection"]
    assert maps["samples"] == BENCH_LIMIT and maps["default"] == "tsne" and maps["first_run_ceiling_s"] == 10.0
    for method in ("tsne", "umap", "pca"):
        row = maps[method]
        assert row["first_run_s"] >= row["fit_s"] > 0 and row["import_s"] > 0
        assert 0.5 < row["trustworthiness"] <= 1.0 and 0.0 <= row["neighbour_label_agreement"] <= 1.0
    assert maps["default_within_ceiling"] == (maps["tsne"]["first_run_s"] <= 10.0)
    memory = result["memory"]
    assert memory["per_section"] is True, "Linux lets the bench reset the high-water mark per section"
    sections = memory["sections_peak_rss_mb"]
    assert {"data", "cold_start", "binder", "pass", "baselines", "faithfulness", "projection", "linear_reference",
            "probes"} <= set(sections)
    assert memory["peak_rss_mb"] >= max(sections.values())
    assert sections[memory["largest_section"]] == max(sections.values())
    assert memory["ceiling_mb"] == 4096 and memory["within_ceiling"] == (memory["peak_rss_mb"] <= 4096)
    assert "inference" not in memory["family_processes"], "--no-inference runs no family's inference process"
    dense_probes = result["probes"]["dense"]
    assert {"negation", "contrast", "downtoner", "typos", "negative_ending"} <= set(dense_probes)
    for row in dense_probes.values():
        assert row["n"] > 0 and row["ci"][0] <= row["pass_rate"] <= row["ci"][1]
    for family in MODEL_FAMILIES:
        row = result["faithfulness"][family]
        methods = faithfulness_methods(family, DEFAULT_METHOD)
        assert set(row) == {*methods, "process_peak_rss_mb"}, (family, sorted(row))
        for method in methods:
            assert row[method]["model"] == family and row[method]["n"] == FAITHFULNESS_SAMPLES
            assert -1.0 <= row[method]["margin"] <= 1.0 and 0.0 <= row[method]["win_rate"] <= 1.0
        held = memory["family_processes"]["faithfulness"][family]
        assert held == {"peak_rss_mb": row["process_peak_rss_mb"], "ceiling_mb": 8192 if family in ("bert", "ensemble") else 4096}
    assert result["faithfulness"]["ngram"]["exact"]["margin"] > 0, "the exact heatmap's top words beat random ones"
