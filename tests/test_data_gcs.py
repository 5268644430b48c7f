"""Buckets on a real fake-gcs-server on loopback: staging, loading, caching, credentials, errors."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from imdb.data import Corpus, DataError, describe, load_corpus
from imdb.data.upload import upload
from imdb.data import readers
from imdb.data.cache import DOWNLOAD_DIR, INDEX_DIR
from imdb.tools.cli.data import register
from imdb.data.gcs import GcsSession

LOOPBACK = "127.0.0.1"
WARM_LOAD_LIMIT_S = 2.0
UNREACHABLE_LIMIT_S = 10.0
SHORT_TIMEOUT_S = "1"
RSA_EXPONENT = 65537
RSA_BITS = 2048
WRONG_MD5 = "AAAAAAAAAAAAAAAAAAAAAA=="
SERVICE_ACCOUNT = "loader@imdb-leap-test.iam.gserviceaccount.com"


def _client() -> storage.Client:
    return storage.Client(project="imdb-leap-test", credentials=AnonymousCredentials())


def _put(bucket: str, objects: dict[str, bytes]) -> None:
    """Create a bucket (if needed) holding the given objects, bypassing the code under test."""
    client = _client()
    handle = client.lookup_bucket(bucket) or client.create_bucket(bucket)
    for name, data in objects.items():
        handle.blob(name).upload_from_string(data)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the bucket was downloaded or read again although its index is cached")


def _same_reviews(left: Corpus, right: Corpus) -> None:
    assert left.splits == right.splits
    for split in left.splits:
        assert left.ids(split) == right.ids(split)
    assert all(left[sample_id] == right[sample_id] for sample_id in right)
    assert left.unlabeled_ids() == right.unlabeled_ids()
    assert all(left[sample_id] == right[sample_id] for sample_id in right.unlabeled_ids())


def test_bucket_tarball_yields_the_same_reviews(seeded_bucket: str, data_root: Path, imdb_corpus: Corpus) -> None:
    from_bucket = load_corpus(seeded_bucket, data_root)
    assert from_bucket.source == seeded_bucket
    _same_reviews(from_bucket, imdb_corpus)
    # The URI may also name the tarball object itself.
    assert load_corpus(f"{seeded_bucket}/aclImdb-train.tar.gz", data_root).ids("validation") == \
        imdb_corpus.ids("validation")


def test_second_bucket_load_is_served_from_cache(seeded_bucket: str, data_root: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_corpus(seeded_bucket, data_root)
    indexes = {path: path.stat().st_mtime_ns for path in (data_root / INDEX_DIR).iterdir()}
    for name in ("download_file", "download_bytes"):
        monkeypatch.setattr(GcsSession, name, _refuse)
    monkeypatch.setattr(readers, "_stream_members", _refuse)
    started = time.perf_counter()
    again = load_corpus(seeded_bucket, data_root)
    assert time.perf_counter() - started < WARM_LOAD_LIMIT_S
    assert {path: path.stat().st_mtime_ns for path in (data_root / INDEX_DIR).iterdir()} == indexes
    assert again.ids("training") == first.ids("training")


def test_cli_upload_then_info(gcs_server, imdb_tarball: Path, data_root: Path, imdb_corpus: Corpus,
                              capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="imdb-leap")
    register(parser.add_subparsers(dest="command", required=True))
    destination = "gs://imdb-cli/staged"
    args = parser.parse_args(["data", "upload", "--data", str(imdb_tarball), "--bucket", destination,
                              "--data-root", str(data_root)])
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report == {"source": str(imdb_tarball), "destination": destination, "objects": 1}
    assert [blob.name for blob in _client().list_blobs("imdb-cli")] == ["staged/aclImdb-train.tar.gz"]

    args = parser.parse_args(["data", "info", "--data", destination, "--data-root", str(data_root)])
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary == {**describe(imdb_corpus), "source": destination}


def test_tarball_object_can_be_staged_into_another_bucket(seeded_bucket: str, data_root: Path) -> None:
    assert upload(seeded_bucket, "gs://imdb-copy/p", data_root) == ["p/aclImdb-train.tar.gz"]
    (copied,) = _client().list_blobs("imdb-copy")
    (original,) = _client().list_blobs("imdb-seed", prefix="train/")
    assert (copied.md5_hash, copied.size) == (original.md5_hash, original.size)


def test_bucket_tree_yields_the_same_reviews(gcs_server, official_sample, official_tarball: Path,
                                             tmp_path: Path, fresh_root: Path) -> None:
    tree = official_sample.write_tree(tmp_path / "tree")
    names = upload(tree, "gs://imdb-tree/v1", fresh_root)
    assert all(name.startswith("v1/aclImdb/") for name in names)
    assert not [name for name in names if name.endswith(".feat")]
    assert [name for name in names if "/train/unsup/" in name], "the unlabelled reviews are staged too"
    from_bucket = load_corpus("gs://imdb-tree/v1", fresh_root)
    assert from_bucket.splits == ("training", "validation", "test")
    _same_reviews(from_bucket, load_corpus(official_tarball, fresh_root))
    # The URI may also name the aclImdb folder itself.
    assert load_corpus("gs://imdb-tree/v1/aclImdb", fresh_root).ids("test") == from_bucket.ids("test")


def test_replaced_object_gets_a_new_index(gcs_server, layout_sample, tmp_path: Path, fresh_root: Path) -> None:
    uri = "gs://imdb-change/p"
    upload(layout_sample.write_tarball(tmp_path / "a" / "sample.tar.gz"), uri, fresh_root)
    before = load_corpus(uri, fresh_root)
    changed = layout_sample.with_members({"aclImdb/train/neg/0_3.txt": b"Rewritten review."})
    upload(changed.write_tarball(tmp_path / "b" / "sample.tar.gz"), uri, fresh_root)
    after = load_corpus(uri, fresh_root)
    assert before["train/neg/0_3"].text != after["train/neg/0_3"].text == "Rewritten review."


def test_damaged_download_is_fetched_again(gcs_server, layout_sample, tmp_path: Path, fresh_root: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    uri = "gs://imdb-damage/p"
    upload(layout_sample.write_tarball(tmp_path / "sample.tar.gz"), uri, fresh_root)
    expected = load_corpus(uri, fresh_root)
    (download,) = (fresh_root / DOWNLOAD_DIR).glob("*.tar.gz")
    download.write_bytes(b"damaged")
    for index_file in (fresh_root / INDEX_DIR).iterdir():
        index_file.unlink()
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        _same_reviews(load_corpus(uri, fresh_root), expected)
    assert "is damaged" in caplog.text and "downloading it again" in caplog.text
    assert download.read_bytes()[:2] == b"\x1f\x8b"


def test_download_not_matching_metadata_is_rejected(gcs_server, layout_sample, tmp_path: Path, fresh_root: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    uri = "gs://imdb-mismatch/p"
    upload(layout_sample.write_tarball(tmp_path / "sample.tar.gz"), uri, fresh_root)
    listed = GcsSession.list_objects
    local_indexes = list((fresh_root / INDEX_DIR).iterdir())

    def lying(self: GcsSession, location: Any) -> list[Any]:
        return [dataclasses.replace(info, md5_hash=WRONG_MD5) for info in listed(self, location)]

    monkeypatch.setattr(GcsSession, "list_objects", lying)
    with pytest.raises(DataError, match=r"downloaded gs://imdb-mismatch/p/sample.tar.gz does not match .*md5"):
        load_corpus(uri, fresh_root)
    assert list((fresh_root / DOWNLOAD_DIR).iterdir()) == []
    assert list((fresh_root / INDEX_DIR).iterdir()) == local_indexes


def test_missing_bucket_names_bucket_endpoint_and_credentials(gcs_server, fresh_root: Path) -> None:
    with pytest.raises(DataError) as caught:
        load_corpus("gs://imdb-no-such-bucket/x", fresh_root)
    message = str(caught.value)
    assert "bucket 'imdb-no-such-bucket' does not exist" in message
    assert gcs_server.url in message and "STORAGE_EMULATOR_HOST" in message and "anonymous" in message


def test_prefix_without_data_is_named(gcs_server, fresh_root: Path) -> None:
    _put("imdb-sparse", {"other/readme.txt": b"not reviews", "data2/aclImdb/train/pos/0_9.txt": b"sibling"})
    with pytest.raises(DataError, match=r"no aclImdb data under gs://imdb-sparse/data.*found 0 other"):
        load_corpus("gs://imdb-sparse/data", fresh_root)
    with pytest.raises(DataError, match=r"no aclImdb data under gs://imdb-sparse/other.*found 1 other"):
        load_corpus("gs://imdb-sparse/other", fresh_root)


def test_ambiguous_and_broken_tarball_objects_are_named(gcs_server, fresh_root: Path) -> None:
    _put("imdb-odd", {"two/a.tar.gz": b"x", "two/b.tar.gz": b"y", "broken/set.tar.gz": b"not a tarball"})
    with pytest.raises(DataError, match=r"gs://imdb-odd/two holds 2 tarballs"):
        load_corpus("gs://imdb-odd/two", fresh_root)
    with pytest.raises(DataError, match=r"gs://imdb-odd/broken/set.tar.gz is not a gzip"):
        load_corpus("gs://imdb-odd/broken", fresh_root)


@pytest.mark.parametrize("uri", ["gs://", "gs://Bad_Bucket/x", "gs:///prefix"])
def test_malformed_bucket_uri_is_named(uri: str, fresh_root: Path) -> None:
    with pytest.raises(DataError, match="not a valid bucket name"):
        load_corpus(uri, fresh_root)


def test_upload_needs_a_bucket_uri(layout_sample, tmp_path: Path, fresh_root: Path) -> None:
    tarball = layout_sample.write_tarball(tmp_path / "sample.tar.gz")
    with pytest.raises(DataError, match="'/tmp/bucket' is not a gs://BUCKET/PREFIX URI"):
        upload(tarball, "/tmp/bucket", fresh_root)


def test_unreachable_server_fails_fast_and_is_named(gcs_server, fresh_root: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = f"http://{LOOPBACK}:{_closed_port()}"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", endpoint)
    monkeypatch.setenv("IMDB_GCS_TIMEOUT", SHORT_TIMEOUT_S)
    started = time.perf_counter()
    with pytest.raises(DataError, match=rf"cannot reach {endpoint} \(emulator from STORAGE_EMULATOR_HOST\) "
                                        rf"within 1 s using anonymous credentials"):
        load_corpus("gs://imdb-seed/train", fresh_root)
    assert time.perf_counter() - started < UNREACHABLE_LIMIT_S


def test_unreachable_server_falls_back_to_the_cached_index(seeded_bucket: str, data_root: Path, imdb_corpus: Corpus,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    load_corpus(seeded_bucket, data_root)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://{LOOPBACK}:{_closed_port()}")
    monkeypatch.setenv("IMDB_GCS_TIMEOUT", SHORT_TIMEOUT_S)
    with caplog.at_level(logging.WARNING, logger="imdb.data"):
        offline = load_corpus(seeded_bucket, data_root)
    assert "using the index cached for gs://imdb-seed/train" in caplog.text
    assert offline.ids("validation") == imdb_corpus.ids("validation")


class _TokenHandler(BaseHTTPRequestHandler):
    """Answers Google's OAuth token exchange so service-account credentials work offline."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"access_token": "loopback-token", "expires_in": 3600, "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.exchanges += 1  # type: ignore[attr-defined]

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def token_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer((LOOPBACK, 0), _TokenHandler)
    server.exchanges = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def service_account_key(token_server: ThreadingHTTPServer) -> dict[str, str]:
    """A freshly generated service-account key whose token endpoint is the loopback server."""
    private_key = rsa.generate_private_key(public_exponent=RSA_EXPONENT, key_size=RSA_BITS)
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    host, port = token_server.server_address[:2]
    return {"type": "service_account", "project_id": "imdb-leap-test", "private_key_id": "test-key",
            "private_key": pem, "client_email": SERVICE_ACCOUNT, "client_id": "1",
            "token_uri": f"http://{host}:{port}/token"}


