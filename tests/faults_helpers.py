"""Fault-injection helpers: a scriptable HTTP proxy in front of fake-gcs-server, corpus digests,
cache inspection, and a worker entry point that loads a corpus in a separate process.

Why a proxy and not mocks: the faults that matter (a 503 from a load balancer, a connection
reset half-way through a body, a body cut short or with flipped bytes, a stalled server) happen
on the wire, below google-cloud-storage's retry and resume logic. Only a real HTTP hop between
the real client and the real server exercises that logic as it runs in production.

Every server here binds to 127.0.0.1, handles a bounded number of requests, sends each body
within a bounded time, and shuts itself down after ``PROXY_LIFETIME_S`` even if a test forgets to.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

LOOPBACK = "127.0.0.1"
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
TIMEOUT_ENV = "IMDB_GCS_TIMEOUT"
# Short enough that a persistent fault fails a test in seconds, long enough for a few retries.
FAULT_TIMEOUT_S = 2.0

# The proxy stops serving after this many requests or seconds, whichever comes first.
PROXY_MAX_REQUESTS = 5000
PROXY_LIFETIME_S = 120.0
# How long the proxy waits on fake-gcs-server, and the longest a scripted stall may last.
UPSTREAM_TIMEOUT_S = 15.0
MAX_STALL_S = 30.0
POLL_S = 0.1
STALL_POLL_S = 0.05
STOP_JOIN_S = 5.0
SEND_CHUNK_BYTES = 16 * 1024
THROTTLE_CHUNK_BYTES = 4 * 1024
# Headers that describe one hop of a connection and must not be forwarded (RFC 9110, 7.6.1).
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "transfer-encoding", "upgrade", "content-length", "host"})
MEDIA_QUERY = "alt=media"
INDEX_SUFFIX = ".json.gz"
READ_CHUNK_BYTES = 1 << 20
ALWAYS = 1_000_000
LINGER_RESET = struct.pack("ii", 1, 0)
CORRUPT_BYTES = 16

# The staged sample: the conftest's small real layout, as a tarball object and a tree of objects.
FAULTS_BUCKET = "imdb-faults"
TARBALL_PREFIX = "tarball"
TARBALL_NAME = "aclImdb-sample.tar.gz"
TREE_PREFIX = "tree"
# The tree holds fewer reviews than the tarball: one object per review makes every load a
# few hundred requests; 30 per label exercise the concurrent path just as well and still hold
# enough movies (groups) for the 10-fold validation split.
TREE_REVIEWS_PER_LABEL = 30
REVIEW_NAME_RE = re.compile(r"/(?:pos|neg)/(?P<review>\d+)_\d+\.txt$")

# Workers started together wait at most this long for each other.
BARRIER_WAIT_S = 60.0
BARRIER_POLL_S = 0.01
GO_FILE = "go"
# tmpfs sizes for the disk-full scenario: too small for the sample tarball (164 KB), room for
# it but not for its index as well (178 KB more), and plenty.
TINY_TMPFS = "64k"
DOWNLOAD_ONLY_TMPFS = "256k"
ROOMY_TMPFS = "16m"

# Fault kinds.
STATUS = "status"        # answer with an HTTP error status instead of forwarding
RESET = "reset"          # send the headers and ``after_bytes`` of the body, then a TCP reset
CUT = "cut"              # like RESET, but a clean close (FIN): the body ends early
SHORT = "short"          # send only ``after_bytes`` of the body with a matching Content-Length
CORRUPT = "corrupt"      # flip ``CORRUPT_BYTES`` bytes of the body at ``after_bytes``
STALL = "stall"          # wait ``delay_s`` before answering
THROTTLE = "throttle"    # send the body at ``rate_bps`` bytes per second


@dataclass
class Fault:
    """One scripted misbehaviour, applied to the next ``times`` matching requests."""

    kind: str
    times: int = 1
    media_only: bool = True
    status: int = 503
    after_bytes: int = 0
    delay_s: float = 0.0
    rate_bps: int = 0

    def matches(self, path: str) -> bool:
        return self.times > 0 and (not self.media_only or MEDIA_QUERY in path)


@dataclass
class Exchange:
    """What the proxy saw and did for one request."""

    method: str
    path: str
    range: str | None
    fault: str | None
    status: int
    sent: int


@dataclass
class FaultProxy:
    """A threaded HTTP proxy to ``upstream`` whose misbehaviour each test scripts with ``inject``."""

    upstream: str
    faults: list[Fault] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    deadline: float = 0.0
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, kind: str, **options: Any) -> Fault:
        fault = Fault(kind, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.exchanges.clear()

    def media(self) -> list[Exchange]:
        """The object-content downloads seen so far (listings and metadata left out)."""
        with self.lock:
            return [exchange for exchange in self.exchanges if MEDIA_QUERY in exchange.path]

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(path):
                    fault.times -= 1
                    return fault
        return None

    def record(self, exchange: Exchange) -> None:
        with self.lock:
            self.exchanges.append(exchange)
            if len(self.exchanges) >= PROXY_MAX_REQUESTS:
                self.deadline = 0.0

    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    def start(self) -> FaultProxy:
        self.deadline = time.monotonic() + PROXY_LIFETIME_S
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)
        self.thread.start()
        return self

    def _serve(self) -> None:
        """Serve until stopped, the lifetime ends or the request budget is spent."""
        assert self.server is not None
        # handle_request() returns after this long without a connection, so the loop notices
        # the deadline promptly.
        self.server.timeout = POLL_S
        while not self.expired():
            self.server.handle_request()
        self.server.server_close()

    def stop(self) -> None:
        self.deadline = 0.0
        if self.thread is not None:
            self.thread.join(timeout=STOP_JOIN_S)


class _ProxyHandler(BaseHTTPRequestHandler):
    """Forwards one request to fake-gcs-server and answers it, applying the scripted fault.

    One request per connection (``Connection: close``), and request bodies are read by their
    Content-Length: enough for the client's listings, metadata calls and downloads.
    """

    owner: FaultProxy
    exchange: Exchange
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._relay()

    def do_POST(self) -> None:
        self._relay()

    def do_PUT(self) -> None:
        self._relay()

    def do_PATCH(self) -> None:
        self._relay()

    def do_DELETE(self) -> None:
        self._relay()

    def log_message(self, *_args: object) -> None:
        return None

    def _relay(self) -> None:
        self.close_connection = True
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = self.owner.take_fault(self.path)
        # Recorded before answering: the client may act on the answer before this thread ends.
        self.exchange = Exchange(self.command, self.path, self.headers.get("Range"),
                                 fault.kind if fault else None, 0, 0)
        self.owner.record(self.exchange)
        if fault is not None and fault.kind == STALL:
            self._stall(fault.delay_s)
            fault = None
        if fault is not None and fault.kind == STATUS:
            self._answer_error(fault)
            return
        try:
            status, headers, payload = self._forward(body)
        except OSError as exc:
            self._answer_error(Fault(STATUS, status=502), f"upstream failed: {exc}")
            return
        self._answer(status, headers, payload, fault)

    def _stall(self, seconds: float) -> None:
        end = time.monotonic() + min(seconds, MAX_STALL_S)
        while time.monotonic() < end and not self.owner.expired():
            time.sleep(STALL_POLL_S)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        target = urlsplit(self.owner.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=UPSTREAM_TIMEOUT_S)
        try:
            headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = [(key, value) for key, value in response.getheaders() if key.lower() not in HOP_BY_HOP]
            return response.status, kept, payload
        finally:
            connection.close()

    def _answer_error(self, fault: Fault, message: str = "injected fault") -> None:
        payload = json.dumps({"error": {"code": fault.status, "message": message}}).encode()
        self.send_response(fault.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.exchange.status = fault.status
        self.wfile.write(payload)
        self.exchange.sent = len(payload)

    def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes, fault: Fault | None) -> None:
        declared = len(payload)
        if fault is not None and fault.kind == SHORT:
            payload = payload[:fault.after_bytes]
            declared = len(payload)
        elif fault is not None and fault.kind == CORRUPT and len(payload) > fault.after_bytes:
            damaged = bytearray(payload)
            end = min(len(damaged), fault.after_bytes + CORRUPT_BYTES)
            damaged[fault.after_bytes:end] = bytes(value ^ 0xFF for value in damaged[fault.after_bytes:end])
            payload = bytes(damaged)
        self.exchange.status = status
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(declared))
        self.send_header("Connection", "close")
        self.end_headers()
        limit = fault.after_bytes if fault is not None and fault.kind in (RESET, CUT) else len(payload)
        rate = fault.rate_bps if fault is not None and fault.kind == THROTTLE else 0
        self._send(payload[:limit], rate)
        if fault is not None and fault.kind == RESET:
            self._reset()

    def _send(self, payload: bytes, rate_bps: int) -> None:
        """Send the body, paced when ``rate_bps`` is set; stops when the client goes away or the
        proxy's lifetime ends."""
        chunk = THROTTLE_CHUNK_BYTES if rate_bps else SEND_CHUNK_BYTES
        try:
            while self.exchange.sent < len(payload) and not self.owner.expired():
                piece = payload[self.exchange.sent:self.exchange.sent + chunk]
                self.wfile.write(piece)
                self.exchange.sent += len(piece)
                if rate_bps:
                    time.sleep(len(piece) / rate_bps)
        except OSError:
            pass

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a crashing middlebox would."""
        # The socket closes for real once no file object refers to it; wfile (unbuffered, no
        # reference) stays open because the server flushes it after this handler returns.
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass


def direct_client(endpoint: str) -> Any:
    """A storage client talking to ``endpoint`` itself (to stage or change objects behind the
    proxy's back), whatever ``STORAGE_EMULATOR_HOST`` says at the time."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    previous = os.environ.get(EMULATOR_ENV)
    os.environ[EMULATOR_ENV] = endpoint
    try:
        return storage.Client(project="imdb-leap-faults", credentials=AnonymousCredentials())
    finally:
        if previous is None:
            os.environ.pop(EMULATOR_ENV, None)
        else:
            os.environ[EMULATOR_ENV] = previous


def put_objects(client: Any, bucket: str, objects: dict[str, bytes]) -> None:
    """Create ``bucket`` if needed and store the objects in it."""
    handle = client.lookup_bucket(bucket) or client.create_bucket(bucket)
    for name, data in objects.items():
        handle.blob(name).upload_from_string(data)


def corpus_digest(corpus: Any) -> dict[str, Any]:
    """Everything a load must reproduce: ids per split and a hash of every review's fields."""
    reviews = hashlib.sha256()
    for sample_id in corpus:
        review = corpus[sample_id]
        reviews.update(json.dumps([review.sample_id, review.split, review.label, review.rating,
                                   review.movie_id, hashlib.sha256(review.text.encode()).hexdigest()]).encode())
    return {"n": len(corpus), "splits": {split: corpus.ids(split) for split in corpus.splits},
            "reviews": reviews.hexdigest()}


def cache_files(root: Path) -> list[str]:
    """Every file under the data root, relative, sorted."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def temp_files(root: Path) -> list[str]:
    """Files that are not finished cache entries (temp files of writers, live or dead)."""
    return [name for name in cache_files(root) if Path(name).name.startswith(".")]


def assert_only_complete_entries(root: Path) -> None:
    """No temp file anywhere, and every index and download present is complete and readable."""
    from imdb.data.cache import DOWNLOAD_DIR, INDEX_DIR
    from imdb.data.index import load_index

    assert temp_files(root) == []
    for path in (root / INDEX_DIR).glob("*.json.gz"):
        load_index(path, path.name.removesuffix(INDEX_SUFFIX))
    for path in (root / DOWNLOAD_DIR).glob("*.tar.gz"):
        with gzip.open(path) as handle:
            while handle.read(READ_CHUNK_BYTES):
                pass


@dataclass(frozen=True)
class Staged:
    """Real reviews staged in the fake-gcs-server, and what a clean load of them yields."""

    bucket: str
    tarball_uri: str
    tarball: bytes
    tree_uri: str
    tree_objects: tuple[str, ...]
    tarball_digest: dict[str, Any]
    tree_digest: dict[str, Any]


def stage_sample(upstream: str, layout_sample: Any, folder: Path) -> Staged:
    """Stage the small real-review layout as one tarball object and as a tree of objects, and
    load both once without faults (straight from fake-gcs-server) for the reference digests."""
    from imdb.data import load_corpus

    tarball = layout_sample.write_tarball(folder / TARBALL_NAME).read_bytes()
    tree = layout_sample.with_members({name: None for name in layout_sample.members
                                       if (match := REVIEW_NAME_RE.search(name))
                                       and int(match["review"]) >= TREE_REVIEWS_PER_LABEL})
    client = direct_client(upstream)
    put_objects(client, FAULTS_BUCKET, {f"{TARBALL_PREFIX}/{TARBALL_NAME}": tarball})
    put_objects(client, FAULTS_BUCKET, {f"{TREE_PREFIX}/{name}": data for name, data in tree.members.items()})
    root = folder / "clean-cache"
    tarball_uri, tree_uri = f"gs://{FAULTS_BUCKET}/{TARBALL_PREFIX}", f"gs://{FAULTS_BUCKET}/{TREE_PREFIX}"
    return Staged(FAULTS_BUCKET, tarball_uri, tarball, tree_uri,
                  tuple(f"{TREE_PREFIX}/{name}" for name in tree.members),
                  corpus_digest(load_corpus(tarball_uri, root)), corpus_digest(load_corpus(tree_uri, root)))


@contextlib.contextmanager
def proxied(upstream: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A fresh proxy in front of ``upstream``; the data layer talks to it, with a short
    ``IMDB_GCS_TIMEOUT`` so that persistent faults end quickly."""
    proxy = FaultProxy(upstream).start()
    monkeypatch.setenv(EMULATOR_ENV, proxy.url)
    monkeypatch.setenv(TIMEOUT_ENV, str(FAULT_TIMEOUT_S))
    try:
        yield proxy
    finally:
        proxy.stop()


def _attempt(uri: str, root: Path) -> dict[str, Any]:
    """Load ``uri`` into ``root``; report the digest or the DataError, the time and the files left."""
    from imdb.data import DataError, load_corpus

    started = time.perf_counter()
    try:
        result: dict[str, Any] = {"digest": corpus_digest(load_corpus(uri, root))}
    except DataError as exc:
        result = {"error": str(exc), "error_type": type(exc).__name__}
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["files"] = cache_files(root) if root.is_dir() else []
    return result


def _load_worker(uri: str, root: str, report: str, barrier: str = "") -> None:
    """``load URI ROOT REPORT [BARRIER]``: one load in its own process, with its wall-clock
    interval. With BARRIER (a folder), it imports everything, says it is ready there and waits
    for a ``go`` file, so that several workers start their loads at the same instant."""
    import imdb.data  # noqa: F401  (imported before the barrier, so the loads start together)

    if barrier:
        Path(barrier, f"ready-{os.getpid()}").touch()
        deadline = time.monotonic() + BARRIER_WAIT_S
        while not Path(barrier, GO_FILE).exists() and time.monotonic() < deadline:
            time.sleep(BARRIER_POLL_S)
    started = time.time()
    result = _attempt(uri, Path(root))
    result.update(started=started, ended=time.time(), pid=os.getpid())
    Path(report).write_text(json.dumps(result))


def _mount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True)


