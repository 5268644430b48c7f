"""``poetry run test`` itself: without Chromium it stops at once, in one line saying how to install it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from imdb.contract.config import REPO_ROOT

COMMAND_TIMEOUT_S = 120


def test_without_chromium_the_test_command_fails_in_one_line(tmp_path: Path) -> None:
    # An empty PATH: no browser to find (the interpreter is named by its absolute path).
    env = {**os.environ, "PATH": str(tmp_path)}
    completed = subprocess.run([sys.executable, "-m", "imdb.tools.testing"], cwd=REPO_ROOT, env=env,
                               capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert completed.returncode == 1
    assert completed.stdout == ""
    (line,) = completed.stderr.strip().splitlines()
    assert line.startswith("poetry run test: headless Chromium not found") and "apt-get install -y chromium" in line