def test_service_account_from_auth_secret(seeded_bucket: str, data_root: Path, imdb_corpus: Corpus,
                                          service_account_key: dict[str, str], token_server: ThreadingHTTPServer,
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_SECRET", json.dumps(service_account_key))
    assert load_corpus(seeded_bucket, data_root).ids("validation") == imdb_corpus.ids("validation")
    assert token_server.exchanges >= 1  # type: ignore[attr-defined]
    with pytest.raises(DataError, match=f"service-account credentials {SERVICE_ACCOUNT}"):
        load_corpus("gs://imdb-no-such-bucket/x", data_root)

    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(service_account_key))
    monkeypatch.setenv("AUTH_SECRET", str(key_file))
    assert load_corpus(seeded_bucket, data_root).ids("training") == imdb_corpus.ids("training")


@pytest.mark.parametrize("secret, message", [
    ('{"private_key": "SECRET-MATERIAL"', "AUTH_SECRET \\(JSON text\\) is not valid JSON"),
    ("/nonexistent/key.json", "AUTH_SECRET names file /nonexistent/key.json, which cannot be read"),
    ('{"type": "service_account", "private_key": "SECRET-MATERIAL"}', "not a usable service-account key"),
    ('["SECRET-MATERIAL"]', "is not a service-account key"),
])
def test_bad_auth_secret_is_named_without_leaking_it(secret: str, message: str, gcs_server, fresh_root: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_SECRET", secret)
    with pytest.raises(DataError, match=message) as caught:
        load_corpus("gs://imdb-seed/train", fresh_root)
    assert "SECRET-MATERIAL" not in str(caught.value)

