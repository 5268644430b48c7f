"""The README is a front door a newcomer reads in ten minutes, and the docs behind it hold together.

Why a test: a README grows back to a thousand lines one helpful paragraph at a time, links rot when
a heading is renamed, a doc nobody links is a doc nobody finds, and a figure typed by hand drifts
from the run that measured it. Each check here fails on exactly one of those, naming the file, the
line and what to fix. Nothing is loaded but text and JSON, so the test takes well under a second.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator

from imdb.contract.config import REPO_ROOT
from json_helpers import json_leaves

README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
# The committed result files a README figure may come from: model cards and benchmark results.
RESULT_GLOBS = ("model/*.json", "bench/*.json")
MAX_README_LINES = 250
CORPUS_SECTION = "Your own corpus"
MAX_CORPUS_SECTION_LINES = 30

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`[^`]*`")
# [text](target) and ![alt](target), with an optional "title"; the target has no spaces.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, …
# A decimal figure: digits (optionally with thousands commas), a point, digits. Not part of a
# dotted version (0.7.8) or a word, and not the start of a longer number.
FIGURE = re.compile(r"(?<![\w.,])((?:\d{1,3}(?:,\d{3})+|\d+)\.(\d+))(?!\.\d)(?!\w)(\s?%)?")
MAX_DECIMALS = 6


@dataclass(frozen=True)
class Figure:
    """A figure quoted in a Markdown file: its text as written, where, and whether it is a percentage."""

    text: str
    line: int
    percent: bool

    @property
    def decimals(self) -> int:
        return len(self.text.split(".", 1)[1])

    @property
    def plain(self) -> str:
        return self.text.replace(",", "")


def prose_lines(text: str) -> list[str]:
    """The file's lines with fenced code blocks blanked (line numbers kept): code is not prose,
    so its links, headings and numbers are not the document's."""
    lines, inside = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
            lines.append("")
        else:
            lines.append("" if inside else line)
    return lines


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercased, punctuation dropped (hyphens and underscores
    kept), each space a hyphen."""
    text = INLINE_CODE.sub(lambda match: match.group(0)[1:-1], heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's anchor in a Markdown text; a repeated slug gets -1, -2, … as on GitHub."""
    seen: Counter[str] = Counter()
    found = set()
    for line in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return found


def links(text: str) -> Iterator[tuple[int, str]]:
    """(line number, target) of every link and image outside code."""
    for number, line in enumerate(prose_lines(text), start=1):
        for match in LINK.finditer(INLINE_CODE.sub("", line)):
            yield number, match.group(1)


def broken_links(doc: Path) -> list[str]:
    """Relative links of ``doc`` whose file is missing or whose anchor is no heading of that file."""
    problems = []
    own = doc.read_text(encoding="utf-8")
    for number, target in links(own):
        if EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        where = f"{doc.relative_to(REPO_ROOT)}:{number}: link ({target})"
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.exists() or not path.is_relative_to(REPO_ROOT):
            problems.append(f"{where}: {path_part} does not exist in the repository")
            continue
        if anchor and path.suffix == ".md":
            if anchor not in anchors(path.read_text(encoding="utf-8")):
                problems.append(f"{where}: no heading of {path.relative_to(REPO_ROOT)} has the anchor #{anchor}")
        elif anchor:
            problems.append(f"{where}: an anchor into a file that is not Markdown")
    return problems


def sections(text: str, level: int = 2) -> dict[str, list[str]]:
    """Heading text -> the section's lines (its heading included, trailing blank lines not), for
    the headings of ``level``; a section ends at the next heading of that level or above."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw, prose in zip(text.splitlines(), prose_lines(text), strict=True):
        match = HEADING.match(prose)
        if match and len(match.group(1)) <= level:
            current = found.setdefault(match.group(2), []) if len(match.group(1)) == level else None
        if current is not None:
            current.append(raw)
    for lines in found.values():
        while lines and not lines[-1].strip():
            lines.pop()
    return found


def opening_paragraph(text: str) -> str:
    """The first paragraph after the document's title (its first heading)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if HEADING.match(line)) + 1
    paragraph: list[str] = []
    for line in lines[start:]:
        if line.strip():
            paragraph.append(line.strip())
        elif paragraph:
            break
    return " ".join(paragraph)


def is_sentence(paragraph: str) -> bool:
    """Prose that opens with a capital letter and ends like a sentence — not a heading, table,
    list, image or code."""
    return bool(re.match(r"^[A-Z]", paragraph)) and paragraph.endswith((".", "?", "!"))


