"""HTTP(S) downloads of one archive: bounded retries, resumed with ``Range``, verified, atomic.

Why not a bare ``requests.get``: the default data source is an 84 MB file on a university web
server, fetched by people on hotel Wi-Fi. A cut connection must resume where it stopped (a
``Range`` request, guarded by ``If-Range`` so a changed file is never spliced onto an old
head), a dead server must fail in ``$IMDB_HTTP_TIMEOUT`` seconds instead of hanging, every
failure must name the URL and the cause, and only a complete, verified copy may become a cache
entry. The transport is requests/urllib3 (already installed with google-cloud-storage); the
body is read raw, byte for byte, so what is hashed is what the server stored.
"""

from __future__ import annotations

import http.client
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import requests
import urllib3
from tqdm import tqdm

from imdb.data.cache import ResumableFile, resumable_file
from imdb.contract.files import file_sha256
from imdb.data.checksums import Digest
from imdb.data.errors import DataError
from imdb.data.settings import ENV_HTTP_TIMEOUT, http_timeout_s, other_source_hint

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
# Both socket timeouts are also capped at $IMDB_HTTP_TIMEOUT (see gcs.py for why).
READ_TIMEOUT_S = 60.0
CHUNK_BYTES = 1 << 16
# Consecutive requests that bring no new byte before the download gives up (besides the
# time budget), and a cap on all requests of one download, however much each one brings.
ATTEMPTS_WITHOUT_PROGRESS = 5
MAX_REQUESTS = 100
BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 4.0
# A download that completes but fails its checksum is fetched again from byte 0 once (the
# bytes kept from an earlier run may belong to an older version of the file); then it fails.
VERIFY_ATTEMPTS = 2
# Statuses that say "try again" (RFC 9110): timeouts, rate limits, overloaded or restarting servers.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# Servers that refuse HEAD are probed with a GET whose body is never read.
NO_HEAD_STATUSES = frozenset({405, 501})
PARTIAL_CONTENT = 206
RANGE_NOT_SATISFIABLE = 416
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
ERRNO_TEXT = re.compile(r"(?:\[Errno \d+\] |Error\(\d+, ')([^'\]\)]+)")
MAX_CAUSE_CHARS = 300
USER_AGENT = "imdb-leap (aclImdb downloader)"
WEAK_ETAG_PREFIX = "W/"
PROGRESS_AUTO = None
_NETWORK_FAILURES = (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, ConnectionError,
                     TimeoutError)


