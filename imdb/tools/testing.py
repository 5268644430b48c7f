"""``poetry run test``: the pytest suite plus ``leap_test.py`` (code-loader's checks), in one run.

Why a check before pytest starts: the report tests render the report in headless Chromium,
which poetry cannot install. Without it they would fail with tracebacks after minutes of other
tests; instead the command stops at once with one line saying how to install it.
"""

from __future__ import annotations

import sys

import imdb  # noqa: F401  (analytics off for every test process)
from imdb.contract.config import REPO_ROOT


def missing_browser() -> str | None:
    """The one-line reason the suite cannot run here, or None when Chromium is installed."""
    from imdb.tools.report.browser import BrowserError, chromium

    try:
        chromium()
    except BrowserError as exc:
        return (f"poetry run test: {exc} (e.g. sudo apt-get install -y chromium), then run the tests again; "
                f"tests/test_report.py renders the analysis report in it")
    return None


def main() -> None:
    import pytest

    problem = missing_browser()
    if problem is not None:
        sys.exit(problem)
    targets = [str(REPO_ROOT / "tests"), str(REPO_ROOT / "leap_test.py")]
    sys.exit(pytest.main([*targets, *sys.argv[1:]]))


if __name__ == "__main__":
    main()
