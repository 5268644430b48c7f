"""The platform build, reproduced: what Tensorleap does with a push, done here first.

Tensorleap builds a pushed bundle on a Linux aarch64 (or x86_64) image with Python 3.11 by
pip-installing ``requirements.txt`` and nothing else, imports the entry file, loads the model
file uploaded with ``leap push -m`` (ONNX), and evaluates in several worker processes that
share one data root. So this module:

1. resolves ``requirements.txt`` for both architectures, wheels only, every manylinux level
   the image accepts, the full dependency closure (code-loader itself comes with the
   platform's image, so it alone is resolved without its dependencies);
2. creates a fresh venv from ``requirements.txt`` alone, copies only what ``leap.yaml``
   bundles into an empty directory, passes the ONNX files from outside it (as ``leap push
   -m`` does) and runs code-loader's ``check_dataset()`` and the integration test there, for
   every family with an ONNX model on disk;
3. starts several platform-like workers together in that venv, each calling every registered
   function on every sample of a capped split, and checks they agree with the development
   environment and that the text scores (TextBlob, textstat) of each review were computed
   once across all of them, and not again by a second run.

Downloads are cached under ``$IMDB_PLATFORM_CACHE`` (a CI cache folder), else under the data
root, so a rerun resolves from the cache.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import leap_test
from imdb.contract.config import MODEL_FAMILIES, REPO_ROOT, load_config
from imdb.contract.model_files import ONNX_SUFFIX, ModelError, model_path

PLATFORM_CACHE_ENV = "IMDB_PLATFORM_CACHE"
PLATFORM_CACHE_DIR = "platform-wheels"
ARCHITECTURES = ("aarch64", "x86_64")
# The glibc levels a manylinux_2_28 image accepts; pip matches platform tags exactly, so each
# level is named (manylinux2014 is the legacy alias of manylinux_2_17).
MANYLINUX_GLIBC_MINORS = range(17, 29)
IMPLEMENTATION = "cp"
CODE_LOADER = "code-loader"
PIP_TIMEOUT_S = 900
VENV_TIMEOUT_S = 900
CHECK_TIMEOUT_S = 600
# What the platform's image does not have and the integration must not need.
ABSENT_FROM_PLATFORM = ("tensorflow", "keras", "keras_hub", "matplotlib", "tf2onnx", "pytest", "poetry")
PRESENT_ON_PLATFORM = ("code_loader", "onnxruntime", "numpy", "textblob", "tokenizers", "google.cloud.storage")
WORKERS = 3
SAMPLE_LIMIT = 12
STALE_SOURCE_FAMILY = "cnn"
PARITY_SAMPLES = 16
NO_DISTRIBUTION = re.compile(r"(?:No matching distribution found for|satisfies the requirement) (\S+)")

CONFIG = load_config()
ONNX_FAMILIES = [family for family in MODEL_FAMILIES
                 if model_path(CONFIG.with_overrides(model=family), ONNX_SUFFIX).is_file()]


def python_version() -> str:
    """``3.11`` from leap.yaml's ``pythonVersion: py311`` (the platform image's interpreter)."""
    tag = leap_test.leap_spec()["pythonVersion"]
    match = re.fullmatch(r"py3(\d+)", tag)
    assert match, f"leap.yaml pythonVersion {tag!r} is not of the form py3NN"
    return f"3.{match[1]}"


def platform_tags(arch: str) -> list[str]:
    return [f"manylinux2014_{arch}", *(f"manylinux_2_{minor}_{arch}" for minor in MANYLINUX_GLIBC_MINORS)]


def wheel_cache() -> Path:
    configured = os.environ.get(PLATFORM_CACHE_ENV)
    return Path(configured).expanduser() if configured else CONFIG.data_root / PLATFORM_CACHE_DIR


def _requirement_lines() -> list[str]:
    return [line.strip() for line in (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[~=<>!;\[ ]", requirement, maxsplit=1)[0]).lower()


def _pip_download(arch: str, dest: Path, *arguments: str) -> subprocess.CompletedProcess:
    platforms = [flag for tag in platform_tags(arch) for flag in ("--platform", tag)]
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input",
               "--only-binary=:all:", "--python-version", python_version(), "--implementation", IMPLEMENTATION,
               "--abi", f"{IMPLEMENTATION}{python_version().replace('.', '')}", *platforms, "--dest", str(dest),
               *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)


def _assert_resolved(arch: str, completed: subprocess.CompletedProcess, what: str) -> None:
    if completed.returncode != 0:
        missing = sorted(set(NO_DISTRIBUTION.findall(completed.stderr)))
        pytest.fail(f"{what} does not resolve to wheels for Linux {arch}, Python {python_version()} "
                    f"(manylinux up to 2_{MANYLINUX_GLIBC_MINORS[-1]}): no wheel for {missing or 'see below'}\n"
                    f"{completed.stderr[-3000:]}", pytrace=False)


def _wheel_platforms(wheel: Path) -> set[str]:
    """The platform tags of a wheel file name (``name-ver-py-abi-plat.whl``)."""
    return set(wheel.name[: -len(".whl")].split("-")[-1].split("."))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_requirements_resolve_to_platform_wheels(arch: str, tmp_path: Path) -> None:
    dest = wheel_cache() / f"py{python_version()}-{arch}"
    dest.mkdir(parents=True, exist_ok=True)
    lines = _requirement_lines()
    runtime = tmp_path / "requirements-without-code-loader.txt"
    runtime.write_text("\n".join(line for line in lines if _name(line) != CODE_LOADER) + "\n", encoding="utf-8")
    _assert_resolved(arch, _pip_download(arch, dest, "-r", str(runtime)), "requirements.txt")
    code_loader = next(line for line in lines if _name(line) == CODE_LOADER)
    _assert_resolved(arch, _pip_download(arch, dest, "--no-deps", code_loader), code_loader)
    wheels = sorted(dest.iterdir())
    assert all(path.suffix == ".whl" for path in wheels), [path.name for path in wheels if path.suffix != ".whl"]
    downloaded = {_name(path.name.split("-")[0]) for path in wheels}
    assert {_name(line) for line in lines} <= downloaded
    wrong_arch = [path.name for path in wheels if not any(tag == "any" or tag.endswith(arch)
                                                          for tag in _wheel_platforms(path))]
    assert not wrong_arch, f"wheels for another platform than Linux {arch}: {wrong_arch}"


@pytest.fixture(scope="module")
def platform_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding ``requirements.txt`` alone: no poetry, no dev packages."""
    venv = tmp_path_factory.mktemp("platform-venv")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=VENV_TIMEOUT_S)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet",
               "--no-compile", "--only-binary=:all:", "-r", str(REPO_ROOT / "requirements.txt")]
    completed = subprocess.run(install, capture_output=True, text=True, timeout=VENV_TIMEOUT_S)
    assert completed.returncode == 0, f"pip install -r requirements.txt failed:\n{completed.stderr[-3000:]}"
    return python


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty directory holding only what ``leap.yaml`` bundles."""
    root = tmp_path_factory.mktemp("pushed") / "bundle"
    files = leap_test.copy_bundle(root)
    assert not any(name.endswith(ONNX_SUFFIX) or name.startswith("model/") for name in files)
    return root


def platform_env(data: str | Path, data_root: Path, family: str, **extra: str) -> dict[str, str]:
    """The check's environment: real data, the models from outside the bundle (as ``leap push
    -m`` passes them), the bundle's own default format, nothing of this checkout on the path."""
    env = leap_test.check_env(data, data_root)
    for inherited in ("PYTHONPATH", "IMDB_MODEL_FORMAT", "IMDB_CONFIG", "IMDB_SAMPLE_LIMIT"):
        env.pop(inherited, None)
    env.update({"IMDB_MODEL": family, "IMDB_MODEL_DIR": str(CONFIG.model_dir), **extra})
    return env


