"""``imdb-leap data ...`` through ``register`` and argparse: options, environment fallbacks, errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from imdb.tools.cli.common import EXIT_OK, run_handler
from imdb.tools.cli.common import USAGE_ERROR as EXIT_DATA_ERROR
from imdb.tools.cli.data import register
from imdb.contract.config import load_config
from imdb.data.checksums import OFFICIAL_URL
from imdb.data.settings import ENV_DATA, ENV_DATA_ROOT

USAGE_ERROR = 2


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imdb-leap")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture
def sample_tarball(layout_sample, tmp_path: Path) -> Path:
    return layout_sample.write_tarball(tmp_path / "sample.tar.gz")


def _run(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    args = parser.parse_args(argv)
    return run_handler(args.command_name, args.func, args)


def test_info_prints_counts_as_the_last_json_line(parser, sample_tarball: Path, tmp_path: Path, layout_sample,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(parser, ["data", "info", "--data", str(sample_tarball), "--data-root", str(tmp_path / "cache")])
    assert code == EXIT_OK
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["source"] == str(sample_tarball)
    splits = summary["splits"]
    assert set(splits) == {"training", "validation"}
    assert sum(split["n"] for split in splits.values()) == len(layout_sample.review_ids("train"))
    assert all(split["n"] == split["negative"] + split["positive"] for split in splits.values())


def test_info_falls_back_to_the_environment(parser, sample_tarball: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENV_DATA, str(sample_tarball))
    monkeypatch.setenv(ENV_DATA_ROOT, str(tmp_path / "env-cache"))
    assert _run(parser, ["data", "info"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["source"] == str(sample_tarball)
    assert (tmp_path / "env-cache" / "index").is_dir()


def test_missing_data_is_one_clear_error_line(parser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENV_DATA, str(tmp_path / "nowhere"))
    assert _run(parser, ["data", "info", "--data-root", str(tmp_path)]) == EXIT_DATA_ERROR
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(tmp_path / "nowhere") in error

    missing = tmp_path / "missing.tar.gz"
    assert _run(parser, ["data", "upload", "--data", str(missing), "--bucket", "gs://imdb-x/p",
                         "--data-root", str(tmp_path)]) == EXIT_DATA_ERROR
    error = capsys.readouterr().err
    assert error.startswith("imdb-leap data upload: error:") and str(missing) in error
    assert "Traceback" not in error


def test_data_needs_an_action_and_upload_a_bucket(parser) -> None:
    with pytest.raises(SystemExit) as no_action:
        parser.parse_args(["data"])
    with pytest.raises(SystemExit) as no_bucket:
        parser.parse_args(["data", "upload", "--data", "x"])
    assert no_action.value.code == no_bucket.value.code == USAGE_ERROR


def test_settings_fall_back_to_the_project_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_DATA_ROOT, raising=False)
    monkeypatch.delenv(ENV_DATA, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    config = load_config()
    assert config.data_root == tmp_path / ".cache" / "imdb-leap"
    assert config.data == OFFICIAL_URL
    monkeypatch.setenv(ENV_DATA_ROOT, "~/elsewhere")
    assert load_config().data_root == tmp_path / "elsewhere"
    assert load_config(data_root=str(tmp_path / "given")).data_root == tmp_path / "given"
