"""A PNG of each report figure (matplotlib), for READMEs, tickets and slides.

Why matplotlib and not plotly's image export: plotly needs kaleido and a browser to write
images; matplotlib's Agg canvas renders in-process, offline, with nothing else installed.
Figures are built on ``matplotlib.figure.Figure`` (no pyplot), so no GUI backend or global
state is involved, and each file is written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from imdb.contract.files import atomic_path
from imdb.tools.report.clusters import NOISE
from imdb.tools.report.compare import Comparison
from imdb.tools.report.figures import (COUNT_COLOUR, LOSS_COLOUR, METADATA_COLUMNS, MODEL_COLOURS,
                                 bin_label, cluster_name, marker_sizes, pass_rate_bars)
from imdb.tools.report.metadata_loss import FieldLoss
from imdb.tools.report.palette import palette_for
from imdb.tools.report.samples import Predictions, Samples

if TYPE_CHECKING:
    from imdb.tools.probes.run import Behaviour

DPI = 100
MAP_SIZE = (9.0, 7.0)
PANEL_SIZE = (5.0, 3.2)
SUMMARY_SIZE = (10.0, 4.0)
COMPARE_SIZE = (8.0, 4.0)
BEHAVIOUR_SIZE = (11.0, 4.5)
BAR_WIDTH = 0.4
CLUSTER_MARKER_AREA = 4
CROSS_LINE_WIDTH = 0.6
LEGEND_FONT_SIZE = 8
LEGEND_MARKER_SCALE = 2
TICK_FONT_SIZE = 7
LABEL_FONT_SIZE = 8
TITLE_FONT_SIZE = 9
TICK_ROTATION = 45
# Up to this many classes the tick labels sit level; more are turned so they do not overlap.
MAX_LEVEL_TICKS = 2
# matplotlib's scatter sizes are areas in points^2; the plotly sizes are diameters.
AREA_SCALE = 0.5
MAP_ALPHA = 0.5
CLUSTER_CMAP = "tab10"


def save(figure: Figure, path: Path) -> Path:
    """Lay out and write ``figure`` as a PNG, atomically."""
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=DPI)
    return path


def summary_png(confusion: np.ndarray, labels: Sequence[str], path: Path) -> Path:
    """The confusion matrix and per-class counts."""
    figure = Figure(figsize=SUMMARY_SIZE)
    matrix, counts = figure.subplots(1, 2)
    matrix.imshow(confusion, cmap="Blues")
    for (row, col), value in np.ndenumerate(confusion):
        matrix.text(col, row, f"{value:,}", ha="center", va="center",
                    color="white" if value > confusion.max() / 2 else "black")
    rotation = 0 if len(labels) <= MAX_LEVEL_TICKS else TICK_ROTATION
    matrix.set_xticks(range(len(labels)), list(labels), rotation=rotation)
    matrix.set_yticks(range(len(labels)), list(labels))
    matrix.set_xlabel("predicted")
    matrix.set_ylabel("ground truth")
    matrix.set_title("Confusion matrix")
    positions = np.arange(len(labels))
    counts.bar(positions - BAR_WIDTH / 2, confusion.sum(axis=1), BAR_WIDTH, label="ground truth", color=MODEL_COLOURS[0])
    counts.bar(positions + BAR_WIDTH / 2, confusion.sum(axis=0), BAR_WIDTH, label="predicted", color=MODEL_COLOURS[1])
    counts.set_xticks(positions, list(labels), rotation=rotation)
    counts.set_title("Samples per class")
    counts.legend()
    return save(figure, path)


def population_png(coords: np.ndarray, samples: Samples, predictions: Predictions, labels: Sequence[str],
                   title: str, path: Path) -> Path:
    """The latent map: colour = ground truth, size = loss, x = misclassified."""
    figure = Figure(figsize=MAP_SIZE)
    axes = figure.subplots()
    sizes = marker_sizes(predictions.loss) ** 2 * AREA_SCALE
    palette = palette_for(labels, samples.labels)
    for group, indices in palette.group_members().items():
        for correct, marker in ((True, "o"), (False, "x")):
            members = np.isin(samples.labels, indices) & (predictions.correct == correct)
            axes.scatter(coords[members, 0], coords[members, 1], s=sizes[members], c=palette.colours[indices[0]],
                         marker=marker, alpha=MAP_ALPHA, linewidths=CROSS_LINE_WIDTH if marker == "x" else 0,
                         label=f"label {group}" if correct else "_nolegend_")
    for marker, meaning in (("o", "correct"), ("x", "misclassified")):
        axes.scatter([], [], marker=marker, c="black", linewidths=CROSS_LINE_WIDTH, label=meaning)
    _map_axes(axes, title)
    return save(figure, path)


def cluster_png(coords: np.ndarray, assignments: np.ndarray, title: str, path: Path) -> Path:
    """The latent map coloured by cluster (noise grey)."""
    figure = Figure(figsize=MAP_SIZE)
    axes = figure.subplots()
    colours = _cluster_colours(np.unique(assignments))
    for cluster_id, colour in colours.items():
        members = assignments == cluster_id
        axes.scatter(coords[members, 0], coords[members, 1], s=CLUSTER_MARKER_AREA, color=colour, alpha=MAP_ALPHA, linewidths=0,
                     label=cluster_name(cluster_id))
    _map_axes(axes, title)
    return save(figure, path)


def _cluster_colours(cluster_ids: np.ndarray) -> dict[int, object]:
    from matplotlib import colormaps

    cmap = colormaps[CLUSTER_CMAP]
    real = [int(value) for value in cluster_ids if value != NOISE]
    colours: dict[int, object] = {value: cmap(position % cmap.N) for position, value in enumerate(real)}
    if NOISE in cluster_ids:
        colours[NOISE] = "lightgrey"
    return colours


def _map_axes(axes: Axes, title: str) -> None:
    axes.set_title(title)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.legend(loc="best", fontsize=LEGEND_FONT_SIZE, markerscale=LEGEND_MARKER_SCALE)


def metadata_png(fields: Sequence[FieldLoss], path: Path) -> Path:
    """Per field: samples per bin (bars) and mean loss per bin (line, right axis)."""
    rows = -(-len(fields) // METADATA_COLUMNS)
    figure = Figure(figsize=(PANEL_SIZE[0] * METADATA_COLUMNS, PANEL_SIZE[1] * rows))
    grid = np.atleast_2d(figure.subplots(rows, METADATA_COLUMNS))
    for position, axes in enumerate(grid.flat):
        if position >= len(fields):
            axes.set_visible(False)
            continue
        field = fields[position]
        names = [bin_label(item.low, item.high) for item in field.bins]
        axes.bar(range(len(names)), [item.count for item in field.bins], color=COUNT_COLOUR)
        axes.set_xticks(range(len(names)), names, rotation=TICK_ROTATION, ha="right", fontsize=TICK_FONT_SIZE)
        axes.set_ylabel("samples", fontsize=LABEL_FONT_SIZE)
        loss_axes = axes.twinx()
        loss_axes.plot(range(len(names)), [item.mean_loss for item in field.bins], color=LOSS_COLOUR, marker="o")
        loss_axes.set_ylabel("mean loss", fontsize=LABEL_FONT_SIZE, color=LOSS_COLOUR)
        axes.set_title(f"{field.title} (ρ = {field.rho:+.3f})", fontsize=TITLE_FONT_SIZE)
    return save(figure, path)


def comparison_png(comparison: Comparison, path: Path) -> Path:
    """Accuracy of both models overall and on reviews with each cue phrase."""
    groups = ["all", *[f'"{row.phrase}"' for row in comparison.cues]]
    values_a = [comparison.accuracy_a, *[row.accuracy_a for row in comparison.cues]]
    values_b = [comparison.accuracy_b, *[row.accuracy_b for row in comparison.cues]]
    figure = Figure(figsize=COMPARE_SIZE)
    axes = figure.subplots()
    positions = np.arange(len(groups))
    axes.bar(positions - BAR_WIDTH / 2, values_a, BAR_WIDTH, label=comparison.name_a, color=MODEL_COLOURS[0])
    axes.bar(positions + BAR_WIDTH / 2, values_b, BAR_WIDTH, label=comparison.name_b, color=MODEL_COLOURS[1])
    axes.set_xticks(positions, groups)
    axes.set_ylim(0, 1)
    axes.set_ylabel("accuracy")
    axes.set_title("Accuracy overall and on reviews with the cue words")
    axes.legend()
    return save(figure, path)


def behaviour_png(behaviour: "Behaviour", path: Path) -> Path:
    """Pass rate per capability and model, with the Wilson interval as error bars."""
    bars = pass_rate_bars(behaviour)
    figure = Figure(figsize=BEHAVIOUR_SIZE)
    axes = figure.subplots()
    width = 1.0 / (len(bars) + 1)
    for index, (name, names, values, above, below) in enumerate(bars):
        positions = np.arange(len(names)) + (index - (len(bars) - 1) / 2) * width
        axes.bar(positions, values, width, yerr=[below, above], capsize=2, label=name,
                 color=MODEL_COLOURS[index % len(MODEL_COLOURS)])
    names = bars[0][1]
    axes.set_xticks(np.arange(len(names)), names, rotation=TICK_ROTATION, ha="right", fontsize=TICK_FONT_SIZE + 1)
    axes.set_ylim(0, 1)
    axes.set_ylabel("pass rate")
    axes.set_title("Behavioural probes: pass rate per capability (95 % Wilson interval)")
    axes.legend()
    return save(figure, path)
