"""The https:// (and http://) data source against a real HTTP server on loopback.

The official archive is 84 MB on a university server; these tests serve the real reviews
(the shared 25,000-review tarball, and a small layout of real reviews where a test loads many
times) from ``tests/http_helpers.FileServer`` and check what a first run, a warm run, an
offline run, a changed file and a killed download do to the cache.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faults_helpers import GO_FILE, assert_only_complete_entries, cache_files, corpus_digest
from http_helpers import THROTTLE, FileServer, download_files, pinned, sha256_of
from imdb.data import Corpus, DataError, load_corpus
from imdb.data.cache import DOWNLOAD_DIR, RESUME_KEEP_S, RESUME_SUFFIX, prepare_data_root, resume_path
from imdb.data.checksums import OFFICIAL_URL, PUBLISHED, expected_digest
from imdb.data.settings import DOCS_SOURCES_FILE, ENV_DATA, ENV_HTTP_TIMEOUT, SOURCES_SECTION
from imdb.data.web import HttpUnreachableError

TARBALL_NAME = "aclImdb_v1.tar.gz"
# Where the reset strikes in the 15 MB real tarball: well inside its body.
REAL_MID_BODY = 5_000_000
SHORT_TIMEOUT_S = 2.0
# A failed load against a dead server: its attempts and backoff, plus slack on a busy machine.
DOWN_LIMIT_S = 2 * SHORT_TIMEOUT_S + 4.0
KILL_AFTER_BYTES = 40_000
THROTTLE_BPS = 100_000
KILL_WAIT_S = 60.0
WORKERS = 2
# The sample at this rate takes ~2 s: long enough that both workers are inside the download at once.
SHARED_THROTTLE_BPS = 80_000
POLL_S = 0.05
WORKER_TIMEOUT_S = 120
FAULTS_HELPERS = Path(__file__).with_name("faults_helpers.py")
SOURCES_DOC = Path(__file__).resolve().parents[1] / DOCS_SOURCES_FILE


def _assert_names_the_way_out(message: str, url: str) -> None:
    """An unreachable source: the URL, the setting to change and the doc section that explains it."""
    assert url in message and ENV_DATA in message and f'"{SOURCES_SECTION}" in {DOCS_SOURCES_FILE}' in message
    assert "\n" not in message


def test_official_archive_is_the_default_and_its_published_checksum_is_known() -> None:
    digest = expected_digest(OFFICIAL_URL)
    assert digest is not None and digest.size == 84125825
    assert digest.sha256 == "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
    assert expected_digest(OFFICIAL_URL.replace("https://", "http://")) == digest
    assert re.search(rf"^#+ {SOURCES_SECTION}$", SOURCES_DOC.read_text(encoding="utf-8"), re.MULTILINE)


def test_real_tarball_first_run_resumes_a_reset_then_works_offline(
        imdb_tarball: Path, imdb_corpus: Corpus, web_server: FileServer, fresh_root: Path) -> None:
    """The first run streams the real archive into the cache (resuming after a reset with a
    Range request), yields the reviews a local load does, and later runs ask the server nothing."""
    from http_helpers import RESET

    data = imdb_tarball.read_bytes()
    uri = pinned(web_server.put(TARBALL_NAME, data), data)
    web_server.inject(RESET, after_bytes=REAL_MID_BODY)
    corpus = load_corpus(uri, fresh_root)
    assert corpus_digest(corpus) == corpus_digest(imdb_corpus)
    first, second = web_server.requests()
    assert (first.method, first.fault, first.sent, second.method) == ("GET", "reset", REAL_MID_BODY, "GET")
    # The reset drops what was still in the client's socket buffer: it resumes from what it kept.
    resumed_from = int(second.range.removeprefix("bytes=").removesuffix("-"))
    assert 0 < resumed_from <= REAL_MID_BODY and second.status == 206
    assert second.sent == len(data) - resumed_from
    assert second.if_range is not None, "a resumed request must be guarded by If-Range"
    (download,) = (fresh_root / DOWNLOAD_DIR).iterdir()
    assert sha256_of(download.read_bytes()) == sha256_of(data)
    assert_only_complete_entries(fresh_root)

    web_server.stop()
    assert corpus_digest(load_corpus(uri, fresh_root)) == corpus_digest(imdb_corpus)
    assert len(web_server.requests()) == 2, "a pinned, cached source needs no request"


def test_unpinned_url_is_probed_each_run_and_served_from_cache_when_down(
        layout_sample, tmp_path: Path, web_server: FileServer, fresh_root: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(ENV_HTTP_TIMEOUT, str(SHORT_TIMEOUT_S))
    data = layout_sample.write_tarball(tmp_path / "sample.tar.gz").read_bytes()
    url = web_server.put(TARBALL_NAME, data)
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        online = corpus_digest(load_corpus(url, fresh_root))
    assert "no checksum is known" in caplog.text and "#sha256=" in caplog.text
    assert [e.method for e in web_server.requests()] == ["HEAD", "GET"]

    web_server.forget()
    assert corpus_digest(load_corpus(url, fresh_root)) == online
    assert [e.method for e in web_server.requests()] == ["HEAD"], "a warm run only checks the file is unchanged"

    web_server.stop()
    before = cache_files(fresh_root)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        assert corpus_digest(load_corpus(url, fresh_root)) == online
    assert f"using the index cached for {url}" in caplog.text and "Connection refused" in caplog.text

    unseen = url.replace(TARBALL_NAME, "unseen.tar.gz")
    started = time.perf_counter()
    with pytest.raises(HttpUnreachableError) as caught:
        load_corpus(unseen, fresh_root)
    assert time.perf_counter() - started < DOWN_LIMIT_S
    message = str(caught.value)
    _assert_names_the_way_out(message, unseen)
    assert "cannot reach 127.0.0.1" in message and "Connection refused" in message
    assert cache_files(fresh_root) == before


def test_pinned_source_with_the_server_down_and_nothing_cached_names_url_setting_and_docs(
        web_server: FileServer, fresh_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_HTTP_TIMEOUT, str(SHORT_TIMEOUT_S))
    url = web_server.url(TARBALL_NAME)
    web_server.stop()
    with pytest.raises(HttpUnreachableError) as caught:
        load_corpus(pinned(url, b"never served"), fresh_root)
    _assert_names_the_way_out(str(caught.value), url)
    assert download_files(fresh_root) == []


def test_changed_remote_file(layout_sample, tmp_path: Path, web_server: FileServer, fresh_root: Path) -> None:
    """Unpinned: a new size/ETag/Last-Modified is a new source, downloaded and indexed anew.
    Pinned: the verified copy keeps being used, and the server is not asked."""
    data = layout_sample.write_tarball(tmp_path / "v1.tar.gz").read_bytes()
    changed = layout_sample.with_members({"aclImdb/train/neg/0_3.txt": b"Changed on the server."})
    new_data = changed.write_tarball(tmp_path / "v2.tar.gz").read_bytes()
    url = web_server.put(TARBALL_NAME, data)
    uri = pinned(url, data)
    original = load_corpus(url, fresh_root)["train/neg/0_3"].text
    load_corpus(uri, fresh_root)

    web_server.put(TARBALL_NAME, new_data)
    web_server.forget()
    assert load_corpus(url, fresh_root)["train/neg/0_3"].text == "Changed on the server."
    assert [e.method for e in web_server.requests()] == ["HEAD", "GET"]
    web_server.forget()
    assert load_corpus(uri, fresh_root)["train/neg/0_3"].text == original
    assert web_server.requests() == []
    assert len([name for name in download_files(fresh_root) if not name.startswith(".")]) == 3
    assert_only_complete_entries(fresh_root)


def test_file_changing_between_check_and_download_fails_clearly_then_the_next_run_succeeds(
        layout_sample, tmp_path: Path, web_server: FileServer, fresh_root: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from imdb.data import web

    data = layout_sample.write_tarball(tmp_path / "v1.tar.gz").read_bytes()
    changed = layout_sample.with_members({"aclImdb/train/pos/0_9.txt": b"Uploaded while you downloaded."})
    url = web_server.put(TARBALL_NAME, data)
    probe = web.WebSession.probe

    def probe_then_replace(self: web.WebSession, target: str) -> web.RemoteFile:
        facts = probe(self, target)
        web_server.put(TARBALL_NAME, changed.write_tarball(tmp_path / "v2.tar.gz").read_bytes())
        return facts

    monkeypatch.setattr(web.WebSession, "probe", probe_then_replace)
    with pytest.raises(DataError, match=rf"downloading {url}: the file changed on the server while it was being "
                                        r"downloaded \((size|ETag) .* instead of .*\); run again"):
        load_corpus(url, fresh_root)
    assert download_files(fresh_root) == []
    monkeypatch.setattr(web.WebSession, "probe", probe)
    assert load_corpus(url, fresh_root)["train/pos/0_9"].text == "Uploaded while you downloaded."
    assert_only_complete_entries(fresh_root)


@pytest.mark.parametrize(("uri", "fragment"), [
    ("http://127.0.0.1:9/aclImdb_v1.tar.gz#md5=7c2ac02c03563afcf9b574c7e56c153a", "#md5="),
    ("http://127.0.0.1:9/aclImdb_v1.tar.gz#sha256=abc", "#sha256=abc"),
    ("http://127.0.0.1:9/aclImdb_v1.zip", "does not name a .tar.gz"),
])
def test_malformed_urls_fail_before_any_request(uri: str, fragment: str, fresh_root: Path) -> None:
    with pytest.raises(DataError) as caught:
        load_corpus(uri, fresh_root)
    assert fragment in str(caught.value) and uri in str(caught.value)


def test_url_that_is_not_an_aclimdb_tarball_is_refused_and_not_kept(
        layout_sample, tmp_path: Path, web_server: FileServer, fresh_root: Path) -> None:
    """Without a checksum, length and layout are all that vouch for a download: a file that
    fails them is removed, so the next run does not trust it either."""
    url = web_server.put("other.tar.gz", b"\x1f\x8b" + b"not really gzip" * 100)
    with pytest.raises(DataError, match=rf"{url} is corrupt or truncated .*the downloaded copy was removed"):
        load_corpus(url, fresh_root)
    assert download_files(fresh_root) == []


def test_download_killed_midway_leaves_only_a_resumable_partial_and_the_rerun_resumes(
        layout_sample, tmp_path: Path, web_server: FileServer, fresh_root: Path) -> None:
    """SIGKILL during the body: no file that looks like an entry, the partial kept under a
    ``.resume`` name; the next run asks for the rest with a Range request and matches a clean load."""
    data = layout_sample.write_tarball(tmp_path / "sample.tar.gz").read_bytes()
    uri = pinned(web_server.put(TARBALL_NAME, data), data)
    clean = corpus_digest(load_corpus(uri, tmp_path / "clean-root"))
    web_server.forget()
    web_server.inject(THROTTLE, rate_bps=THROTTLE_BPS)
    report = tmp_path / "killed.json"
    worker = subprocess.Popen([sys.executable, str(FAULTS_HELPERS), "load", uri, str(fresh_root), str(report)],
                              env=_worker_env())
    try:
        deadline = time.monotonic() + KILL_WAIT_S
        while time.monotonic() < deadline and not any(e.sent >= KILL_AFTER_BYTES for e in web_server.requests()):
            time.sleep(POLL_S)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=WORKER_TIMEOUT_S)
    assert not report.exists()
    (partial,) = download_files(fresh_root)
    assert partial.startswith(".") and partial.endswith(RESUME_SUFFIX)
    kept = (fresh_root / DOWNLOAD_DIR / partial).stat().st_size
    assert kept >= KILL_AFTER_BYTES // 2

    web_server.forget()
    assert corpus_digest(load_corpus(uri, fresh_root)) == clean
    (resumed,) = web_server.requests()
    assert resumed.range == f"bytes={kept}-" and resumed.status == 206 and resumed.sent == len(data) - kept
    assert_only_complete_entries(fresh_root)


def test_sweep_keeps_a_recent_partial_and_removes_an_abandoned_one(fresh_root: Path) -> None:
    root = prepare_data_root(fresh_root)
    recent = resume_path(root / DOWNLOAD_DIR / "recent.tar.gz")
    old = resume_path(root / DOWNLOAD_DIR / "old.tar.gz")
    for path in (recent, old):
        path.write_bytes(b"partial bytes")
    stale = time.time() - RESUME_KEEP_S - 60
    os.utime(old, (stale, stale))
    prepare_data_root(fresh_root)
    assert download_files(root) == [recent.name]


def test_published_checksum_table_is_what_verifies_a_known_url(
        layout_sample, tmp_path: Path, web_server: FileServer, fresh_root: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The table the official URL is verified by: a matching entry loads without a probe, a
    size that disagrees with the published one fails before the body is downloaded."""
    from imdb.data.checksums import Digest

    data = layout_sample.write_tarball(tmp_path / "sample.tar.gz").read_bytes()
    url = web_server.put(TARBALL_NAME, data)
    key = url.split("://", 1)[1].split(":", 1)[0] + "/" + TARBALL_NAME
    monkeypatch.setitem(PUBLISHED, key, Digest(sha256_of(data), len(data), "the checksum published for it"))
    load_corpus(url, fresh_root)
    assert [e.method for e in web_server.requests()] == ["GET"]

    monkeypatch.setitem(PUBLISHED, key, Digest(sha256_of(b"other"), len(data) + 1, "the checksum published for it"))
    with pytest.raises(DataError, match=rf"the server offers {len(data)} bytes, but the checksum published for it "
                                        rf"is for {len(data) + 1} bytes"):
        load_corpus(url, tmp_path / "other-root")
    assert download_files(tmp_path / "other-root") == []