class HttpUnreachableError(DataError):
    """The server did not answer usefully in time; callers may fall back to what they cached.

    ``reason`` is the message without the advice on other sources, for the fallback's warning.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class TransferMismatchError(DataError):
    """A download arrived whole but does not match its checksum or announced size."""


@dataclass(frozen=True)
class RemoteFile:
    """What the server says about the file: the facts a changed remote shows up in."""

    size: int | None
    etag: str | None
    last_modified: str | None

    @classmethod
    def of(cls, response: requests.Response) -> RemoteFile:
        headers = response.headers
        length = headers.get("Content-Length")
        size = int(length) if length and length.isdigit() and response.status_code != PARTIAL_CONTENT else None
        if response.status_code == PARTIAL_CONTENT and (match := CONTENT_RANGE.fullmatch(
                headers.get("Content-Range", "").strip())) and match[3] != "*":
            size = int(match[3])
        return cls(size, headers.get("ETag"), headers.get("Last-Modified"))

    @property
    def validator(self) -> str | None:
        """What ``If-Range`` may carry: a strong ETag, else the Last-Modified date."""
        if self.etag and not self.etag.startswith(WEAK_ETAG_PREFIX):
            return self.etag
        return self.last_modified

    def differs_from(self, other: RemoteFile) -> str | None:
        """How ``other`` (a later answer) shows that the file changed, or None."""
        for name, mine, theirs in (("size", self.size, other.size), ("ETag", self.etag, other.etag),
                                   ("Last-Modified", self.last_modified, other.last_modified)):
            if mine is not None and theirs is not None and mine != theirs:
                return f"{name} {theirs} instead of {mine}"
        return None


@dataclass(frozen=True)
class Expected:
    """What the download must turn out to be: the probed facts and/or a checksum."""

    remote: RemoteFile | None
    digest: Digest | None

    @property
    def size(self) -> int | None:
        if self.digest is not None and self.digest.size is not None:
            return self.digest.size
        return self.remote.size if self.remote is not None else None


class _Retry(Exception):
    """One request failed in a way worth another try; ``answered`` when the server sent a status."""

    def __init__(self, cause: str, answered: bool) -> None:
        super().__init__(cause)
        self.cause = cause
        self.answered = answered


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it wraps (urllib3 and requests nest them in args and .reason)."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
        pending.extend(item for item in nested if isinstance(item, BaseException))


def brief(exc: BaseException) -> str:
    """The root cause in a few words: "Connection refused", "Read timed out", "IncompleteRead …"."""
    for current in _chain(exc):
        if isinstance(current, OSError) and current.strerror and not isinstance(current, urllib3.exceptions.HTTPError):
            return current.strerror
        if isinstance(current, http.client.IncompleteRead):
            return f"connection closed early: {current!r}"
    text = str(exc)
    if match := ERRNO_TEXT.search(text):
        return match[1]
    if "timed out" in text.lower():
        return "Connect timed out" if "connect timeout" in text.lower() else "Read timed out"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:MAX_CAUSE_CHARS]


def _status(response: requests.Response) -> str:
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


class WebSession:
    """One HTTP session plus the time budget every request is held to."""

    def __init__(self) -> None:
        self.timeout_s = http_timeout_s()
        self.session = requests.Session()
        # identity: a server that gzips the .tar.gz again on the fly would change the bytes hashed.
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        self._timeout = (min(CONNECT_TIMEOUT_S, self.timeout_s), min(READ_TIMEOUT_S, self.timeout_s))

    def probe(self, url: str) -> RemoteFile:
        """Size, ETag and Last-Modified of ``url`` (HEAD, or a GET whose body is not read)."""
        def head() -> RemoteFile:
            response = self.session.head(url, allow_redirects=True, timeout=self._timeout)
            if response.status_code in NO_HEAD_STATUSES:
                with self.session.get(url, stream=True, timeout=self._timeout) as response:
                    return self._facts(url, response)
            return self._facts(url, response)

        return self._retrying(f"checking {url}", url, head)

    def _facts(self, url: str, response: requests.Response) -> RemoteFile:
        self._raise_for_status(url, response, "checking")
        return RemoteFile.of(response)

    def _raise_for_status(self, url: str, response: requests.Response, doing: str) -> None:
        if response.status_code in RETRY_STATUSES:
            raise _Retry(f"{_status(response)} from {response.url}", answered=True)
        if response.status_code >= 400:
            raise DataError(f"{doing} {url}: the server answered {_status(response)}; check the URL, or "
                            f"{other_source_hint()}")

    def _retrying(self, doing: str, url: str, call: Callable[[], RemoteFile]) -> RemoteFile:
        """Run ``call`` until it succeeds, at most ATTEMPTS_WITHOUT_PROGRESS times and timeout_s seconds."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except _NETWORK_FAILURES as exc:
                failure = _Retry(brief(exc), answered=False)
            except _Retry as exc:
                failure = exc
            # _pause says no by the attempt number at the latest, so the loop is bounded.
            if not self._pause(attempt, started, failure, doing):
                raise self._gave_up(doing, url, failure, started)

    def _pause(self, attempt: int, since: float, failure: _Retry, doing: str) -> bool:
        """Wait before the next try; False when the attempts or the time budget are spent."""
        remaining = self.timeout_s - (time.monotonic() - since)
        if attempt >= ATTEMPTS_WITHOUT_PROGRESS or remaining <= 0:
            return False
        delay = min(BACKOFF_FIRST_S * 2 ** (attempt - 1), BACKOFF_MAX_S, remaining)
        logger.info("%s: %s; trying again in %.2f s (attempt %d of %d)", doing, failure.cause, delay,
                    attempt + 1, ATTEMPTS_WITHOUT_PROGRESS)
        time.sleep(delay)
        return True

    def _gave_up(self, doing: str, url: str, failure: _Retry, since: float) -> HttpUnreachableError:
        spent = time.monotonic() - since
        host = urlsplit(url).netloc
        problem = (f"{host} kept failing" if failure.answered else f"cannot reach {host}") + \
            f" ({failure.cause}; gave up after {spent:.1f} s, {ENV_HTTP_TIMEOUT} sets the budget)"
        reason = f"{doing}: {problem}"
        return HttpUnreachableError(f"{reason}; {other_source_hint()}", reason)

    def download(self, url: str, target: Path, expected: Expected, is_complete: Callable[[Path], bool]) -> None:
        """Fetch ``url`` into ``target``: resumed across cuts and runs, verified, renamed into place.

        ``is_complete`` tells whether ``target`` already holds a verified copy: another process
        may have finished this very download while this one waited for its lock.
        """
        with resumable_file(target) as partial:
            if target.exists() and is_complete(target):
                partial.discard()
                return
            for attempt in range(1, VERIFY_ATTEMPTS + 1):
                resumed = partial.size
                try:
                    self._fetch(url, partial, expected)
                except HttpUnreachableError:
                    if not partial.size:
                        partial.discard()
                    raise
                except DataError:
                    # Not a cut: the bytes kept could not be resumed (a changed file, a full disk, a 404).
                    partial.discard()
                    raise
                problem = mismatch(partial.path, expected)
                if problem is None:
                    partial.commit()
                    return
                partial.restart()
                problem = f"downloaded {url} does not match {problem}"
                if attempt == VERIFY_ATTEMPTS:
                    partial.discard()
                    raise TransferMismatchError(
                        f"{problem}, after {VERIFY_ATTEMPTS} attempts; the file at that URL is not the one "
                        f"expected: fix the #sha256= of the URL, or {other_source_hint()}")
                kept = f" (the first {resumed} bytes were kept from an earlier run)" if resumed else ""
                logger.warning("%s%s; downloading it again from the start", problem, kept)

    def _fetch(self, url: str, partial: ResumableFile, expected: Expected) -> None:
        """Fill ``partial`` to the expected size (or to the end of the body), resuming after cuts."""
        name = url.rsplit("/", 1)[-1]
        last_progress = time.monotonic()
        failures = 0
        with tqdm(total=expected.size, initial=partial.size, unit="B", unit_scale=True,
                  desc=f"downloading {name}", disable=PROGRESS_AUTO) as bar:
            transfer = _Transfer(url, partial, expected.digest, expected.remote, expected.size, bar)
            for _ in range(MAX_REQUESTS):
                before = partial.size
                try:
                    self._request(transfer)
                    if transfer.size is None or partial.size >= transfer.size:
                        return
                    failure = _Retry(f"the body ended after {partial.size} of {transfer.size} bytes", answered=False)
                except _NETWORK_FAILURES as exc:
                    failure = _Retry(brief(exc), answered=False)
                except _Retry as exc:
                    failure = exc
                if partial.size > before:
                    failures, last_progress = 0, time.monotonic()
                failures += 1
                if not self._pause(failures, last_progress, failure, f"downloading {url}"):
                    raise self._cut_short(transfer, failure, last_progress)
        reason = (f"downloading {url}: still incomplete after {MAX_REQUESTS} requests "
                  f"({partial.size} of {transfer.size} bytes)")
        raise HttpUnreachableError(f"{reason}; {other_source_hint()}", reason)

    def _cut_short(self, transfer: _Transfer, failure: _Retry, since: float) -> HttpUnreachableError:
        error = self._gave_up(f"downloading {transfer.url}", transfer.url, failure, since)
        kept = transfer.partial.size
        if not kept:
            return error
        of = f" of {transfer.size}" if transfer.size else ""
        note = f"{kept}{of} bytes are kept in {transfer.partial.path}; the next run resumes from there"
        return HttpUnreachableError(f"{error.reason} ({note}); {other_source_hint()}", error.reason)

    def _request(self, transfer: _Transfer) -> None:
        """One GET from where the partial copy ends, appended to it as it arrives."""
        partial, bar = transfer.partial, transfer.bar
        offset = partial.size
        headers = {}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = transfer.remote.validator if transfer.remote is not None else None
            if validator:
                headers["If-Range"] = validator
        with self.session.get(transfer.url, headers=headers, stream=True, timeout=self._timeout) as response:
            if response.status_code == RANGE_NOT_SATISFIABLE and offset:
                # What we kept is at least as long as the file now is: it is complete, or it changed.
                if transfer.size is not None and offset == transfer.size:
                    return
                partial.restart()
                bar.reset(total=transfer.size)
                raise _Retry(f"{_status(response)} for bytes {offset}-: starting over", answered=True)
            self._raise_for_status(transfer.url, response, "downloading")
            self._start_body(transfer, response, offset)
            # read1: whatever one socket read brings is kept at once, so a cut loses nothing received.
            while chunk := response.raw.read1(CHUNK_BYTES, decode_content=False):
                partial.append(chunk)
                bar.update(len(chunk))

    def _start_body(self, transfer: _Transfer, response: requests.Response, offset: int) -> None:
        """Check the answer belongs to the file expected, drop kept bytes a full answer replaces,
        and remember the file's facts (the first answer pins them when no probe did)."""
        url, partial, digest = transfer.url, transfer.partial, transfer.digest
        answer = RemoteFile.of(response)
        if transfer.remote is not None and (change := transfer.remote.differs_from(answer)):
            raise DataError(f"downloading {url}: the file changed on the server while it was being "
                            f"downloaded ({change}); run again to download the new version")
        if digest is not None and digest.size is not None and answer.size is not None and answer.size != digest.size:
            raise TransferMismatchError(
                f"downloading {url}: the server offers {answer.size} bytes, but {digest.origin} is for "
                f"{digest.size} bytes; the file at that URL is not the one expected: {other_source_hint()}")
        if response.status_code == PARTIAL_CONTENT:
            match = CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
            if match is None or int(match[1]) != offset:
                partial.restart()
                transfer.bar.reset(total=answer.size)
                raise _Retry(f"the server sent {response.headers.get('Content-Range')!r} for bytes={offset}-",
                             answered=True)
        elif offset:
            # A full body: the server ignores Range, or If-Range saw a new version of the file.
            logger.info("%s answered the whole file to a Range request; starting over", url)
            partial.restart()
            transfer.bar.reset(total=answer.size)
        transfer.remote = transfer.remote or answer
        if answer.size is not None:
            transfer.size = answer.size
            transfer.bar.total = answer.size


@dataclass
class _Transfer:
    """One download in progress: where it goes and what is known so far about the file."""

    url: str
    partial: ResumableFile
    digest: Digest | None
    remote: RemoteFile | None
    size: int | None
    bar: tqdm


def mismatch(path: Path, expected: Expected) -> str | None:
    """Why the finished file is not the one expected: its size, then its SHA-256."""
    size = path.stat().st_size
    if expected.size is not None and size != expected.size:
        return f"its announced size ({size} bytes instead of {expected.size})"
    if expected.digest is not None:
        actual = file_sha256(path)
        if actual != expected.digest.sha256:
            return f"{expected.digest.origin} (sha256 {actual} instead of {expected.digest.sha256})"
    return None