def _remount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)


def _tmpfs_worker(bucket_uri: str, tarball: str, base: str, report: str) -> None:
    """``tmpfs BUCKET_URI TARBALL BASE REPORT``: real ENOSPC and EROFS from small tmpfs mounts.

    Runs under ``unshare --mount --propagation private``: the mounts exist only in this
    process's mount namespace and vanish with it, whatever happens to the test run.
    """
    from imdb.data import corpus as corpus_module

    results: dict[str, Any] = {}
    full = Path(base, "full")
    full.mkdir()
    _mount(full, f"size={TINY_TMPFS}")
    results["full_during_download"] = _attempt(bucket_uri, full / "root")
    _remount(full, f"size={DOWNLOAD_ONLY_TMPFS}")
    results["full_during_index"] = _attempt(bucket_uri, full / "root")
    _remount(full, f"size={ROOMY_TMPFS}")
    results["full_then_room"] = _attempt(bucket_uri, full / "root")

    read_only = Path(base, "read-only")
    read_only.mkdir()
    _mount(read_only, f"size={ROOMY_TMPFS}")
    (read_only / "root").mkdir()
    _remount(read_only, "ro")
    results["read_only_at_start"] = _attempt(tarball, read_only / "root")

    midway = Path(base, "midway")
    midway.mkdir()
    _mount(midway, f"size={ROOMY_TMPFS}")
    resolve = corpus_module.resolve_source

    def resolve_then_remount(*args: Any) -> Any:
        source = resolve(*args)
        _remount(midway, "ro")
        return source

    corpus_module.resolve_source = resolve_then_remount
    results["read_only_midway"] = _attempt(tarball, midway / "root")
    corpus_module.resolve_source = resolve
    _remount(midway, "rw")
    results["read_only_midway_then_rw"] = _attempt(tarball, midway / "root")
    _remount(midway, "ro")
    results["warm_cache_read_only"] = _attempt(tarball, midway / "root")
    Path(report).write_text(json.dumps(results))


WORKERS = {"load": _load_worker, "tmpfs": _tmpfs_worker}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    WORKERS[sys.argv[1]](*sys.argv[2:])
