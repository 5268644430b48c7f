"""Every local failure is a DataError naming what is at fault, and leaves no half-written cache."""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from pathlib import Path

import pytest

from imdb.data import DataError, load_corpus
from imdb.data.cache import CACHE_DIRS
from imdb.data.settings import ENV_GCS_TIMEOUT, gcs_timeout_s

CORRUPT_OFFSET = 2000
CORRUPT_LENGTH = 64


def _no_leftovers(root: Path) -> None:
    """Neither temp files nor index entries may survive a failed load."""
    leftovers = [path for name in CACHE_DIRS if (root / name).is_dir() for path in (root / name).iterdir()]
    assert leftovers == []


def test_missing_path_is_named(fresh_root: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "aclImdb"
    with pytest.raises(DataError, match=f"{missing} does not exist"):
        load_corpus(missing, fresh_root)


def test_directory_without_layout_is_named(tmp_path: Path, fresh_root: Path, layout_sample) -> None:
    folder = tmp_path / "not-imdb"
    (folder / "aclImdb" / "train" / "pos").mkdir(parents=True)
    with pytest.raises(DataError, match=r"not-imdb has no aclImdb/train/pos and aclImdb/train/neg"):
        load_corpus(folder, fresh_root)
    layout_sample.write_tarball(folder / "aclImdb-train.tar.gz")
    with pytest.raises(DataError, match=re.escape("aclImdb-train.tar.gz: pass the tarball's path")):
        load_corpus(folder, fresh_root)


@pytest.mark.parametrize("root", ["", "   "])
def test_empty_data_root_is_named(root: str, layout_sample, tmp_path: Path) -> None:
    tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz")
    with pytest.raises(DataError, match=r"data root is empty.*IMDB_DATA_ROOT"):
        load_corpus(tarball, root)


def test_unusable_data_root_is_named(layout_sample, tmp_path: Path) -> None:
    tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz")
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    with pytest.raises(DataError, match=f"data root {a_file} is not a directory"):
        load_corpus(tarball, a_file)
    # Below a regular file nothing can be created, whoever runs the test (root ignores modes).
    with pytest.raises(DataError, match=f"data root {a_file / 'cache'} is not writable"):
        load_corpus(tarball, a_file / "cache")


def test_tarball_outside_the_layout_is_named(tmp_path: Path, fresh_root: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = b"some other dataset"
        info = tarfile.TarInfo("reviews/train/pos/0_9.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    tarball = tmp_path / "other.tar.gz"
    tarball.write_bytes(gzip.compress(buffer.getvalue()))
    with pytest.raises(DataError, match=r"other.tar.gz is not in the aclImdb layout.*aclImdb/train/neg/"):
        load_corpus(tarball, fresh_root)
    _no_leftovers(fresh_root)


def test_tarball_missing_one_label_is_named(layout_sample, tmp_path: Path, fresh_root: Path) -> None:
    no_negatives = layout_sample.with_members({name: None for name in layout_sample.members if "/neg/" in name})
    with pytest.raises(DataError, match=r"not in the aclImdb layout: no review files .* under aclImdb/train/neg/"):
        load_corpus(no_negatives.write_tarball(tmp_path / "half.tar.gz"), fresh_root)


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "not-gzip", "empty"])
def test_damaged_tarball_is_named(damage: str, layout_sample, tmp_path: Path, fresh_root: Path) -> None:
    tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz")
    content = tarball.read_bytes()
    if damage == "truncated":
        tarball.write_bytes(content[: len(content) // 2])
    elif damage == "corrupt":
        damaged = bytearray(content)
        damaged[CORRUPT_OFFSET:CORRUPT_OFFSET + CORRUPT_LENGTH] = bytes(CORRUPT_LENGTH)
        tarball.write_bytes(bytes(damaged))
    elif damage == "not-gzip":
        tarball.write_bytes(gzip.decompress(content))
    else:
        tarball.write_bytes(b"")
    with pytest.raises(DataError, match=str(tarball)) as caught:
        load_corpus(tarball, fresh_root)
    assert any(word in str(caught.value) for word in ("corrupt or truncated", "not a gzip"))
    _no_leftovers(fresh_root)


def test_unsupported_scheme_is_named(fresh_root: Path) -> None:
    with pytest.raises(DataError, match="unsupported data URI s3://bucket/aclImdb"):
        load_corpus("s3://bucket/aclImdb", fresh_root)


def test_empty_source_is_named(fresh_root: Path) -> None:
    with pytest.raises(DataError, match="data source is empty"):
        load_corpus("", fresh_root)


@pytest.mark.parametrize("value", ["soon", "-1", "0", "inf"])
def test_bad_gcs_timeout_setting_is_named(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_GCS_TIMEOUT, value)
    with pytest.raises(DataError, match=ENV_GCS_TIMEOUT):
        gcs_timeout_s()
