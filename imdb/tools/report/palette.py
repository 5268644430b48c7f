"""One colour per class on every map, readable whatever the number of classes.

Two classes keep the red/green of sentiment. Ordinal classes (star ratings) run along a
diverging red-to-green scale without its pale middle, so that neighbouring stars look alike
and the map reads as an ordering. Up to ten unordered classes get tab10 (the default
categorical colours of matplotlib and plotly); beyond ten the nine most frequent keep a colour
and the rest share one grey "other classes" group, because no reader tells twenty hues apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from imdb.runtime.scoring import class_values

BINARY_COLOURS = ("#d62728", "#2ca02c")
QUALITATIVE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
MAX_DISTINCT = len(QUALITATIVE)
# Beside the grey of "other classes", tab10's own grey would read as one more "other".
GROUPED = tuple(colour for colour in QUALITATIVE if colour != "#7f7f7f")
ORDINAL_CMAP = "RdYlGn"
# The parts of the diverging scale in use: its pale yellow middle vanishes on the white page,
# so the lower classes take its red third and the upper ones its green third.
ORDINAL_LOW, ORDINAL_HIGH = (0.0, 0.32), (0.68, 1.0)
OTHER_COLOUR = "#b0b0b0"
OTHER_NAME = "other classes"


@dataclass(frozen=True)
class ClassPalette:
    """Per class index: the colour and the legend group it is drawn in."""

    colours: tuple[str, ...]
    groups: tuple[str, ...]

    def group_members(self) -> dict[str, list[int]]:
        """Legend group -> the class indices drawn in it, in class order ("other classes" last)."""
        members: dict[str, list[int]] = {}
        for index, group in enumerate(self.groups):
            members.setdefault(group, []).append(index)
        if OTHER_NAME in members:
            members[OTHER_NAME] = members.pop(OTHER_NAME)
        return members


def _ordinal_colours(count: int) -> tuple[str, ...]:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[ORDINAL_CMAP]
    low_width = ORDINAL_LOW[1] - ORDINAL_LOW[0]
    track = np.linspace(0.0, low_width + ORDINAL_HIGH[1] - ORDINAL_HIGH[0], count)
    positions = np.where(track <= low_width, ORDINAL_LOW[0] + track, ORDINAL_HIGH[0] + track - low_width)
    return tuple(to_hex(cmap(position)) for position in positions)


def class_palette(labels: Sequence[str], counts: Sequence[int]) -> ClassPalette:
    """The palette of ``labels``; ``counts`` (samples per class) decide who keeps a colour beyond ten."""
    labels = tuple(labels)
    if len(labels) == len(BINARY_COLOURS):
        return ClassPalette(BINARY_COLOURS, labels)
    if class_values(labels) is not None:
        return ClassPalette(_ordinal_colours(len(labels)), labels)
    if len(labels) <= MAX_DISTINCT:
        return ClassPalette(QUALITATIVE[:len(labels)], labels)
    kept = sorted(np.argsort(-np.asarray(counts), kind="stable")[:len(GROUPED)])
    colour_of = {int(index): GROUPED[position] for position, index in enumerate(kept)}
    return ClassPalette(tuple(colour_of.get(index, OTHER_COLOUR) for index in range(len(labels))),
                        tuple(labels[index] if index in colour_of else OTHER_NAME for index in range(len(labels))))


def palette_for(labels: Sequence[str], sample_labels: np.ndarray) -> ClassPalette:
    """The palette for a map of these samples (their class counts rank the classes beyond ten)."""
    return class_palette(labels, np.bincount(np.asarray(sample_labels, dtype=np.int64), minlength=len(labels)))