def test_committed_onnx_models_are_the_trained_ones() -> None:
    """dense and cnn ship as ONNX; each matches its Keras model, and a stale one is refused."""
    from imdb.models.loading import load_inference_model, load_keras_model
    from imdb.models.inference import batch_inputs, run_model
    from imdb.runtime.pipeline import Pipeline
    from imdb.tools.export import ONNX_TOLERANCE

    assert {"dense", "cnn"} <= set(ONNX_FAMILIES), "model/dense.onnx and model/cnn.onnx must be committed"
    for family in ONNX_FAMILIES:
        config = CONFIG.with_overrides(model=family, model_format="onnx")
        pipeline = Pipeline(config)
        inputs = batch_inputs(pipeline, pipeline.split_ids("validation")[:PARITY_SAMPLES])
        difference = np.max(np.abs(run_model(load_inference_model(config), inputs)
                                   - run_model(load_keras_model(config), inputs)))
        assert difference <= ONNX_TOLERANCE, f"{family}.onnx differs from its Keras model by {difference}"


def test_onnx_exported_from_another_keras_file_is_refused(tmp_path: Path) -> None:
    from imdb.models.loading import load_inference_model

    shutil.copy2(model_path(CONFIG.with_overrides(model="dense"), ONNX_SUFFIX), tmp_path / "dense.onnx")
    shutil.copy2(model_path(CONFIG.with_overrides(model=STALE_SOURCE_FAMILY), ".h5"), tmp_path / "dense.h5")
    config = CONFIG.with_overrides(model="dense", model_format="onnx", model_dir=str(tmp_path))
    with pytest.raises(ModelError, match=r"dense\.onnx was exported from another version of .*dense\.h5.*export"):
        load_inference_model(config)


