"""Local Tensorleap check: code-loader's own verdict on this integration, before any push.

Run by ``poetry run test`` with the pytest suite. Each check runs in a fresh interpreter
(code-loader keeps one global binder per process):

* ``LeapLoader(...).check_dataset()`` must report the integration valid, every payload passed;
* the integration test must pass on at least 3 samples of every split;
* the *bundle* test copies only what ``leap.yaml`` includes into an empty directory and runs
  the same check there, proving the push is self-contained.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import imdb  # noqa: F401  (analytics off before anything imports code_loader)
from imdb.contract.config import REPO_ROOT, load_config
from imdb.runtime.text_scoring import READABILITY_FUNCTIONS
from imdb.tools.bundle import bundle_files
from imdb.tools.leap_check import parse_result

CHECKER = REPO_ROOT / "imdb" / "tools" / "leap_check.py"
MIN_SAMPLES_PER_SPLIT = 3
CHECK_TIMEOUT_S = 600


def _data_uri() -> str:
    """``IMDB_DATA`` (or the config's ``data``), resolved against this checkout, not the bundle."""
    uri = load_config().data
    if "://" not in uri and not Path(uri).exists():
        pytest.fail(f"IMDB data not found at {uri!r}: set IMDB_DATA to the aclImdb tarball, directory or bucket")
    return uri


def check_env(data: str | Path, data_root: str | Path) -> dict[str, str]:
    """Environment for a check process: absolute data, model and vocabulary paths, so a copied
    bundle reads the same artifacts as this checkout."""
    config = load_config()
    env = dict(os.environ)
    env.update({"IMDB_DATA": str(data), "IMDB_DATA_ROOT": str(data_root), "TL_DISABLE_ANALYTICS": "1",
                "MPLBACKEND": "Agg", "IMDB_MODEL_DIR": str(config.model_dir)})
    return env


@pytest.fixture(scope="module")
def leap_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Real data and a cache shared by the checks of this module."""
    return check_env(_data_uri(), os.environ.get("IMDB_DATA_ROOT") or tmp_path_factory.mktemp("leap-cache"))


def run_leap_check(root: Path, env: dict[str, str], *extra: str, python: str | Path = sys.executable) -> dict:
    """``imdb/tools/leap_check.py`` run as a script on ``root`` (by ``python``, this interpreter
    unless told, e.g. a venv built like the platform's); returns its JSON verdict."""
    completed = subprocess.run([str(python), str(CHECKER), "--root", str(root), *extra],
                               cwd=root, env=env, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S)
    assert completed.returncode == 0, f"leap check failed in {root}:\n{completed.stderr[-4000:]}"
    return parse_result(completed.stdout)


def assert_valid(verdict: dict) -> None:
    failed = [payload for payload in verdict["payloads"] if not payload["is_passed"]]
    assert verdict["is_valid"], f"check_dataset invalid: {verdict['general_error']}\nfailed: {failed}"
    assert not failed
    assert verdict["payloads"], "check_dataset ran no payload"


def test_check_dataset_is_valid(leap_env: dict[str, str]) -> None:
    verdict = run_leap_check(REPO_ROOT, leap_env)
    assert_valid(verdict)
    config = load_config()
    expected_inputs = ["input_ids", "attention_mask", "token_type_ids"] if config.is_bert else ["input_tokens"]
    assert verdict["inputs"] == expected_inputs
    assert verdict["lengths"]["training"] > 0 and verdict["lengths"]["validation"] > 0
    assert {"review", "probabilities", "ground_truth"} <= set(verdict["visualizers"])
    metadata = set(verdict["metadata"])
    assert {"label", "text_oov_count", "text_truncated", "sentiment_lexicon_polarity",
            "review_rating", "probe_capability", "probe_kind"} <= metadata, metadata
    readability = {f"readability_{name}" for name in READABILITY_FUNCTIONS}
    assert readability <= metadata, readability - metadata
    types = verdict["metadata_types"]
    assert set(types) == metadata, "every metadata field declares its type"
    assert (types["text_truncated"], types["text_oov_count"], types["review_movie_id"],
            types["readability_difficult_words"], types["readability_flesch_reading_ease"]) == \
        ("boolean", "int", "string", "int", "float")
    spaces = verdict["latent_spaces"]
    assert spaces["model_latent"]["computed_at"] == "model" and spaces["model_latent"]["arg_names"] == ["latent"]
    assert spaces["content"]["computed_at"] == "dataset"
    # The behavioural probes: in ``test`` when the data has no official test split, else in ``additional``.
    lengths = verdict["lengths"]
    assert (lengths["additional"] or lengths["test"] or 0) > 0, lengths


def test_integration_test_passes_on_every_split(leap_env: dict[str, str]) -> None:
    verdict = run_leap_check(REPO_ROOT, leap_env, "--integration-test", str(MIN_SAMPLES_PER_SPLIT))
    assert verdict["splits"] >= 2
    assert verdict["samples_checked"] >= MIN_SAMPLES_PER_SPLIT * verdict["splits"]


def leap_spec() -> dict:
    spec = yaml.safe_load((REPO_ROOT / "leap.yaml").read_text(encoding="utf-8"))
    assert spec["entryFile"] in spec["include"], "leap.yaml must include its entry file"
    return spec


def included_files() -> list[str]:
    """What ``leap push`` uploads: files under the repo matching an ``include`` glob and no ``exclude``."""
    spec = leap_spec()
    return bundle_files(REPO_ROOT, spec["include"], spec.get("exclude") or [])


def copy_bundle(bundle: Path) -> list[str]:
    """Copy what ``leap push`` uploads into the empty directory ``bundle``; returns the files."""
    files = included_files()
    for relative in files:
        (bundle / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / relative, bundle / relative)
    return files


def test_bundle_of_leap_yaml_includes_passes_alone(leap_env: dict[str, str], tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    copy_bundle(bundle)
    verdict = run_leap_check(bundle, leap_env)
    assert_valid(verdict)
    assert Path(verdict["imdb"]).resolve().is_relative_to(bundle.resolve()), \
        f"the bundle imported imdb from {verdict['imdb']}, not from the bundle"
    check = run_leap_check(bundle, leap_env, "--integration-test", "1")
    assert check["samples_checked"] >= 2


def test_leap_yaml_excludes_model_and_data() -> None:
    for relative in included_files():
        assert not relative.startswith(("model/", "../")), f"leap.yaml must not push {relative}"
        assert not relative.endswith((".h5", ".keras", ".onnx", ".tar.gz", ".safetensors")), relative
