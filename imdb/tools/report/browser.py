"""Render a report in headless Chromium: the DOM after scripts ran, and screenshots.

Why a real browser: the report is only useful if its figures draw, offline, without
errors; parsing the HTML cannot tell that, running plotly.js can. Chromium's own command
line (``--dump-dom``, ``--screenshot``) is enough: virtual time lets the page's scripts
finish, and the page's error collector (``imdb.tools.report.page``) leaves every JavaScript
error in the DOM, so no DevTools client is needed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from imdb.tools.report.page import ERRORS_ELEMENT_ID, FIGURE_CLASS

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Virtual milliseconds granted to the page's scripts (plotly draws every figure well within).
VIRTUAL_TIME_BUDGET_MS = 20000
TIMEOUT_S = 180
DEFAULT_WINDOW = (1400, 2400)
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--hide-scrollbars",
          "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
          "--disable-extensions", "--mute-audio")
_ERRORS = re.compile(rf'<pre id="{ERRORS_ELEMENT_ID}" data-count="(\d+)">(.*?)</pre>', re.S)


class BrowserError(RuntimeError):
    """Chromium is missing or failed; the message says how to install it or what it printed."""


@dataclass(frozen=True)
class RenderedPage:
    """What the browser made of the page."""

    dom: str
    figures: int
    drawn_figures: int
    errors: list[str]


def chromium() -> str:
    """Path of the first Chromium-family browser on PATH."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserError("headless Chromium not found: install it (Debian: apt-get install -y chromium)")


def _run(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="imdb-chromium-") as profile:
        command = [chromium(), *_FLAGS, f"--user-data-dir={profile}",
                   f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}", *arguments]
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if result.returncode != 0:
        raise BrowserError(f"chromium exited with {result.returncode}: {result.stderr[-2000:]}")
    return result


def render(page: Path, fragment: str = "") -> RenderedPage:
    """Load ``page`` from ``file://`` and return the DOM after its scripts ran."""
    page = page.resolve()
    result = _run(["--dump-dom", page.as_uri() + fragment], page.parent)
    dom = result.stdout
    match = _ERRORS.search(dom)
    errors = [line for line in match.group(2).splitlines() if line.strip()] if match else ["error collector missing"]
    # Each figure's markup runs to the next figure; plotly has drawn it when it holds an SVG root.
    figures = dom.split(f'class="{FIGURE_CLASS}"')[1:]
    drawn = sum(1 for markup in figures if 'class="main-svg"' in markup)
    return RenderedPage(dom=dom, figures=len(figures), drawn_figures=drawn, errors=errors)


def screenshot(page: Path, target: Path, *, fragment: str = "", window: tuple[int, int] = DEFAULT_WINDOW) -> Path:
    """A PNG of the page (or of one section: ``fragment="#only=clusters"``) as Chromium draws it."""
    page, target = page.resolve(), target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--screenshot={target}", f"--window-size={window[0]},{window[1]}", page.as_uri() + fragment], page.parent)
    if not target.exists():
        raise BrowserError(f"chromium did not write {target}")
    return target
