"""``poetry run test``: the pytest suite plus ``leap_test.py`` (code-loader's checks), in one run."""

from __future__ import annotations

import sys

import imdb  # noqa: F401  (analytics off for every test process)
from imdb.contract.config import REPO_ROOT


def main() -> None:
    import pytest

    targets = [str(REPO_ROOT / "tests"), str(REPO_ROOT / "leap_test.py")]
    sys.exit(pytest.main([*targets, *sys.argv[1:]]))