def test_platform_venv_holds_the_runtime_only(platform_python: Path) -> None:
    probe = ("import importlib.util, json, sys; "
             "print(json.dumps({m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}))")
    modules = (*ABSENT_FROM_PLATFORM, *PRESENT_ON_PLATFORM)
    completed = subprocess.run([str(platform_python), "-c", probe, *modules], capture_output=True, text=True,
                               check=True, timeout=CHECK_TIMEOUT_S, env={"PATH": os.environ.get("PATH", "")})
    found = json.loads(completed.stdout)
    assert not [module for module in ABSENT_FROM_PLATFORM if found[module]], found
    assert all(found[module] for module in PRESENT_ON_PLATFORM), found


@pytest.mark.parametrize("family", ONNX_FAMILIES)
def test_bundle_passes_code_loader_checks_in_the_platform_venv(family: str, platform_python: Path, bundle: Path,
                                                               imdb_data_uri: str, data_root: Path) -> None:
    env = platform_env(imdb_data_uri, data_root, family, IMDB_SAMPLE_LIMIT=str(SAMPLE_LIMIT))
    verdict = leap_test.run_leap_check(bundle, env, python=platform_python)
    leap_test.assert_valid(verdict)
    assert Path(verdict["imdb"]).resolve().is_relative_to(bundle.resolve()), verdict["imdb"]
    checked = leap_test.run_leap_check(bundle, env, "--integration-test", "1", python=platform_python)
    assert checked["samples_checked"] >= checked["splits"] >= 2
    assert checked["model_class"].startswith("onnxruntime.") and checked["model_class"].endswith("InferenceSession")


