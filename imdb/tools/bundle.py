"""The files ``leap push`` uploads: ``leap.yaml``'s ``include`` minus its ``exclude``.

Why our own matcher: the leap CLI matches both lists with doublestar globs (``**`` spans any
number of folders, ``*`` and ``?`` stay within one path segment), which ``fnmatch`` and
``pathlib`` do not reproduce (``fnmatch``'s ``*`` crosses ``/``; ``Path.match`` anchors at the
right). The bundle test builds the bundle with these semantics, so what passes here is what
would be pushed.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

# A file name the pruning test appends to a folder: an excluded folder excludes all its files.
_PROBE = "probe"


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    parts = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts) + r"\Z")


def matches(pattern: str, relative: str) -> bool:
    """Whether a ``/``-separated path relative to the bundle root matches a doublestar glob."""
    return _compile(pattern).match(relative) is not None


def _any(patterns: Iterable[str], relative: str) -> bool:
    return any(matches(pattern, relative) for pattern in patterns)


def bundle_files(root: Path, include: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """Sorted relative paths of the files under ``root`` that ``leap push`` would upload."""
    chosen = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root).as_posix()
        prefix = "" if base == "." else f"{base}/"
        dirs[:] = [name for name in dirs if not _any(exclude, f"{prefix}{name}/{_PROBE}")]
        for name in files:
            relative = f"{prefix}{name}"
            if _any(include, relative) and not _any(exclude, relative):
                chosen.append(relative)
    return sorted(chosen)
