"""``imdb-leap label-queue`` on real unlabelled reviews, and the signals it combines."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from imdb.tools.cli.main import main
from imdb.tools.label_queue import (combined_score, nearest_distances, normalized_entropy, percentile_ranks,
                                    total_variation)


def test_signals_on_hand_made_rows() -> None:
    certain, uniform = np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]])
    assert normalized_entropy(certain)[0] == pytest.approx(0.0, abs=1e-9)
    assert normalized_entropy(uniform)[0] == pytest.approx(1.0)
    assert normalized_entropy(np.full((1, 8), 1 / 8))[0] == pytest.approx(1.0)
    assert total_variation(certain, np.array([[0.0, 1.0]]))[0] == pytest.approx(1.0)
    assert total_variation(uniform, uniform)[0] == 0.0
    np.testing.assert_allclose(percentile_ranks(np.array([3.0, 1.0, 2.0])), [1.0, 0.0, 0.5])
    np.testing.assert_allclose(combined_score([np.array([3.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])]),
                               [0.5, 0.25, 0.75])


def test_nearest_distances_match_a_brute_force_search() -> None:
    rng = np.random.default_rng(7)
    queries, references = rng.normal(size=(3000, 16)), rng.normal(size=(500, 16))
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731
    expected = 1.0 - (unit(queries) @ unit(references).T).max(axis=1)
    np.testing.assert_allclose(nearest_distances(queries, references), expected, atol=1e-5)
    assert nearest_distances(references[:4], references)[:4] == pytest.approx(np.zeros(4), abs=1e-5)


def test_label_queue_ranks_the_unlabelled_reviews_of_an_official_layout(official_tarball: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "queue.csv"
    code = main(["label-queue", "--model", "dense", "--compare", "ngram", "--data", str(official_tarball),
                 "--data-root", str(tmp_path / "cache"), "--n", "5", "--out", str(out), "--no-progress"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["signals"] == ["uncertainty", "nearest_labeled_distance", "disagreement"]
    assert printed["rows"] == 5 and printed["candidates"] > 5 and printed["models"] == ["dense", "ngram"]
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["sample_id"] for row in rows] == printed["first"]
    assert all(row["sample_id"].startswith("train/unsup/") for row in rows)
    assert [int(row["rank"]) for row in rows] == [1, 2, 3, 4, 5]
    scores = [float(row["score"]) for row in rows]
    assert scores == sorted(scores, reverse=True) and 0.0 < scores[0] <= 1.0
    for row in rows:
        assert 0.0 <= float(row["uncertainty"]) <= 1.0 and 0.0 <= float(row["disagreement"]) <= 1.0
        assert 0.0 <= float(row["nearest_labeled_distance"]) <= 2.0
        assert row["dense_predicted"] in ("negative", "positive") and row["ngram_predicted"] in ("negative", "positive")
        assert 0.5 <= float(row["dense_confidence"]) <= 1.0 and row["text"]


def test_label_queue_without_unlabelled_reviews_says_what_to_set(imdb_data_uri: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["label-queue", "--model", "dense", "--data", imdb_data_uri, "--n", "3",
                 "--out", str(tmp_path / "queue.csv"), "--no-progress"])
    error = capsys.readouterr().err
    assert code == 2 and "unsup" in error and "IMDB_UNLABELED_LIMIT" in error and "Traceback" not in error
    assert not (tmp_path / "queue.csv").exists()
