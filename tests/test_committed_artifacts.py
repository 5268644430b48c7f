"""Committed model cards and benchmark results hold URIs as the user gave them, no machine paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from imdb.contract.config import REPO_ROOT

RESULT_FILES = sorted([*(REPO_ROOT / "model").glob("*.json"), *(REPO_ROOT / "bench").glob("*.json")])


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def test_there_are_results_to_check() -> None:
    assert any(path.parent.name == "model" for path in RESULT_FILES)


@pytest.mark.parametrize("path", RESULT_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_absolute_machine_path(path: Path) -> None:
    absolute = [text for text in _strings(json.loads(path.read_text(encoding="utf-8")))
                if text.startswith(("/", "~")) or str(Path.home()) in text]
    assert not absolute, f"{path.name} stores machine paths: {absolute}"
