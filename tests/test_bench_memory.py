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


def test_each_family_process_is_held_to_its_own_familys_ceiling() -> None:
    """A word family's bench: its own processes within 4 GB, BERT's inference and deletion-test
    processes within 8 GB, each section's rows apart."""
    from imdb.contract.config import load_config
    from imdb.tools.bench.run import memory_figures

    peaks = SectionPeaks()
    with peaks.section("inference"):
        pass
    config = load_config(environ={}, model="dense")
    fits = memory_figures(peaks, config, {
        "inference": {"dense": {"process_peak_rss_mb": 900.0}, "bert": {"process_peak_rss_mb": 8000.0},
                      "rnn": {"skipped": "no model"}},
        "faithfulness": {"bert": {"process_peak_rss_mb": 3000.0, "ig": {"margin": 0.25}}}})
    assert fits["family_processes"] == {
        "inference": {"dense": {"peak_rss_mb": 900.0, "ceiling_mb": 4096}, "bert": {"peak_rss_mb": 8000.0, "ceiling_mb": 8192}},
        "faithfulness": {"bert": {"peak_rss_mb": 3000.0, "ceiling_mb": 8192}}}
    assert fits["within_ceiling"] is (fits["peak_rss_mb"] <= 4096)
    over = memory_figures(peaks, config, {"inference": {"cnn": {"process_peak_rss_mb": 5000.0}}})
    assert over["within_ceiling"] is False
    deletion_over = memory_figures(peaks, config, {"faithfulness": {"bert": {"process_peak_rss_mb": 10382.3}}})
    assert deletion_over["within_ceiling"] is False


def test_a_familys_export_process_counts_against_its_ceiling() -> None:
    """The ONNX export runs in a process of its own; its peak is the family's too."""
    from imdb.contract.config import load_config
    from imdb.tools.bench.run import memory_figures

    peaks = SectionPeaks()
    with peaks.section("inference"):
        pass
    config = load_config(environ={}, model="dense")
    rows = {"bert": {"process_peak_rss_mb": 3000.0, "export_process_peak_rss_mb": 7000.0}}
    assert memory_figures(peaks, config, {"inference": rows})["family_processes"]["inference"] == {
        "bert": {"peak_rss_mb": 7000.0, "ceiling_mb": 8192}}
    rows["bert"]["export_process_peak_rss_mb"] = 9000.0
    assert memory_figures(peaks, config, {"inference": rows})["within_ceiling"] is False


def test_a_transformer_pass_is_capped_and_a_word_pass_is_not() -> None:
    """Deletion tests and other already-encoded passes run a transformer 32 rows at a time (its
    attention scores grow with the square of the length); word models keep the requested size."""
    from imdb.contract.model_files import BERT_INPUT_NAMES, ENSEMBLE_INPUT_NAMES, WORD_INPUT_NAMES
    from imdb.models.inference import DEFAULT_BATCH_SIZE, TRANSFORMER_BATCH_SIZE, rows_per_pass, run_model_batched

    assert rows_per_pass(BERT_INPUT_NAMES) == rows_per_pass(ENSEMBLE_INPUT_NAMES) == TRANSFORMER_BATCH_SIZE
    assert rows_per_pass(WORD_INPUT_NAMES) == DEFAULT_BATCH_SIZE
    assert rows_per_pass(BERT_INPUT_NAMES, 8) == 8

    seen: list[int] = []

    class Recorder:
        """An onnxruntime-shaped model that records each batch's rows."""

        def get_inputs(self) -> list:
            return [type("Node", (), {"name": name})() for name in BERT_INPUT_NAMES]

        def get_outputs(self) -> list:
            return [type("Node", (), {"name": "logits"})()]

        def run(self, _names: list, feed: dict) -> list:
            rows = len(next(iter(feed.values())))
            seen.append(rows)
            return [np.zeros((rows, 2), dtype=np.float32)]

    rows = 2 * TRANSFORMER_BATCH_SIZE + 5
    inputs = {name: np.zeros((rows, 4), dtype=np.float32) for name in BERT_INPUT_NAMES}
    assert run_model_batched(Recorder(), inputs).shape == (rows, 2)
    assert seen == [TRANSFORMER_BATCH_SIZE, TRANSFORMER_BATCH_SIZE, 5]


def test_attribution_passes_are_sized_by_what_a_row_costs_the_tape() -> None:
    """Integrated gradients keep every layer (BERT) or every step (the GRU) on the tape: those
    families take fewer rows a pass than the bag-of-words ones, the ensemble as BERT does."""
    from imdb.contract.config import MODEL_FAMILIES, load_config
    from imdb.tools.explain.attribution import (BERT_ROWS_PER_PASS, RECURRENT_ROWS_PER_PASS, WORD_ROWS_PER_PASS,
                                                default_rows_per_pass)

    rows = {family: default_rows_per_pass(load_config(environ={}, model=family)) for family in MODEL_FAMILIES}
    assert rows == {"dense": WORD_ROWS_PER_PASS, "cnn": WORD_ROWS_PER_PASS, "ngram": WORD_ROWS_PER_PASS,
                    "rnn": RECURRENT_ROWS_PER_PASS, "bert": BERT_ROWS_PER_PASS, "ensemble": BERT_ROWS_PER_PASS}
    assert BERT_ROWS_PER_PASS < RECURRENT_ROWS_PER_PASS < WORD_ROWS_PER_PASS
