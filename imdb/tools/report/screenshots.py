"""Screenshots of a report's sections for the docs: ``python -m imdb.tools.report.screenshots REPORT DOCS``.

Each section is opened alone (``index.html#only=SECTION``) in headless Chromium, the empty
page below it is cropped away and the image is reduced to a 256-colour palette, which keeps
text and plots sharp and every file well under the size a README should carry.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from imdb.contract.files import atomic_path
from imdb.tools.report.browser import screenshot

# Section anchor -> browser window height in pixels (tall enough for the section's content).
SECTION_HEIGHTS = {"summary": 900, "population": 820, "clusters": 1250, "metadata": 1900, "samples": 1500,
                   "mislabeled": 1500, "compare": 1700}
WINDOW_WIDTH = 1400
PALETTE_COLOURS = 256
# A row counts as content when it holds a pixel darker than this (0-255 grey level).
BLANK_LEVEL = 250
BOTTOM_PADDING = 24
PREFIX = "report-"


def section_screenshots(index: Path, out_dir: Path, sections: Sequence[str]) -> dict[str, Path]:
    """One cropped, palette PNG per section present in the report, named ``report-<section>.png``."""
    html = index.read_text(encoding="utf-8")
    written = {}
    for section in sections:
        if f'<section id="{section}">' not in html:
            continue
        target = out_dir / f"{PREFIX}{section}.png"
        screenshot(index, target, fragment=f"#only={section}", window=(WINDOW_WIDTH, SECTION_HEIGHTS[section]))
        shrink(target)
        written[section] = target
    return written


def shrink(path: Path) -> None:
    """Crop the blank bottom of a screenshot and store it with a 256-colour palette."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    grey = np.asarray(image.convert("L"))
    content_rows = np.flatnonzero((grey < BLANK_LEVEL).any(axis=1))
    if len(content_rows):
        bottom = min(image.height, int(content_rows[-1]) + BOTTOM_PADDING)
        image = image.crop((0, 0, image.width, bottom))
    reduced = image.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT)
    with atomic_path(path) as tmp:
        reduced.save(tmp, format="PNG", optimize=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Screenshot the sections of REPORT/index.html into OUT; prints the files and sizes as JSON."""
    parser = argparse.ArgumentParser(prog="python -m imdb.tools.report.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="report directory (holding index.html)")
    parser.add_argument("out", type=Path, help="directory for the PNGs")
    parser.add_argument("--sections", nargs="+", default=list(SECTION_HEIGHTS), choices=list(SECTION_HEIGHTS))
    args = parser.parse_args(argv)
    written = section_screenshots(args.report / "index.html", args.out, args.sections)
    print(json.dumps({name: {"path": str(path), "bytes": path.stat().st_size} for name, path in written.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
