"""The report's "Unlabelled reviews" section: ``imdb-leap analyze`` on the training archive and
the 50,000 unlabelled reviews side by side (``combined_tarball``) with the committed dense and
n-gram models, rendered in headless Chromium; the same command on a source without ``unsup``;
and the threshold, far-share and dominated-cluster computations on cases small enough to check
by hand."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from imdb.tools.cli.main import main as analyze_main
from imdb.tools.report import browser
from imdb.tools.report.settings import AnalysisError
from imdb.tools.report.unlabeled import cluster_shares, far_share, fit_threshold, sample_ids

LIMIT = 100
UNLABELED_LIMIT = 150
TOP = 3
UNSUP_REVIEWS = 50_000
# PCA maps: the projection is the report's own code either way, and t-SNE would triple the run time.
FAST_OPTIONS = ("--projection", "pca", "--no-probes", "--faithfulness-samples", "0", "--no-progress")
UNLABELED_FIGURES = ("fig-unlabeled-model", "fig-unlabeled-content", "fig-unlabeled-confidence")
UNLABELED_STEPS = {"unlabelled: inference + latent", "unlabelled: content distances", "unlabelled: maps",
                   "unlabelled: clusters", "unlabelled: compare"}
MODELS = ("dense", "ngram")
LABELS = ("negative", "positive")


@dataclass(frozen=True)
class Report:
    out: Path
    result: dict
    summary: dict
    page: str


def _analyze(data: Path | str, data_root: Path, out: Path, *extra: str) -> Report:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = analyze_main(["analyze", "--model", "dense", "--data", str(data), "--data-root", str(data_root),
                             "--split", "validation", "--limit", str(LIMIT), "--top", str(TOP), "--out", str(out),
                             *FAST_OPTIONS, *extra])
    assert code == 0
    return Report(out=out, result=json.loads(stdout.getvalue().strip().splitlines()[-1]),
                  summary=json.loads((out / "report.json").read_text(encoding="utf-8")),
                  page=(out / "index.html").read_text(encoding="utf-8"))


def _section(html: str, anchor: str) -> str:
    return html.split(f'<section id="{anchor}">')[1].split("</section>")[0]


@pytest.fixture(scope="module")
def report(combined_tarball: Path, data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Dense on 100 validation reviews and 150 unlabelled ones, compared with the n-gram model."""
    return _analyze(combined_tarball, data_root, tmp_path_factory.mktemp("unlabeled") / "report",
                    "--unlabeled-limit", str(UNLABELED_LIMIT), "--compare", "ngram")


# ---------------------------------------------------------------- the computations


def test_the_threshold_is_the_percentile_of_labelled_nearest_distances() -> None:
    reference = np.array([[1.0, 0.0], [0.0, 1.0]])
    # Cosine distances to the nearest reference: 0, 0, 1 - cos(45°), and 0 for the scaled copy.
    calibration = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [5.0, 0.0]])
    threshold = fit_threshold(calibration, reference, percentile=100.0)
    assert threshold.value == pytest.approx(1.0 - np.sqrt(0.5), abs=1e-6)
    assert (threshold.calibration_reviews, threshold.reference_reviews) == (4, 2)
    assert fit_threshold(calibration, reference, percentile=50.0).value == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(AnalysisError, match="validation_fraction"):
        fit_threshold(np.empty((0, 2)), reference)


def test_far_share_counts_distances_strictly_beyond_the_threshold() -> None:
    assert far_share(np.array([0.1, 0.2, 0.3, 0.4]), 0.2) == pytest.approx(0.5)
    assert far_share(np.array([0.1, 0.2]), 0.5) == 0.0 and far_share(np.array([0.6]), 0.5) == 1.0
    assert far_share(np.array([]), 0.5) == 0.0


def test_dominated_clusters_compare_odds_not_shares() -> None:
    # Whole map: 12 unlabelled, 6 labelled (odds 2). Cluster 0: 6 u / 1 l (odds 6, ratio 3);
    # cluster 1: 6 u / 3 l (odds 2, ratio 1, a 67 % share yet not dominated); cluster 2: 0 u / 2 l.
    assignments = np.array([0] * 7 + [1] * 9 + [2] * 2)
    unlabeled = np.array([True] * 6 + [False] + [True] * 6 + [False] * 3 + [False] * 2)
    rows = cluster_shares(assignments, unlabeled)
    assert [row.cluster for row in rows] == [0, 1, 2], "most unlabelled first"
    assert [(row.size, row.unlabeled) for row in rows] == [(7, 6), (9, 6), (2, 0)]
    assert [row.odds_ratio for row in rows] == pytest.approx([3.0, 1.0, 0.0])
    assert [row.dominated for row in rows] == [True, False, False]
    assert rows[1].unlabeled_share == pytest.approx(2 / 3) and rows[2].words == []
    only_unlabelled = cluster_shares(np.array([0, 0, 1]), np.array([True, True, False]))
    assert only_unlabelled[0].odds_ratio == float("inf") and only_unlabelled[0].dominated


def test_the_unlabelled_sample_is_seeded_spread_and_in_canonical_order() -> None:
    ids = [f"train/unsup/{i}_0" for i in range(1000)]
    drawn = sample_ids(ids, 50, seed=1)
    assert drawn == sample_ids(ids, 50, seed=1) and drawn != sample_ids(ids, 50, seed=2)
    assert len(set(drawn)) == 50 and set(drawn) < set(ids) and drawn != ids[:50]
    assert drawn == sorted(drawn, key=ids.index)
    assert sample_ids(ids[:10], 50, seed=1) == ids[:10]


