"""The HTML shell of the report: one self-contained file, plotly.js inlined once.

Two small scripts ride along. An error collector, installed before anything else runs,
copies uncaught errors, rejected promises and ``console.error`` calls into
``#report-errors``, so a headless browser's DOM dump tells whether the page rendered
cleanly. And ``index.html#only=SECTION`` shows a single section, which is how the docs'
screenshots are taken section by section.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Iterable, Sequence

import plotly.graph_objects as go
import plotly.offline

ERRORS_ELEMENT_ID = "report-errors"
FIGURE_CLASS = "report-figure"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

_ERROR_COLLECTOR = """
(function () {
  var errors = [];
  function flush() {
    var box = document.getElementById("%(id)s");
    if (box) { box.textContent = errors.join("\\n"); box.setAttribute("data-count", String(errors.length)); }
  }
  function record(message) { errors.push(String(message)); flush(); }
  window.addEventListener("error", function (event) { record(event.message || "resource failed to load"); }, true);
  window.addEventListener("unhandledrejection", function (event) { record("unhandled rejection: " + event.reason); });
  var original = console.error;
  console.error = function () {
    record(Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
  document.addEventListener("DOMContentLoaded", flush);
})();
""" % {"id": ERRORS_ELEMENT_ID}

_SECTION_FILTER = """
(function () {
  var match = /^#only=([\\w-]+)$/.exec(window.location.hash);
  if (!match) { return; }
  document.body.classList.add("single");
  document.querySelectorAll("section").forEach(function (section) {
    if (section.id !== match[1]) { section.style.display = "none"; }
  });
})();
"""

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1320px;
       padding: 0 24px 48px; color: #222; line-height: 1.45; }
header { border-bottom: 2px solid #444; margin-bottom: 12px; }
body.single header, body.single nav { display: none; }
nav a { margin-right: 14px; }
section { margin-top: 28px; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 10px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: #f3f3f3; }
td.text, th.text { text-align: left; }
td:first-child { white-space: nowrap; }
.kpis { display: flex; gap: 18px; flex-wrap: wrap; }
.kpi { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.kpi b { display: block; font-size: 22px; }
.sample { border: 1px solid #ddd; border-radius: 6px; padding: 10px 12px; margin: 12px 0; }
.sample .head { font-weight: 600; }
.sample .meta { color: #555; font-size: 12px; margin: 4px 0 6px; }
.heat { font-family: Menlo, Consolas, monospace; font-size: 12.5px; line-height: 1.9; }
.hw { border-radius: 3px; padding: 0 1px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.verdict-confirmed { color: #1a7f37; font-weight: 600; }
.verdict-contradicted { color: #b3261e; font-weight: 600; }
.verdict-not { color: #8a6d00; font-weight: 600; }
.note { color: #555; font-size: 13px; }
#report-errors { display: none; }
"""


@dataclass(frozen=True)
class Section:
    """One ``<section>``: its anchor id (also the ``#only=`` key), its title and its body HTML."""

    anchor: str
    title: str
    body: str


@dataclass(frozen=True)
class Markup:
    """HTML that a table cell must not escape (a link, a coloured verdict)."""

    html: str


def figure_html(figure: go.Figure, div_id: str) -> str:
    """A plotly figure as a div plus its inline script (plotly.js itself is in the page head)."""
    return (f'<div class="{FIGURE_CLASS}">' +
            figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG) + "</div>")


def table_html(headers: Sequence[str], rows: Iterable[Sequence[object]], text_columns: Sequence[int] = (0,)) -> str:
    """A table; cells are escaped unless they are ``Markup`` (pre-built HTML)."""
    def cell(tag: str, index: int, value: object) -> str:
        css = ' class="text"' if index in text_columns else ""
        content = value.html if isinstance(value, Markup) else html.escape(str(value))
        return f"<{tag}{css}>{content}</{tag}>"

    head = "".join(cell("th", index, value) for index, value in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", index, value) for index, value in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page_html(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole document: head (style, error collector, plotly.js), navigation, sections."""
    nav = " ".join(f'<a href="#{section.anchor}">{html.escape(section.title)}</a>' for section in sections)
    body = "\n".join(f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>\n{section.body}</section>'
                     for section in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
<script>{_ERROR_COLLECTOR}</script>
<script>{plotly.offline.get_plotlyjs()}</script>
</head>
<body>
<header><h1>{html.escape(title)}</h1><p>{subtitle}</p></header>
<nav>{nav}</nav>
{body}
<pre id="{ERRORS_ELEMENT_ID}" data-count="0"></pre>
<script>{_SECTION_FILTER}</script>
</body>
</html>
"""