def figures(text: str) -> list[Figure]:
    """The measured figures a Markdown text quotes.

    The rule: a figure is a number with a decimal point (``0.8835``, ``78.9``, ``1,988.3``) or such
    a number followed by ``%`` (``88.4 %``), in prose or tables — not in fenced or inline code
    (commands, settings and sample output are not claims), not in a link target, not part of a
    dotted version (``0.7.8``). Integers are left out: they are counts, sizes and settings
    (``2,515 reviews``, ``84 MB``, ``batch 16``), and a decimal point is what a measurement has.
    """
    found = []
    for number, line in enumerate(prose_lines(text), start=1):
        line = LINK.sub(lambda match: match.group(0).split("](", 1)[0], INLINE_CODE.sub("", line))
        for match in FIGURE.finditer(line):
            found.append(Figure(match.group(1), number, bool(match.group(3))))
    return found


def numeric_leaves(value: Any) -> Iterator[float]:
    """Every number in a JSON value, however deep (booleans are not numbers)."""
    for leaf in json_leaves(value):
        if isinstance(leaf, (int, float)) and not isinstance(leaf, bool):
            yield float(leaf)


def result_leaves(root: Path = REPO_ROOT) -> list[float]:
    """The numbers of every committed result file (model cards, benchmark results)."""
    leaves: list[float] = []
    for pattern in RESULT_GLOBS:
        for path in sorted(root.glob(pattern)):
            leaves.extend(numeric_leaves(json.loads(path.read_text(encoding="utf-8"))))
    return leaves


def _roundings(value: float, decimals: int) -> set[str]:
    """``value`` to ``decimals`` places, rounded half up on its decimal text and as float
    formatting rounds it (2.05 is 2.1 to the first, 2.0 to the second): either is how it was quoted."""
    step = Decimal(1).scaleb(-decimals)
    return {str(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP)), f"{value:.{decimals}f}"}


def quotable(leaves: Iterable[float], *, percent: bool) -> dict[int, set[str]]:
    """Decimal places -> every text a figure with that many places may be: a leaf rounded to it,
    and for a percentage also a leaf times 100 (a share quoted in percent). Figures are read without
    their sign (prose writes "−0.0107" or "0.0107 below"), so a negative leaf is quoted by its size."""
    values = [abs(value) for leaf in leaves for value in ((leaf, leaf * 100) if percent else (leaf,))]
    return {decimals: {text for value in values for text in _roundings(value, decimals)}
            for decimals in range(1, MAX_DECIMALS + 1)}


def unsourced_figures(text: str, leaves: Iterable[float]) -> list[Figure]:
    """The figures of ``text`` that no result leaf rounds to, in the order they appear. A plain
    figure must be a leaf (``0.8835``); a percentage a leaf x 100 (``0.8835`` -> ``88.4 %``) or a
    leaf already in percent points."""
    leaves = list(leaves)
    allowed = {False: quotable(leaves, percent=False), True: quotable(leaves, percent=True)}
    return [figure for figure in figures(text)
            if figure.plain not in allowed[figure.percent].get(figure.decimals, set())]


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_the_readme_is_short_and_its_corpus_section_shorter() -> None:
    text = README.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    assert lines <= MAX_README_LINES, (f"README.md has {lines} lines, at most {MAX_README_LINES}: move the detail "
                                       f"into docs/ and link it")
    corpus = sections(text).get(CORPUS_SECTION)
    assert corpus, f'README.md has no "## {CORPUS_SECTION}" section'
    assert len(corpus) <= MAX_CORPUS_SECTION_LINES, (
        f'README.md\'s "{CORPUS_SECTION}" has {len(corpus)} lines, at most {MAX_CORPUS_SECTION_LINES}: '
        f"the full story belongs in docs/corpora.md")


def test_every_relative_link_and_anchor_resolves() -> None:
    problems = [problem for doc in markdown_files() for problem in broken_links(doc)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_every_doc_is_linked_from_the_readme_and_opens_with_a_sentence() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve()
              for _, target in links(README.read_text(encoding="utf-8")) if not EXTERNAL.match(target)}
    docs = sorted(DOCS.glob("*.md"))
    assert docs, "docs/ holds no Markdown file"
    unlinked = [doc.name for doc in docs if doc.resolve() not in linked]
    assert not unlinked, f"docs not linked from README.md: {', '.join(unlinked)}"
    for doc in docs:
        opening = opening_paragraph(doc.read_text(encoding="utf-8"))
        assert is_sentence(opening), (f"docs/{doc.name} must open, after its title, with a sentence saying what "
                                      f"question it answers; it opens with {opening[:80]!r}")


