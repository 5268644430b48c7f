"""The report on more than two classes: IMDB star ratings with the shipped rating model, rendered
in headless Chromium; and the palette and per-class table on cases small enough to check by hand."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from imdb.contract.names import RATING_NAMES
from imdb.tools.cli.main import main
from imdb.tools.report import browser
from imdb.tools.report.classes import class_errors
from imdb.tools.report.palette import BINARY_COLOURS, OTHER_COLOUR, OTHER_NAME, class_palette

# 8 star classes x 25 label-balanced validation reviews.
LIMIT = 200
# summary, population, clusters, metadata, calibration, behaviour (the star classes map to a
# polarity, 1-4 negative and 7-10 positive, so the probes run).
FIGURES = 6


@pytest.fixture(scope="module")
def rating_report(imdb_data_uri: str, data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rating-report")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["analyze", "--task", "rating", "--model", "dense", "--data", imdb_data_uri,
                     "--data-root", str(data_root), "--split", "validation", "--limit", str(LIMIT), "--top", "3",
                     "--faithfulness-samples", "0", "--out", str(out), "--no-progress"])
    assert code == 0
    assert json.loads(stdout.getvalue().strip().splitlines()[-1])["n"] == LIMIT
    return out


def test_rating_report_has_every_class_and_the_star_error(rating_report: Path) -> None:
    summary = json.loads((rating_report / "report.json").read_text(encoding="utf-8"))
    assert [row["class"] for row in summary["classes"]] == list(RATING_NAMES)
    assert all(row["samples"] == LIMIT // len(RATING_NAMES) for row in summary["classes"])
    assert 0.0 < summary["summary"]["star_mae"] < 9.0
    joint = np.array(summary["label_issues"]["confident_joint"])
    assert joint.shape == (len(RATING_NAMES), len(RATING_NAMES))
    assert set(summary["calibration"]) == {"dense"}
    page = (rating_report / "index.html").read_text(encoding="utf-8")
    for name in RATING_NAMES:
        assert f'"label {name}"' in page, f"the population map has no trace for {name}"
    assert "mean star error" in page and "most often mistaken for" in page


def test_rating_report_renders_in_headless_chromium(rating_report: Path, tmp_path: Path) -> None:
    try:
        browser.chromium()
    except browser.BrowserError as exc:
        pytest.fail(str(exc), pytrace=False)
    rendered = browser.render(rating_report / "index.html")
    assert rendered.errors == []
    assert rendered.figures == FIGURES and rendered.drawn_figures == rendered.figures
    shot = browser.screenshot(rating_report / "index.html", tmp_path / "summary.png", fragment="#only=summary")
    assert shot.stat().st_size > 0


def test_palette_by_kind_of_classes() -> None:
    assert class_palette(("negative", "positive"), (5, 5)).colours == BINARY_COLOURS
    stars = class_palette(RATING_NAMES, [1] * len(RATING_NAMES))
    assert len(set(stars.colours)) == len(RATING_NAMES) and stars.groups == RATING_NAMES
    reds = [int(colour[1:3], 16) - int(colour[3:5], 16) for colour in stars.colours]
    assert reds[0] > 0 > reds[-1], "low stars red, high stars green"
    seven = class_palette(tuple(f"reason {i}" for i in range(7)), [3] * 7)
    assert len(set(seven.colours)) == 7


def test_beyond_ten_classes_the_rarest_share_one_grey_group() -> None:
    names = tuple(f"c{i}" for i in range(12))
    counts = [10, 1, 50, 40, 30, 2, 20, 25, 35, 45, 60, 15]
    palette = class_palette(names, counts)
    grouped = [name for name, group in zip(names, palette.groups) if group == OTHER_NAME]
    assert grouped == ["c0", "c1", "c5"], "the three rarest classes"
    assert {palette.colours[names.index(name)] for name in grouped} == {OTHER_COLOUR}
    assert len({colour for colour in palette.colours if colour != OTHER_COLOUR}) == 9
    assert list(palette.group_members())[-1] == OTHER_NAME


def test_class_errors_by_hand() -> None:
    confusion = np.array([[3, 1, 0], [2, 2, 0], [0, 0, 0]])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    loss = np.array([0.1, 0.1, 0.1, 0.9, 1.0, 1.0, 0.2, 0.2])
    rows = class_errors(confusion, ("a", "b", "c"), labels, loss)
    assert (rows[0].recall, rows[0].precision) == (0.75, 0.6)
    assert rows[0].mistaken_for == "b" and rows[0].mistaken_count == 1
    assert rows[1].mistaken_for == "a" and rows[1].mistaken_count == 2 and rows[1].mean_loss == pytest.approx(0.6)
    assert rows[2].samples == 0 and rows[2].mistaken_for is None and np.isnan(rows[2].recall)