# ---------------------------------------------------------------- end to end


def test_the_section_reports_the_unlabelled_sample(report: Report) -> None:
    unlabeled = report.summary["unlabeled"]
    assert unlabeled["available"] == UNSUP_REVIEWS and unlabeled["analysed"] == UNLABELED_LIMIT
    threshold = unlabeled["threshold"]
    assert threshold["percentile"] == 95.0 and 0.0 < threshold["value"] <= 2.0
    # The analysed split is the validation split the threshold was fitted on (both capped by --limit).
    assert threshold["calibration_reviews"] == LIMIT and threshold["reference_reviews"] == LIMIT
    assert 0.0 <= unlabeled["far_share"] <= 1.0
    assert unlabeled["far"] == round(unlabeled["far_share"] * UNLABELED_LIMIT)
    assert 0.05 - 1 / LIMIT <= unlabeled["labeled_far_share"] <= 0.05, "5 % of the fitted reviews lie beyond"
    assert UNLABELED_STEPS <= set(report.result["timings"]) and UNLABELED_STEPS <= set(report.summary["timings"])


def test_the_content_clusters_partition_both_populations(report: Report) -> None:
    clusters = report.summary["unlabeled"]["clusters"]
    assert sum(row["size"] for row in clusters) == LIMIT + UNLABELED_LIMIT
    assert sum(row["unlabeled"] for row in clusters) == UNLABELED_LIMIT
    overall = UNLABELED_LIMIT / LIMIT
    for row in clusters:
        assert 0.0 <= row["unlabeled_share"] <= 1.0
        assert row["unlabeled_share"] == pytest.approx(row["unlabeled"] / row["size"])
        labelled = row["size"] - row["unlabeled"]
        if labelled:
            assert row["odds_ratio"] == pytest.approx(row["unlabeled"] / labelled / overall)
            assert row["dominated"] == (row["odds_ratio"] >= 2.0)
        assert row["words"], "each cluster is described by its words"
    shares = [row["unlabeled_share"] for row in clusters]
    assert shares == sorted(shares, reverse=True)


def test_confidence_and_disagreements_on_unlabelled_reviews(report: Report) -> None:
    unlabeled = report.summary["unlabeled"]
    confidence = unlabeled["confidence"]
    for key in ("labeled_mean", "unlabeled_mean"):
        assert 0.5 <= confidence[key] <= 1.0
    for key in ("labeled_entropy", "unlabeled_entropy"):
        assert 0.0 <= confidence[key] <= 1.0
    rows = unlabeled["disagreements"]
    assert len(rows) == TOP and all(row["id"].startswith("train/unsup/") for row in rows)
    distances = [row["total_variation"] for row in rows]
    assert distances == sorted(distances, reverse=True) and 0.0 < distances[0] <= 1.0
    for row in rows:
        assert tuple(row["predictions"]) == MODELS
        for prediction in row["predictions"].values():
            assert prediction["label"] in LABELS and 0.5 <= prediction["probability"] <= 1.0
        first, second = (row["predictions"][name] for name in MODELS)
        # Two classes: the total variation is the gap between the models' p(positive).
        positive = [p["probability"] if p["label"] == "positive" else 1.0 - p["probability"] for p in (first, second)]
        assert row["total_variation"] == pytest.approx(abs(positive[0] - positive[1]), abs=1e-3)


def test_the_section_is_in_the_page_with_its_figures_and_tables(report: Report) -> None:
    section = _section(report.page, "unlabeled")
    for figure in UNLABELED_FIGURES:
        assert f'id="{figure}"' in section, figure
    assert section.count("Plotly.newPlot") == len(UNLABELED_FIGURES)
    threshold = report.summary["unlabeled"]["threshold"]["value"]
    assert f"exceeds {threshold:.3f}, the 95th percentile" in section
    assert section.count("<tr>") == len(report.summary["unlabeled"]["clusters"]) + TOP + 2, "rows plus two headers"
    for row in report.summary["unlabeled"]["disagreements"]:
        assert row["id"] in section
    assert '<a href="#unlabeled">Unlabelled reviews</a>' in report.page


def test_the_section_renders_in_headless_chromium(report: Report) -> None:
    try:
        browser.chromium()
    except browser.BrowserError as exc:
        pytest.fail(str(exc), pytrace=False)
    rendered = browser.render(report.out / "index.html")
    assert rendered.errors == []
    assert rendered.drawn_figures == rendered.figures
    section = _section(rendered.dom, "unlabeled")
    figures = section.split('class="report-figure"')[1:]
    assert len(figures) == len(UNLABELED_FIGURES)
    assert all('class="main-svg"' in markup for markup in figures), "every figure of the section drew its SVG"


def test_a_source_without_unsup_has_no_such_section(imdb_data_uri: str, data_root: Path, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="imdb.tools.report.analysis"):
        plain = _analyze(imdb_data_uri, data_root, tmp_path / "report")
    assert "unlabeled" not in plain.summary and '<section id="unlabeled">' not in plain.page
    assert not any(step.startswith("unlabelled") for step in plain.summary["timings"])
    said = [record.getMessage() for record in caplog.records if "unlabelled reviews section left out" in
            record.getMessage()]
    assert len(said) == 1 and "train/unsup/" in said[0]