def _start_worker(python: Path, root: Path, env: dict[str, str], out: Path) -> subprocess.Popen:
    worker = REPO_ROOT / "imdb" / "tools" / "platform_worker.py"
    return subprocess.Popen([str(python), str(worker), "--root", str(root), "--out", str(out)], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def run_workers(python: Path, root: Path, env: dict[str, str], outputs: list[Path]) -> list[dict]:
    """Start one worker per output file at once; wait for all; their results."""
    processes = [_start_worker(python, root, env, out) for out in outputs]
    failures = []
    for process, out in zip(processes, outputs, strict=True):
        _, stderr = process.communicate(timeout=CHECK_TIMEOUT_S)
        if process.returncode != 0:
            failures.append(f"worker {out.name} exited {process.returncode}:\n{stderr[-3000:]}")
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
    return [json.loads(out.read_text(encoding="utf-8")) for out in outputs]


def persisted_scores(results: list[dict], data_root: Path) -> int:
    """How many distinct reviews have text scores in the corpus's shared score file, which all
    workers must have used (one file, in the shared data root)."""
    files = {Path(result["text_scores_file"]) for result in results}
    assert len(files) == 1, f"the workers used different text-score files: {sorted(files)}"
    (path,) = files
    assert path.resolve().is_relative_to(data_root.resolve()), f"{path} is not in the shared data root"
    return len(json.loads(path.read_text(encoding="utf-8"))["scores"])


def test_platform_workers_agree_with_development_and_score_text_once(
        platform_python: Path, bundle: Path, imdb_data_uri: str, tmp_path: Path) -> None:
    shared_root = tmp_path / "shared-data-root"
    env = platform_env(imdb_data_uri, shared_root, "dense", IMDB_SAMPLE_LIMIT=str(SAMPLE_LIMIT))
    first = run_workers(platform_python, bundle, env, [tmp_path / f"worker-{n}.json" for n in range(WORKERS)])
    assert all(Path(result["imdb"]).resolve().is_relative_to(bundle.resolve()) for result in first)
    samples = first[0]["samples"]
    assert len(samples) >= 2 * SAMPLE_LIMIT and all(result["samples"] == samples for result in first)
    scored = [result["text_scored_in_process"] for result in first]
    persisted = persisted_scores(first, shared_root)
    # The capped training and validation splits are corpus reviews (probe samples keep their own scores).
    assert persisted >= 2 * SAMPLE_LIMIT, f"{persisted} reviews have text scores, {2 * SAMPLE_LIMIT} were served"
    assert sum(scored) == persisted, f"{WORKERS} workers scored {scored} reviews; {persisted} distinct ones are stored"
    every = next(iter(samples.values()))
    assert every["metadata"] and set(every["loss"]) == {"categorical_crossentropy"}
    assert set(every["metrics"]) == {"accuracy", "class_recall", "confidence", "confusion_matrix"}
    assert set(every["visualizers"]) == {"review", "probabilities", "ground_truth"}
    assert set(every["heatmaps"]) == {"review"}

    development = run_workers(Path(sys.executable), REPO_ROOT, dict(env, PYTHONPATH=str(REPO_ROOT)),
                              [tmp_path / "development.json"])[0]
    assert development["text_scored_in_process"] == 0, "the scores the workers wrote were not reused"
    assert development["samples"] == samples, "the platform venv and the development environment disagree"
    again = run_workers(platform_python, bundle, env, [tmp_path / f"again-{n}.json" for n in range(WORKERS)])
    assert [result["text_scored_in_process"] for result in again] == [0] * WORKERS
    assert all(result["samples"] == samples for result in again)


def test_vendor_local_check_runs_in_the_platform_venv(platform_python: Path, bundle: Path, imdb_data_uri: str,
                                                      data_root: Path) -> None:
    """``python leap_integration.py`` — the vendor's documented local check — in the venv the
    platform builds: every split checked, the plots skipped in one line that says how to get them
    (code-loader prints its own decorator summary after it, at exit)."""
    env = platform_env(imdb_data_uri, data_root, "dense", IMDB_SAMPLE_LIMIT=str(SAMPLE_LIMIT))
    completed = subprocess.run([str(platform_python), "leap_integration.py"], cwd=bundle, env=env,
                               capture_output=True, text=True, timeout=CHECK_TIMEOUT_S)
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = completed.stdout.splitlines()
    passed = [index for index, line in enumerate(lines) if line.startswith("integration test passed on ")]
    assert len(passed) == 1, completed.stdout[-2000:]
    summary = re.fullmatch(r"integration test passed on (\d+) samples \((.+); dense, onnx\)", lines[passed[0]])
    assert summary, lines[passed[0]]
    per_state = dict((state, int(count)) for state, count in
                     (part.rsplit(" ", 1) for part in summary.group(2).split(", ")))
    assert {"training", "validation"} <= set(per_state) and min(per_state.values()) > 0, per_state
    assert sum(per_state.values()) == int(summary.group(1)), lines[passed[0]]
    assert lines[passed[0] + 1] == ("plots skipped: matplotlib is not installed "
                                    "(pip install matplotlib, or poetry install, to see them)")
    assert "Traceback" not in completed.stderr
