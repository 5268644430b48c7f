"""The report's interactive figures (plotly): summary, population and cluster maps,
metadata against loss, model vs model.

Why plotly: the report is one offline HTML file in which every dot can be hovered (id,
label, prediction, the start of the review), zoomed and filtered by clicking legend
entries, as in the Tensorleap dashboard. Above a few thousand points the maps switch to
WebGL, which keeps panning fluid where SVG would redraw tens of thousands of nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from imdb.tools.report.clusters import NOISE
from imdb.tools.report.compare import Comparison
from imdb.tools.report.metadata_loss import FieldLoss
from imdb.tools.report.palette import palette_for
from imdb.tools.report.samples import Predictions, Samples

if TYPE_CHECKING:
    from imdb.tools.probes.run import Behaviour

WEBGL_THRESHOLD = 5000
MARKER_SIZE_RANGE = (3.0, 14.0)
# Losses above this quantile get the largest marker, so one outlier does not shrink the rest.
LOSS_SIZE_QUANTILE = 0.99
MAP_HEIGHT = 620
SUMMARY_HEIGHT = 380
COMPARE_HEIGHT = 420
RELIABILITY_HEIGHT = 460
RELIABILITY_MARKER_MIN = 4.0
BEHAVIOUR_HEIGHT = 460
PANEL_HEIGHT = 300
LEGEND_MARGIN = 90
METADATA_COLUMNS = 3
MARGIN = dict(t=60, b=40)
POPULATION_OPACITY = 0.6
CLUSTER_MARKER_SIZE = 5
CLUSTER_OPACITY = 0.65
TICK_ANGLE = 45
TICK_FONT_SIZE = 9
SUMMARY_SPACING = 0.15
# Between metadata panels: horizontal, vertical (fractions of the figure).
PANEL_SPACING = (0.09, 0.14)
# Headroom above accuracy 1.0 for the bar labels.
ACCURACY_AXIS_TOP = 1.08
MODEL_COLOURS = ("#1f77b4", "#ff7f0e")
CORRECT_SYMBOL, WRONG_SYMBOL = "circle", "x"
TEMPLATE = "plotly_white"
COUNT_COLOUR = "#9ecae1"
LOSS_COLOUR = "#d62728"


def summary_figure(confusion: np.ndarray, labels: Sequence[str]) -> go.Figure:
    """The confusion matrix (counts, rows = ground truth) beside per-class counts of labels and predictions."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Confusion matrix (rows: ground truth)",
                                                           "Samples per class"), horizontal_spacing=SUMMARY_SPACING)
    text = [[f"{value:,}" for value in row] for row in confusion]
    figure.add_trace(go.Heatmap(z=confusion, x=list(labels), y=list(labels),
                                text=text, texttemplate="%{text}", colorscale="Blues", showscale=False,
                                hovertemplate="%{y} / %{x}: %{z}<extra></extra>"), row=1, col=1)
    figure.update_yaxes(autorange="reversed", title_text="ground truth", type="category", row=1, col=1)
    figure.update_xaxes(title_text="predicted", type="category", row=1, col=1)
    figure.add_trace(go.Bar(x=list(labels), y=confusion.sum(axis=1), name="ground truth",
                            marker_color=MODEL_COLOURS[0]), row=1, col=2)
    figure.add_trace(go.Bar(x=list(labels), y=confusion.sum(axis=0), name="predicted",
                            marker_color=MODEL_COLOURS[1]), row=1, col=2)
    figure.update_layout(template=TEMPLATE, height=SUMMARY_HEIGHT, barmode="group", margin=MARGIN)
    return figure


def marker_sizes(loss: np.ndarray) -> np.ndarray:
    """Marker size grows with the square root of the loss (area ~ loss), capped at a high quantile."""
    low, high = MARKER_SIZE_RANGE
    cap = max(float(np.quantile(loss, LOSS_SIZE_QUANTILE)), np.finfo(np.float32).eps) if len(loss) else 1.0
    return low + (high - low) * np.sqrt(np.clip(loss / cap, 0.0, 1.0))


def _hover_data(samples: Samples, predictions: Predictions, labels: Sequence[str], snippets: Sequence[str],
                extra: Sequence[str] | None = None) -> np.ndarray:
    confidence = predictions.probabilities[np.arange(len(samples)), predictions.predicted]
    columns = [samples.ids, [labels[i] for i in samples.labels], [labels[i] for i in predictions.predicted],
               [f"{value:.3f}" for value in confidence], [f"{value:.3f}" for value in predictions.loss], snippets]
    if extra is not None:
        columns.append(extra)
    return np.array(columns, dtype=object).T


