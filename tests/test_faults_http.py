"""Network faults between the https:// data source and a real HTTP server on loopback.

The same guarantees as the GCS source: transient faults (503s, a reset or a cut mid-body, a
short stall) are survived with data identical to a clean load, resuming with ``Range`` rather
than starting over; persistent ones (404, 503 forever, resets forever, a stall longer than
``IMDB_HTTP_TIMEOUT``, a wrong checksum) end within a bounded time in a DataError naming the
URL and the cause; nothing that looks like a finished entry is ever left half-written; and the
next run succeeds, resuming from the bytes the failed one kept where it can.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest

from faults_helpers import assert_only_complete_entries, corpus_digest
from http_helpers import ALWAYS, CUT, NO_RANGE, RESET, STALL, STATUS, FileServer, download_files, pinned, sha256_of
from imdb.data import DataError, load_corpus
from imdb.data.cache import DOWNLOAD_DIR, INDEX_DIR, RESUME_SUFFIX
from imdb.data.settings import DOCS_SOURCES_FILE, ENV_DATA, ENV_HTTP_TIMEOUT, SOURCES_SECTION
from imdb.data.web import ATTEMPTS_WITHOUT_PROGRESS, VERIFY_ATTEMPTS, TransferMismatchError

TARBALL_NAME = "aclImdb-sample.tar.gz"
FAULT_TIMEOUT_S = 2.0
# Transient faults get room for a few backoff sleeps (0.25 s, 0.5 s, 1 s...).
TRANSIENT_TIMEOUT_S = 10.0
# A persistent fault: the budget, one socket timeout that may start just before its end, and slack.
PERSISTENT_LIMIT_S = 2 * FAULT_TIMEOUT_S + 4.0
MID_BODY = 40_000
SHORT_STALL_S = 0.5
LONG_STALL_S = 25.0


@pytest.fixture(scope="module")
def sample(layout_sample, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, Any]]:
    """The small real-review tarball and what a clean load of it yields."""
    folder = tmp_path_factory.mktemp("http-faults")
    path = layout_sample.write_tarball(folder / TARBALL_NAME)
    return path.read_bytes(), corpus_digest(load_corpus(path, folder / "clean-root"))


def _entries(root: Path) -> list[str]:
    return [name for name in download_files(root) if not name.startswith(".")]


def _partials(root: Path) -> list[str]:
    return [name for name in download_files(root) if name.endswith(RESUME_SUFFIX)]


# Faults that stop after a few requests: all must be survived, pinned or not.
TRANSIENT: dict[str, list[dict[str, Any]]] = {
    "503 on the first 2 downloads": [dict(kind=STATUS, times=2)],
    "500 then 502 then 429": [dict(kind=STATUS, status=500), dict(kind=STATUS, status=502),
                              dict(kind=STATUS, status=429)],
    "503 on the first check (HEAD)": [dict(kind=STATUS, methods=("HEAD",))],
    "connection reset mid-body": [dict(kind=RESET, after_bytes=MID_BODY)],
    "connection reset mid-body, three times": [dict(kind=RESET, after_bytes=MID_BODY, times=3)],
    "body truncated (FIN before its Content-Length)": [dict(kind=CUT, after_bytes=MID_BODY)],
    "every body truncated after 40 KB": [dict(kind=CUT, after_bytes=MID_BODY, times=ALWAYS)],
    "reset, then the Range ignored (a full 200)": [dict(kind=RESET, after_bytes=MID_BODY), dict(kind=NO_RANGE)],
    "stall shorter than the timeout": [dict(kind=STALL, delay_s=SHORT_STALL_S, methods=("HEAD", "GET"))],
}


CASES = [(fault, pin) for fault in TRANSIENT for pin in (True, False)
         # A pinned source sends no HEAD: the check's fault concerns unpinned URLs only.
         if not (pin and all(options.get("methods") == ("HEAD",) for options in TRANSIENT[fault]))]


@pytest.mark.parametrize(("fault", "pin"), CASES, ids=[f"{fault} ({'pinned' if pin else 'unpinned'})"
                                                       for fault, pin in CASES])
def test_transient_fault_is_survived(fault: str, pin: bool, sample: tuple[bytes, dict[str, Any]],
                                     web_server: FileServer, fresh_root: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    data, digest = sample
    monkeypatch.setenv(ENV_HTTP_TIMEOUT, str(TRANSIENT_TIMEOUT_S))
    url = web_server.put(TARBALL_NAME, data)
    faults = [web_server.inject(**options) for options in TRANSIENT[fault]]
    assert corpus_digest(load_corpus(pinned(url, data) if pin else url, fresh_root)) == digest
    assert all(f.times == 0 or f.times > ALWAYS // 2 for f in faults), "the scripted fault was never hit"
    (entry,) = _entries(fresh_root)
    assert sha256_of((fresh_root / DOWNLOAD_DIR / entry).read_bytes()) == sha256_of(data)
    assert_only_complete_entries(fresh_root)
    gets = web_server.requests("GET")
    if any(options["kind"] in (RESET, CUT) for options in TRANSIENT[fault]):
        resumed = [e for e in gets if e.range is not None]
        assert resumed and all(e.status in (200, 206) for e in resumed), "a cut body is resumed with Range"
    if fault == "every body truncated after 40 KB":
        assert len(gets) == -(-len(data) // MID_BODY), "each request resumes where the last one stopped"


# Faults that never stop: (scripted faults, the words the error must contain, bytes kept for a resume?).
PERSISTENT: dict[str, tuple[list[dict[str, Any]], str, bool]] = {
    "404 Not Found": ([dict(kind=STATUS, status=404, times=ALWAYS, methods=("HEAD", "GET"))],
                      "the server answered HTTP 404 Not Found", False),
    "503 on every request": ([dict(kind=STATUS, times=ALWAYS, methods=("HEAD", "GET"))],
                             "kept failing (HTTP 503 Service Unavailable", False),
    "reset before the first body byte, always": ([dict(kind=RESET, times=ALWAYS)],
                                                 "cannot reach 127.0.0.1", False),
    "reset after 40 KB, then 503 forever": ([dict(kind=RESET, after_bytes=MID_BODY),
                                             dict(kind=STATUS, times=ALWAYS)],
                                            "kept failing (HTTP 503 Service Unavailable", True),
    "stall longer than the timeout": ([dict(kind=STALL, delay_s=LONG_STALL_S, times=ALWAYS)],
                                      "Read timed out", False),
}


@pytest.mark.parametrize("fault", list(PERSISTENT))
def test_persistent_fault_fails_clearly_and_the_next_run_succeeds(
        fault: str, sample: tuple[bytes, dict[str, Any]], web_server: FileServer, fresh_root: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    data, digest = sample
    monkeypatch.setenv(ENV_HTTP_TIMEOUT, str(FAULT_TIMEOUT_S))
    url = web_server.put(TARBALL_NAME, data)
    uri = pinned(url, data)
    options, cause, keeps_bytes = PERSISTENT[fault]
    for option in options:
        web_server.inject(**option)
    started = time.perf_counter()
    with pytest.raises(DataError) as caught:
        load_corpus(uri, fresh_root)
    elapsed = time.perf_counter() - started
    message = str(caught.value)
    assert f"downloading {url}" in message and cause in message, message
    assert ENV_DATA in message and f'"{SOURCES_SECTION}" in {DOCS_SOURCES_FILE}' in message and "\n" not in message
    assert elapsed < PERSISTENT_LIMIT_S, f"{fault} took {elapsed:.1f} s"
    assert len(web_server.requests()) <= ATTEMPTS_WITHOUT_PROGRESS + 1
    assert _entries(fresh_root) == [] and list((fresh_root / INDEX_DIR).iterdir()) == []
    kept = _partials(fresh_root)
    assert bool(kept) == keeps_bytes
    if keeps_bytes:
        assert "the next run resumes from there" in message

    web_server.clear()
    web_server.forget()
    assert corpus_digest(load_corpus(uri, fresh_root)) == digest
    if keeps_bytes:
        (resumed,) = web_server.requests()
        assert resumed.range is not None and resumed.status == 206
    assert_only_complete_entries(fresh_root)


def test_404_is_not_retried(sample: tuple[bytes, dict[str, Any]], web_server: FileServer, fresh_root: Path) -> None:
    data, _ = sample
    url = web_server.url("missing.tar.gz")
    with pytest.raises(DataError, match=rf"checking {url}: the server answered HTTP 404"):
        load_corpus(url, fresh_root)
    assert [e.method for e in web_server.requests()] == ["HEAD"]


def test_wrong_checksum_is_fetched_again_then_fails_and_nothing_is_kept(
        sample: tuple[bytes, dict[str, Any]], web_server: FileServer, fresh_root: Path) -> None:
    data, digest = sample
    url = web_server.put(TARBALL_NAME, data)
    wrong = pinned(url, data + b"something else")
    with pytest.raises(TransferMismatchError) as caught:
        load_corpus(wrong, fresh_root)
    message = str(caught.value)
    assert f"downloaded {url} does not match the #sha256= of the URL (sha256 {sha256_of(data)} instead of" in message
    assert f"after {VERIFY_ATTEMPTS} attempts" in message and ENV_DATA in message
    assert len(web_server.requests("GET")) == VERIFY_ATTEMPTS
    assert download_files(fresh_root) == [] and list((fresh_root / INDEX_DIR).iterdir()) == []
    assert corpus_digest(load_corpus(pinned(url, data), fresh_root)) == digest


def test_partial_from_an_older_version_is_caught_by_the_checksum_and_fetched_whole(
        layout_sample, sample: tuple[bytes, dict[str, Any]], tmp_path: Path, web_server: FileServer,
        fresh_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes kept from a cut download of an old version of a pinned file are never spliced onto
    the new one unnoticed: the checksum fails, the file is fetched again from byte 0, once."""
    data, digest = sample
    monkeypatch.setenv(ENV_HTTP_TIMEOUT, str(FAULT_TIMEOUT_S))
    old = layout_sample.with_members({"aclImdb/train/neg/0_3.txt": b"An older upload."})
    url = web_server.put(TARBALL_NAME, old.write_tarball(tmp_path / "old.tar.gz").read_bytes())
    uri = pinned(url, data)
    web_server.inject(RESET, after_bytes=MID_BODY)
    web_server.inject(STATUS, times=ALWAYS)
    with pytest.raises(DataError):
        load_corpus(uri, fresh_root)
    assert _partials(fresh_root)
    web_server.clear()
    web_server.put(TARBALL_NAME, data)
    web_server.forget()
    assert corpus_digest(load_corpus(uri, fresh_root)) == digest
    ranged, whole = web_server.requests("GET")
    assert ranged.range is not None and whole.range is None
    assert hashlib.sha256((fresh_root / DOWNLOAD_DIR / _entries(fresh_root)[0]).read_bytes()).hexdigest() == \
        sha256_of(data)
    assert_only_complete_entries(fresh_root)