def _worker_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def test_two_processes_downloading_one_url_share_one_download(
        layout_sample, tmp_path: Path, web_server: FileServer, fresh_root: Path) -> None:
    """Started at the same instant on one data root: one downloads (holding the partial's lock),
    the other waits for it and uses the verified copy; the server sends the file once."""
    data = layout_sample.write_tarball(tmp_path / "sample.tar.gz").read_bytes()
    uri = pinned(web_server.put(TARBALL_NAME, data), data)
    web_server.inject(THROTTLE, rate_bps=SHARED_THROTTLE_BPS, times=WORKERS)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    reports = [tmp_path / f"worker-{number}.json" for number in range(WORKERS)]
    workers = [subprocess.Popen([sys.executable, str(FAULTS_HELPERS), "load", uri, str(fresh_root), str(report),
                                 str(barrier)], env=_worker_env(), stderr=subprocess.PIPE) for report in reports]
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while len(list(barrier.glob("ready-*"))) < WORKERS and time.monotonic() < deadline:
        time.sleep(POLL_S)
    (barrier / GO_FILE).touch()
    for worker in workers:
        _, stderr = worker.communicate(timeout=WORKER_TIMEOUT_S)
        assert worker.returncode == 0, stderr.decode(errors="replace")[-2000:]
    results = [json.loads(report.read_text()) for report in reports]
    assert all("digest" in result for result in results), results
    assert results[0]["digest"] == results[1]["digest"]
    assert results[0]["started"] < results[1]["ended"] and results[1]["started"] < results[0]["ended"]
    assert [e.method for e in web_server.requests()] == ["GET"], "the file is downloaded once"
    assert_only_complete_entries(fresh_root)