HOVER = ("<b>%{customdata[0]}</b><br>label %{customdata[1]}, predicted %{customdata[2]} "
         "(p=%{customdata[3]})<br>loss %{customdata[4]}<br>%{customdata[5]}")


def _scatter(count: int) -> type:
    return go.Scattergl if count > WEBGL_THRESHOLD else go.Scatter


def population_map(coords: np.ndarray, samples: Samples, predictions: Predictions, labels: Sequence[str],
                   snippets: Sequence[str], title: str) -> go.Figure:
    """Every sample a dot: colour = ground truth, size = loss, cross = misclassified."""
    figure = go.Figure()
    hover = _hover_data(samples, predictions, labels, snippets)
    sizes = marker_sizes(predictions.loss)
    trace = _scatter(len(samples))
    palette = palette_for(labels, samples.labels)
    for group, indices in palette.group_members().items():
        members = np.isin(samples.labels, indices)
        symbols = np.where(predictions.correct[members], CORRECT_SYMBOL, WRONG_SYMBOL)
        figure.add_trace(trace(x=coords[members, 0], y=coords[members, 1], mode="markers", name=f"label {group}",
                               customdata=hover[members], hovertemplate=HOVER + "<extra></extra>",
                               marker=dict(color=palette.colours[indices[0]], size=sizes[members],
                                           symbol=symbols, opacity=POPULATION_OPACITY, line=dict(width=0))))
    _map_layout(figure, title)
    return figure


def cluster_map(coords: np.ndarray, assignments: np.ndarray, samples: Samples, predictions: Predictions,
                labels: Sequence[str], snippets: Sequence[str], title: str) -> go.Figure:
    """The same map coloured by cluster (HDBSCAN's noise in grey)."""
    figure = go.Figure()
    cluster_names = [cluster_name(value) for value in assignments]
    hover = _hover_data(samples, predictions, labels, snippets, cluster_names)
    trace = _scatter(len(samples))
    for cluster_id in np.unique(assignments):
        members = assignments == cluster_id
        marker = dict(size=CLUSTER_MARKER_SIZE, opacity=CLUSTER_OPACITY, line=dict(width=0))
        if cluster_id == NOISE:
            marker["color"] = "lightgrey"
        figure.add_trace(trace(x=coords[members, 0], y=coords[members, 1], mode="markers",
                               name=cluster_name(cluster_id), customdata=hover[members], marker=marker,
                               hovertemplate=HOVER + "<br>%{customdata[6]}<extra></extra>"))
    _map_layout(figure, title)
    return figure


def cluster_name(cluster_id: int) -> str:
    """Legend and table name of a cluster id (``NOISE`` reads "noise")."""
    return "noise" if cluster_id == NOISE else f"cluster {cluster_id}"


def _map_layout(figure: go.Figure, title: str) -> None:
    figure.update_layout(template=TEMPLATE, title=title, height=MAP_HEIGHT, legend=dict(itemsizing="constant"),
                         xaxis=dict(showticklabels=False, title=""), yaxis=dict(showticklabels=False, title=""),
                         margin=MARGIN)


