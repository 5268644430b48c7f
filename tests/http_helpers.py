"""A real HTTP file server on loopback for the https:// data source: Range, validators, faults.

Why a server and not mocks: resuming after a cut, ``If-Range`` on a changed file and a body
that stops short happen on the wire, inside urllib3; only a real socket between the real
client and a real server exercises them as they run against the official archive's host.

The server binds to 127.0.0.1 only, answers at most ``MAX_REQUESTS`` requests, sends each
body within ``MAX_STALL_S`` plus its transfer time, and shuts itself down after
``LIFETIME_S`` even if a test forgets to stop it.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
MAX_REQUESTS = 2000
LIFETIME_S = 300.0
MAX_STALL_S = 30.0
STALL_POLL_S = 0.05
STOP_JOIN_S = 5.0
SEND_CHUNK_BYTES = 64 * 1024
THROTTLE_CHUNK_BYTES = 8 * 1024
LINGER_RESET = struct.pack("ii", 1, 0)
ALWAYS = 1_000_000
BYTES_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
# Every version of a file gets a new Last-Modified, one second after the previous one.
FIRST_MODIFIED = 1306886400  # 2011-06-01, the date inside the original tarball

# Fault kinds (each applies to the next ``times`` matching requests).
STATUS = "status"        # answer with an HTTP error status
RESET = "reset"          # send the headers and ``after_bytes`` of the body, then a TCP reset
CUT = "cut"              # like RESET, but a clean close (FIN): the body ends short of its Content-Length
STALL = "stall"          # wait ``delay_s`` before answering
THROTTLE = "throttle"    # send the body at ``rate_bps`` bytes per second
NO_RANGE = "no-range"    # ignore the Range header: answer the whole file with 200


@dataclass
class Fault:
    kind: str
    times: int = 1
    methods: tuple[str, ...] = ("GET",)
    status: int = 503
    after_bytes: int = 0
    delay_s: float = 0.0
    rate_bps: int = 0

    def matches(self, method: str) -> bool:
        return self.times > 0 and method in self.methods


@dataclass
class Exchange:
    """What the server saw and did for one request."""

    method: str
    path: str
    range: str | None
    if_range: str | None
    fault: str | None
    status: int = 0
    sent: int = 0


@dataclass
class Version:
    data: bytes
    etag: str
    last_modified: str


@dataclass
class FileServer:
    """Serves ``files`` (path -> bytes) from memory; tests script faults with ``inject``."""

    files: dict[str, Version] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    deadline: float = 0.0
    versions: int = 0
    port: int = 0
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    def start(self) -> FileServer:
        handler = type("Handler", (_Handler,), {"owner": self})
        self.server = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.deadline = time.monotonic() + LIFETIME_S
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": STALL_POLL_S},
                                       daemon=True)
        self.thread.start()
        timer = threading.Timer(LIFETIME_S, self.stop)
        timer.daemon = True
        timer.start()
        return self

    @property
    def base(self) -> str:
        """Still the address once stopped: tests ask for it to check what a dead server's URL does."""
        return f"http://{LOOPBACK}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def put(self, path: str, data: bytes) -> str:
        """Serve ``data`` at ``path`` as a new version (new ETag and Last-Modified); returns its URL."""
        with self.lock:
            self.versions += 1
            etag = f'"{hashlib.sha256(data).hexdigest()[:16]}-{self.versions}"'
            modified = email.utils.formatdate(FIRST_MODIFIED + self.versions, usegmt=True)
            self.files["/" + path.lstrip("/")] = Version(data, etag, modified)
        return self.url(path)

    def inject(self, kind: str, **options: Any) -> Fault:
        fault = Fault(kind, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, method: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method):
                    fault.times -= 1
                    return fault
        return None

    def record(self, exchange: Exchange) -> bool:
        """Keep the exchange; False once the request budget or the lifetime is spent."""
        with self.lock:
            self.exchanges.append(exchange)
            return len(self.exchanges) <= MAX_REQUESTS and not self.expired()

    def requests(self, method: str | None = None) -> list[Exchange]:
        with self.lock:
            return [e for e in self.exchanges if method is None or e.method == method]

    def forget(self) -> None:
        with self.lock:
            self.exchanges.clear()

    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    def stop(self) -> None:
        self.deadline = 0.0
        if self.server is not None:
            server, self.server = self.server, None
            server.shutdown()
            server.server_close()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=STOP_JOIN_S)


class _Handler(BaseHTTPRequestHandler):
    """One request per connection; GET and HEAD with single byte ranges, If-Range, and faults."""

    owner: FileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: object) -> None:
        return None

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        self.close_connection = True
        fault = self.owner.take_fault(self.command)
        exchange = Exchange(self.command, self.path, self.headers.get("Range"), self.headers.get("If-Range"),
                            fault.kind if fault else None)
        if not self.owner.record(exchange):
            return
        if fault is not None and fault.kind == STALL:
            end = time.monotonic() + min(fault.delay_s, MAX_STALL_S)
            while time.monotonic() < end and not self.owner.expired():
                time.sleep(STALL_POLL_S)
        with self.owner.lock:
            version = self.owner.files.get(self.path)
        if fault is not None and fault.kind == STATUS:
            self._plain(exchange, fault.status, b"injected fault\n")
            return
        if version is None:
            self._plain(exchange, 404, b"not found\n")
            return
        start, end = 0, len(version.data)
        status = 200
        wanted = None if fault is not None and fault.kind == NO_RANGE else self._range(version)
        if wanted == "unsatisfiable":
            self._plain(exchange, 416, b"", {"Content-Range": f"bytes */{len(version.data)}"})
            return
        if wanted is not None:
            start, end = wanted
            status = 206
        exchange.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", version.etag)
        self.send_header("Last-Modified", version.last_modified)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(version.data)}")
        self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self._body(exchange, version.data[start:end], fault)

    def _range(self, version: Version) -> tuple[int, int] | str | None:
        """The single byte range asked for, honoured only if If-Range (when sent) still matches."""
        match = BYTES_RANGE.fullmatch((self.headers.get("Range") or "").strip())
        if match is None:
            return None
        validator = self.headers.get("If-Range")
        if validator is not None and validator not in (version.etag, version.last_modified):
            return None
        start = int(match[1])
        end = min(int(match[2]) + 1, len(version.data)) if match[2] else len(version.data)
        if start >= len(version.data):
            return "unsatisfiable"
        return start, end

    def _plain(self, exchange: Exchange, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        exchange.status = status
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _body(self, exchange: Exchange, payload: bytes, fault: Fault | None) -> None:
        limit = fault.after_bytes if fault is not None and fault.kind in (RESET, CUT) else len(payload)
        rate = fault.rate_bps if fault is not None and fault.kind == THROTTLE else 0
        chunk = THROTTLE_CHUNK_BYTES if rate else SEND_CHUNK_BYTES
        try:
            while exchange.sent < min(limit, len(payload)) and not self.owner.expired():
                piece = payload[exchange.sent:min(exchange.sent + chunk, limit)]
                self.wfile.write(piece)
                exchange.sent += len(piece)
                if rate:
                    time.sleep(len(piece) / rate)
        except OSError:
            return
        if fault is not None and fault.kind == RESET:
            self._reset()

    def _reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0), as a crashing middlebox would."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pinned(url: str, data: bytes) -> str:
    """``url`` with the ``#sha256=`` of ``data``, as a user pins a mirror."""
    return f"{url}#sha256={sha256_of(data)}"


def download_files(root: Path) -> list[str]:
    """Names in the data root's downloads folder, sorted (entries and partial copies alike)."""
    folder = root / "downloads"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
