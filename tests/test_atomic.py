"""Atomic writes leave either the old file or the complete new one, never a torn file."""

from pathlib import Path

import pytest

from imdb.contract.files import atomic_path, atomic_write_text


def test_write_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "cache.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["cache.json"]
    assert target.stat().st_mode & 0o044, "atomic files must be readable like ordinary files"


def test_failure_midway_keeps_old_content_and_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "model.h5"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.suffix == ".h5", "writers that pick a format by suffix must see the real one"
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.h5"]