def metadata_figure(fields: Sequence[FieldLoss]) -> go.Figure:
    """Per field: samples per bin (bars) and mean loss per bin (line, right axis)."""
    rows = -(-len(fields) // METADATA_COLUMNS)
    titles = [f"{field.title} (ρ = {field.rho:+.3f})" for field in fields]
    figure = make_subplots(rows=rows, cols=METADATA_COLUMNS, subplot_titles=titles,
                           specs=[[{"secondary_y": True}] * METADATA_COLUMNS for _ in range(rows)],
                           horizontal_spacing=PANEL_SPACING[0], vertical_spacing=PANEL_SPACING[1])
    for position, field in enumerate(fields):
        row, col = divmod(position, METADATA_COLUMNS)
        names = [bin_label(item.low, item.high) for item in field.bins]
        figure.add_trace(go.Bar(x=names, y=[item.count for item in field.bins], marker_color=COUNT_COLOUR,
                                name="samples", showlegend=position == 0,
                                hovertemplate="%{x}: %{y} samples<extra></extra>"),
                         row=row + 1, col=col + 1, secondary_y=False)
        figure.add_trace(go.Scatter(x=names, y=[item.mean_loss for item in field.bins], mode="lines+markers",
                                    line=dict(color=LOSS_COLOUR), name="mean loss", showlegend=position == 0,
                                    hovertemplate="%{x}: mean loss %{y:.3f}<extra></extra>"),
                         row=row + 1, col=col + 1, secondary_y=True)
    figure.update_xaxes(tickangle=TICK_ANGLE, tickfont=dict(size=TICK_FONT_SIZE))
    figure.update_layout(template=TEMPLATE, height=PANEL_HEIGHT * rows + LEGEND_MARGIN,
                         margin={**MARGIN, "t": LEGEND_MARGIN},
                         legend=dict(orientation="h", yanchor="top", y=1.0, x=0, yref="container"))
    return figure


def bin_label(low: float, high: float) -> str:
    """``"3"`` for a single value, ``"0.12–0.25"`` for a range; integers without decimals."""
    def fmt(value: float) -> str:
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"

    return fmt(low) if low == high else f"{fmt(low)}–{fmt(high)}"


def comparison_figure(comparison: Comparison) -> go.Figure:
    """Accuracy of both models overall and on reviews containing each cue phrase."""
    groups = ["all reviews", *[f'"{row.phrase}" ({row.count:,})' for row in comparison.cues]]
    values_a = [comparison.accuracy_a, *[row.accuracy_a for row in comparison.cues]]
    values_b = [comparison.accuracy_b, *[row.accuracy_b for row in comparison.cues]]
    figure = go.Figure([
        go.Bar(x=groups, y=values_a, name=comparison.name_a, marker_color=MODEL_COLOURS[0],
               text=[f"{value:.3f}" for value in values_a], textposition="outside"),
        go.Bar(x=groups, y=values_b, name=comparison.name_b, marker_color=MODEL_COLOURS[1],
               text=[f"{value:.3f}" for value in values_b], textposition="outside"),
    ])
    figure.update_layout(template=TEMPLATE, barmode="group", height=COMPARE_HEIGHT,
                         yaxis=dict(title="accuracy", range=[0, ACCURACY_AXIS_TOP]),
                         title="Accuracy overall and on reviews containing the cue words", margin=MARGIN)
    return figure


def pass_rate_bars(behaviour: "Behaviour") -> list[tuple[str, list[str], list[float], list[float], list[float]]]:
    """Per model: name, capabilities, pass rates, and the distances to the interval's bounds."""
    bars = []
    for model in behaviour.models:
        names = [row.capability for row in model.rates]
        values = [row.rate.value for row in model.rates]
        above = [row.rate.high - row.rate.value for row in model.rates]
        below = [row.rate.value - row.rate.low for row in model.rates]
        bars.append((model.name, names, values, above, below))
    return bars


def behaviour_figure(behaviour: "Behaviour") -> go.Figure:
    """Pass rate per capability and model, with the Wilson interval as error bars."""
    figure = go.Figure([
        go.Bar(x=names, y=values, name=name, marker_color=MODEL_COLOURS[index % len(MODEL_COLOURS)],
               error_y=dict(type="data", array=above, arrayminus=below, visible=True),
               text=[f"{value:.2f}" for value in values], textposition="outside",
               hovertemplate="%{x}: pass rate %{y:.3f}<extra>" + name + "</extra>")
        for index, (name, names, values, above, below) in enumerate(pass_rate_bars(behaviour))])
    figure.update_layout(template=TEMPLATE, barmode="group", height=BEHAVIOUR_HEIGHT,
                         yaxis=dict(title="pass rate", range=[0, ACCURACY_AXIS_TOP]),
                         xaxis=dict(tickangle=TICK_ANGLE), title="Behavioural probes: pass rate per capability "
                         "(error bars: 95 % Wilson interval)", margin=MARGIN)
    return figure


def reliability_figure(calibrations: dict[str, dict]) -> go.Figure:
    """Accuracy against confidence per bin for each model, before and after its temperature,
    with the diagonal a calibrated model would follow; a bin's marker grows with its samples."""
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="calibrated",
                                line=dict(color="lightgrey", dash="dash")))
    for index, (name, fit) in enumerate(calibrations.items()):
        colour = MODEL_COLOURS[index % len(MODEL_COLOURS)]
        for key, suffix, dash in (("reliability", "", "solid"),
                                  ("reliability_after_temperature", f" (T = {fit['temperature']:.2f})", "dot")):
            bins = [row for row in fit[key] if row["n"]]
            figure.add_trace(go.Scatter(
                x=[row["confidence"] for row in bins], y=[row["accuracy"] for row in bins], mode="lines+markers",
                name=f"{name}{suffix}", line=dict(color=colour, dash=dash),
                marker=dict(size=[RELIABILITY_MARKER_MIN + np.sqrt(row["n"]) for row in bins]),
                customdata=[row["n"] for row in bins],
                hovertemplate="confidence %{x:.3f}, accuracy %{y:.3f}, %{customdata} samples<extra></extra>"))
    figure.update_layout(template=TEMPLATE, height=RELIABILITY_HEIGHT, margin=MARGIN,
                         xaxis=dict(title="confidence (max probability)", range=[0, 1]),
                         yaxis=dict(title="accuracy", range=[0, 1]))
    return figure