def test_every_figure_the_readme_quotes_is_in_a_committed_result_file() -> None:
    leaves = result_leaves()
    assert leaves, f"no numbers in {', '.join(RESULT_GLOBS)}"
    quoted = figures(README.read_text(encoding="utf-8"))
    assert quoted, "README.md quotes no figure: the models table is missing"
    missing = unsourced_figures(README.read_text(encoding="utf-8"), leaves)
    assert not missing, ("README.md quotes figures that no committed result file holds "
                         f"({', '.join(RESULT_GLOBS)}); quote the file's value or remove the figure:\n"
                         + "\n".join(f"README.md:{figure.line}: {figure.text}{' %' if figure.percent else ''}"
                                     for figure in missing))


def test_the_figure_checker_rejects_a_made_up_figure_and_accepts_rounded_ones() -> None:
    leaves = [0.8835, 2.05, 1988.3, 12, -0.0107]
    text = ("accuracy 0.8835 (88.4 %), load 2.1, 1,988.3 s of steps, 12.0 reviews/s, −0.0107 below\n"
            "made up: 0.8836 and 91.2 %\n"
            "`0.4242` in code, textstat 0.7.8, [a link](docs/v1.23.md)\n"
            "```\n9.99\n```\n")
    assert [(figure.text, figure.line, figure.percent) for figure in unsourced_figures(text, leaves)] == [
        ("0.8836", 2, False), ("91.2", 2, True)]


def test_the_link_checker_follows_githubs_heading_anchors() -> None:
    assert github_slug("Word heatmaps (`imdb/tools/explain`)") == "word-heatmaps-imdbtoolsexplain"
    assert github_slug("task: rating: IMDB star ratings") == "task-rating-imdb-star-ratings"
    assert github_slug("Findings for the dense model (validation split, 2,515 reviews)") == \
        "findings-for-the-dense-model-validation-split-2515-reviews"
    assert anchors("# A\n## Runs\n```\n# not a heading\n```\n## Runs\n") == {"a", "runs", "runs-1"}
    assert [target for _, target in links("[x](a.md#b) `[y](c.md)`\n```\n[z](d.md)\n```\n![i](p.png)")] == \
        ["a.md#b", "p.png"]


# A served file's size as the README's model table quotes it: `model/NAME.ext` then whole kB.
FILE_SIZE = re.compile(r"`(model/[\w.-]+)`\s+([\d,]+)\s+kB")
BYTES_PER_KB = 1000


def quoted_file_sizes(text: str) -> list[tuple[str, int]]:
    """(path, kB) for every committed file whose size the text quotes."""
    return [(path, int(kb.replace(",", ""))) for line in prose_lines(text) for path, kb in FILE_SIZE.findall(line)]


def wrong_file_sizes(text: str, root: Path = REPO_ROOT) -> list[str]:
    """The quoted sizes that are not the committed file's size rounded to whole kB (or name no file)."""
    problems = []
    for path, kb in quoted_file_sizes(text):
        target = root / path
        if not target.is_file():
            problems.append(f"{path}: no such committed file")
        elif round(target.stat().st_size / BYTES_PER_KB) != kb:
            problems.append(f"{path}: README says {kb:,} kB, the file has {target.stat().st_size / BYTES_PER_KB:,.0f} kB")
    return problems


def test_every_model_size_the_readme_quotes_is_the_committed_files() -> None:
    text = README.read_text(encoding="utf-8")
    assert quoted_file_sizes(text), "README.md's model table quotes no served file's size"
    problems = wrong_file_sizes(text)
    assert not problems, "README.md's model sizes drifted from model/:\n" + "\n".join(problems)


def test_the_size_checker_rejects_a_wrong_size_and_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "tiny.onnx").write_bytes(b"\0" * 2_600)
    text = "| `model/tiny.onnx` 3 kB |\n| `model/tiny.onnx` 2 kB |\n| `model/gone.onnx` 1 kB |\n"
    assert wrong_file_sizes(text, tmp_path) == ["model/tiny.onnx: README says 2 kB, the file has 3 kB",
                                                "model/gone.onnx: no such committed file"]
