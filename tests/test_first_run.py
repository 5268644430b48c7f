"""A newcomer's first run: README command 1 in a fresh copy of the repository with no ``../shared``.

What a clone has is what git tracks, so the copy is exactly that (tracked files, plus files
not yet committed that git does not ignore, so the test checks the working tree it runs in);
nothing beside it, an empty home directory (so ``data_root`` is the default user cache dir),
no Hugging Face hub, and ``IMDB_DATA`` pointed at a loopback stand-in of the official URL that
serves the real reviews. ``imdb-leap analyze`` must download them, write the report and print
its path, with the committed dense model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from http_helpers import FileServer
from imdb.contract.config import ENV_OVERRIDES, REPO_ROOT
from imdb.data.checksums import OFFICIAL_URL

# Small enough for CI, large enough for every section of the report (clusters, label issues).
LIMIT = 60
ANALYZE_TIMEOUT_S = 600
GIT_TIMEOUT_S = 60
# Variables that would point the copy at this machine's files or settings.
MACHINE_ENV = ("IMDB_CONFIG", "PYTHONPATH", "HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME", *ENV_OVERRIDES)


def _fresh_copy(folder: Path) -> Path:
    """The repository's files as a clone would hold them, in ``folder/imdb-leap``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, check=True, timeout=GIT_TIMEOUT_S).stdout
    copy = folder / "imdb-leap"
    for name in filter(None, listed.decode("utf-8").split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


def test_readme_command_runs_in_a_fresh_clone_against_the_official_url_stand_in(
        imdb_tarball: Path, web_server: FileServer, tmp_path: Path) -> None:
    official_name = OFFICIAL_URL.rsplit("/", 1)[-1]
    url = web_server.put(official_name, imdb_tarball.read_bytes())
    clone = _fresh_copy(tmp_path / "fresh")
    home = tmp_path / "home"
    home.mkdir()
    assert not (clone.parent / "shared").exists() and (clone / "model" / "dense.h5").is_file()
    env = {name: value for name, value in os.environ.items() if name not in MACHINE_ENV}
    env.update({"HOME": str(home), "IMDB_DATA": url, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"})
    command = [sys.executable, "-m", "imdb.tools.cli", "analyze", "--split", "validation", "--limit", str(LIMIT),
               "--projection", "pca", "--faithfulness-samples", "0", "--no-progress"]
    completed = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=ANALYZE_TIMEOUT_S)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    report = Path(result["out"])
    assert report.is_file() and report.is_relative_to(clone), result
    assert (result["model"], result["split"], result["n"]) == ("dense", "validation", LIMIT)
    assert [e.method for e in web_server.requests()] == ["HEAD", "GET"], "the archive is downloaded once"
    downloads = list((home / ".cache" / "imdb-leap" / "downloads").glob("*.tar.gz"))
    assert len(downloads) == 1 and downloads[0].stat().st_size == imdb_tarball.stat().st_size