UNLABELED_COLOUR = "#7f7f7f"
UNLABELED_OPACITY = 0.45
CONFIDENCE_BINS = 20
HISTOGRAM_HEIGHT = 380
HISTOGRAM_OPACITY = 0.6
UNLABELED_HOVER = "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[2]}<extra></extra>"


def unlabeled_map(coords: np.ndarray, labeled: Samples, labels: Sequence[str], unlabeled_ids: Sequence[str],
                  unlabeled_snippets: Sequence[str], far: np.ndarray, title: str) -> go.Figure:
    """The labelled reviews (coloured by ground truth) and the unlabelled ones (grey; × beyond the
    far threshold) on one map: ``coords`` holds the labelled rows first, then the unlabelled."""
    figure = go.Figure()
    trace = _scatter(len(coords))
    palette = palette_for(labels, labeled.labels)
    labelled_coords, unlabelled_coords = coords[:len(labeled)], coords[len(labeled):]
    names = np.array([labels[i] for i in labeled.labels], dtype=object)
    hover = np.array([labeled.ids, [f"label {name}" for name in names], labeled.snippets], dtype=object).T
    marker = dict(size=CLUSTER_MARKER_SIZE, opacity=POPULATION_OPACITY, line=dict(width=0))
    for group, indices in palette.group_members().items():
        members = np.isin(labeled.labels, indices)
        figure.add_trace(trace(x=labelled_coords[members, 0], y=labelled_coords[members, 1], mode="markers",
                               name=f"labelled {group}", customdata=hover[members], hovertemplate=UNLABELED_HOVER,
                               marker={**marker, "color": palette.colours[indices[0]]}))
    far = np.asarray(far, dtype=bool)
    status = np.where(far, "unlabelled, far from every labelled review", "unlabelled")
    unlabelled_hover = np.array([list(unlabeled_ids), status, list(unlabeled_snippets)], dtype=object).T
    figure.add_trace(trace(x=unlabelled_coords[:, 0], y=unlabelled_coords[:, 1], mode="markers", name="unlabelled",
                           customdata=unlabelled_hover, hovertemplate=UNLABELED_HOVER,
                           marker={**marker, "color": UNLABELED_COLOUR, "opacity": UNLABELED_OPACITY,
                                   "symbol": np.where(far, WRONG_SYMBOL, CORRECT_SYMBOL)}))
    _map_layout(figure, title)
    return figure


def confidence_histogram(labeled: np.ndarray, unlabeled: np.ndarray, minimum: float) -> go.Figure:
    """The model's confidence (its predicted class's probability) on labelled and unlabelled
    reviews, each as a share of its own population (so different sizes compare)."""
    size = (1.0 - minimum) / CONFIDENCE_BINS
    bins = dict(start=minimum, end=1.0 + size / 2, size=size)
    figure = go.Figure([
        go.Histogram(x=labeled, name=f"labelled (mean {np.mean(labeled):.3f})", histnorm="probability",
                     xbins=bins, marker_color=MODEL_COLOURS[0], opacity=HISTOGRAM_OPACITY),
        go.Histogram(x=unlabeled, name=f"unlabelled (mean {np.mean(unlabeled):.3f})", histnorm="probability",
                     xbins=bins, marker_color=UNLABELED_COLOUR, opacity=HISTOGRAM_OPACITY)])
    figure.update_layout(template=TEMPLATE, barmode="overlay", height=HISTOGRAM_HEIGHT, margin=MARGIN,
                         xaxis=dict(title="confidence (max probability)", range=[minimum, 1.0]),
                         yaxis=dict(title="share of the population"),
                         title="Model confidence: labelled vs unlabelled reviews")
    return figure
