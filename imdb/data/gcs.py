"""Cloud Storage access: one client, bounded retries, verified transfers, errors that say where.

Why a wrapper: google-cloud-storage retries some failures for minutes and reports others as
deep tracebacks; every call here is bounded by ``$IMDB_GCS_TIMEOUT`` and every failure becomes a
DataError naming the bucket, the endpoint (``STORAGE_EMULATOR_HOST`` or the real API) and the
credentials used, which is what a user needs to fix it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Sequence

import google_crc32c
import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import storage
from google.cloud.storage import transfer_manager
from google.cloud.storage.exceptions import DataCorruption, InvalidResponse
from google.cloud.storage.retry import DEFAULT_RETRY
from google.oauth2 import service_account
from tqdm import tqdm

from imdb.data.cache import cache_file
from imdb.data.errors import DataError
from imdb.data.settings import ENV_AUTH_SECRET, ENV_EMULATOR, GCS_SCHEME, gcs_timeout_s

logger = logging.getLogger(__name__)

SCHEME = GCS_SCHEME
# Anonymous requests are billed to no project, but the client wants a name.
ANONYMOUS_PROJECT = "imdb-leap"
ENV_ENDPOINT_OVERRIDE = "API_ENDPOINT_OVERRIDE"
STORAGE_SCOPES = ("https://www.googleapis.com/auth/devstorage.read_write",)
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
# Threads, not processes: the work is many small requests waiting on the network.
TRANSFER_WORKERS = 8
TRANSFER_BATCH = 256
CONNECT_TIMEOUT_S = 10.0
# Both socket timeouts are also capped at $IMDB_GCS_TIMEOUT: a server that accepts a request
# and then stalls must fail the call within that budget, not after two minutes per attempt.
READ_TIMEOUT_S = 120.0
# A transfer that completes but fails its size or hash check (a flaky proxy or NIC) is fetched
# again from scratch, at most this many times in all; a persistent mismatch then fails.
TRANSFER_ATTEMPTS = 3
HASH_CHUNK_BYTES = 1 << 20
MAX_CAUSE_CHARS = 300
PROGRESS_AUTO = None
_UNREACHABLE = (api_exceptions.RetryError, requests.exceptions.RequestException,
                auth_exceptions.TransportError, ConnectionError, TimeoutError)


class GcsUnreachableError(DataError):
    """The endpoint did not answer in time; callers may fall back to what they cached earlier."""


class TransferMismatchError(DataError):
    """A download arrived whole but does not match the size and hash the listing reported."""


@dataclass(frozen=True)
class GcsLocation:
    """A bucket and a prefix (no leading or trailing slash; empty means the whole bucket)."""

    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{SCHEME}{self.bucket}"

    def object_name(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def contains(self, name: str) -> bool:
        """True for the object named by the prefix itself and for objects below it (not siblings)."""
        return not self.prefix or name == self.prefix or name.startswith(f"{self.prefix}/")

    def relative(self, name: str) -> str:
        if not self.prefix:
            return name
        if name == self.prefix:
            return name.rsplit("/", 1)[-1]
        return name[len(self.prefix) + 1:]


def parse_gs_uri(uri: str) -> GcsLocation:
    """Split ``gs://BUCKET/PREFIX``; the bucket name is checked so typos fail before any request."""
    if not uri.startswith(SCHEME):
        raise DataError(f"{uri!r} is not a gs://BUCKET/PREFIX URI")
    bucket, _, prefix = uri[len(SCHEME):].partition("/")
    if not BUCKET_NAME.fullmatch(bucket):
        raise DataError(f"{uri}: {bucket!r} is not a valid bucket name")
    return GcsLocation(bucket, prefix.strip("/"))


@dataclass(frozen=True)
class ObjectInfo:
    """The metadata of one object that its download is verified against and keyed by."""

    name: str
    size: int
    generation: int
    md5_hash: str | None
    crc32c: str | None

    @classmethod
    def of(cls, blob: storage.Blob) -> ObjectInfo:
        return cls(blob.name, int(blob.size or 0), int(blob.generation or 0), blob.md5_hash, blob.crc32c)

    @property
    def checksum(self) -> str:
        """The content hash GCS reports (md5 is absent for composite objects; crc32c never is)."""
        return f"md5:{self.md5_hash}" if self.md5_hash else f"crc32c:{self.crc32c}"


def content_mismatch(data: bytes, info: ObjectInfo) -> str | None:
    """Why ``data`` is not the object ``info`` describes, or None when size and hash match."""
    if len(data) != info.size:
        return f"size {len(data)} instead of {info.size}"
    return _hash_mismatch(_hashes(io.BytesIO(data)), info)


def file_mismatch(path: Path, info: ObjectInfo) -> str | None:
    """Like ``content_mismatch`` for a file, hashed in chunks."""
    size = path.stat().st_size
    if size != info.size:
        return f"size {size} instead of {info.size}"
    with path.open("rb") as handle:
        return _hash_mismatch(_hashes(handle), info)


def _hashes(stream: BinaryIO) -> tuple[str, str]:
    md5 = hashlib.md5(usedforsecurity=False)
    crc = google_crc32c.Checksum()
    for chunk in iter(lambda: stream.read(HASH_CHUNK_BYTES), b""):
        md5.update(chunk)
        crc.update(chunk)
    return base64.b64encode(md5.digest()).decode("ascii"), base64.b64encode(crc.digest()).decode("ascii")


def _hash_mismatch(actual: tuple[str, str], info: ObjectInfo) -> str | None:
    md5, crc = actual
    if info.md5_hash and md5 != info.md5_hash:
        return f"md5 {md5} instead of {info.md5_hash}"
    if info.crc32c and crc != info.crc32c:
        return f"crc32c {crc} instead of {info.crc32c}"
    return None


def _load_service_account(secret: str) -> tuple[dict[str, Any], str]:
    """Parse ``$AUTH_SECRET``: the key's JSON text itself, or the path of a file holding it."""
    if secret.startswith(("{", "[")):
        text, origin = secret, "JSON text"
    else:
        path = Path(secret).expanduser()
        origin = f"file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"{ENV_AUTH_SECRET} names {origin}, which cannot be read: {exc.strerror or exc}") from None
    try:
        info = json.loads(text)
    except ValueError as exc:
        # The position only: the text is a secret and must not reach logs.
        line = getattr(exc, "lineno", "?")
        raise DataError(f"{ENV_AUTH_SECRET} ({origin}) is not valid JSON (line {line})") from None
    if not isinstance(info, dict):
        raise DataError(f"{ENV_AUTH_SECRET} ({origin}) is not a service-account key (a JSON object)")
    return info, origin


def _credentials() -> tuple[Credentials, str, str]:
    """Anonymous unless ``$AUTH_SECRET`` holds a service-account key; returns (creds, project, description)."""
    secret = os.environ.get(ENV_AUTH_SECRET, "").strip()
    if not secret:
        return AnonymousCredentials(), ANONYMOUS_PROJECT, "anonymous credentials"
    info, origin = _load_service_account(secret)
    try:
        credentials = service_account.Credentials.from_service_account_info(info, scopes=STORAGE_SCOPES)
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{ENV_AUTH_SECRET} ({origin}) is not a usable service-account key: {exc}") from None
    project = info.get("project_id") or ANONYMOUS_PROJECT
    return credentials, project, f"service-account credentials {credentials.service_account_email} ({ENV_AUTH_SECRET})"


def _cause(exc: BaseException) -> BaseException:
    """The last error behind a ``RetryError`` (the error itself otherwise)."""
    return exc.cause if isinstance(exc, api_exceptions.RetryError) and exc.cause else exc


def _answered(exc: BaseException) -> bool:
    """True when retries ran out on HTTP error answers rather than on network failures."""
    return isinstance(_cause(exc), (api_exceptions.GoogleAPICallError, InvalidResponse))


def _brief(exc: BaseException) -> str:
    cause = _cause(exc)
    if isinstance(cause, InvalidResponse):
        # Media downloads report an HTTP error as a tuple of fragments; name the status plainly.
        return f"HTTP {cause.response.status_code} {cause.response.reason or ''} from {cause.response.url}".strip()
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return text[:MAX_CAUSE_CHARS]


class _ProgressWriter:
    """File wrapper that advances a progress bar by the bytes written."""

    def __init__(self, raw: BinaryIO, bar: tqdm) -> None:
        self._raw = raw
        self._bar = bar

    def write(self, data: bytes) -> int:
        self._bar.update(len(data))
        return self._raw.write(data)


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class GcsSession:
    """One storage client plus the facts every error message must name."""

    def __init__(self) -> None:
        credentials, project, self.credentials = _credentials()
        self.timeout_s = gcs_timeout_s()
        self.client = storage.Client(project=project, credentials=credentials)
        self.endpoint = self.client.api_endpoint
        if os.environ.get(ENV_EMULATOR):
            self.endpoint_origin = f"emulator from {ENV_EMULATOR}"
        elif os.environ.get(ENV_ENDPOINT_OVERRIDE):
            self.endpoint_origin = f"from {ENV_ENDPOINT_OVERRIDE}"
        else:
            self.endpoint_origin = "the real Cloud Storage API"
        self._retry = DEFAULT_RETRY.with_timeout(self.timeout_s)
        self._timeout = (min(CONNECT_TIMEOUT_S, self.timeout_s), min(READ_TIMEOUT_S, self.timeout_s))

    def where(self) -> str:
        return f"{self.endpoint} ({self.endpoint_origin}) with {self.credentials}"

    @contextlib.contextmanager
    def _calls(self, doing: str, not_found: str) -> Iterator[None]:
        """Turn library and transport failures inside the block into DataErrors."""
        try:
            yield
        except DataError:
            raise
        except api_exceptions.NotFound:
            raise DataError(f"{doing}: {not_found} at {self.where()}") from None
        except (api_exceptions.Forbidden, api_exceptions.Unauthorized) as exc:
            raise DataError(f"{doing}: access denied at {self.where()}: {_brief(exc)}") from None
        except auth_exceptions.RefreshError as exc:
            raise DataError(f"{doing}: could not get an access token for {self.credentials} "
                            f"(endpoint {self.endpoint}): {_brief(exc)}") from None
        except _UNREACHABLE as exc:
            # A server that answers 5xx until the deadline is reachable, just failing: say which.
            if _answered(exc):
                problem = f"{self.endpoint} ({self.endpoint_origin}) kept failing for {self.timeout_s:g} s"
            else:
                problem = f"cannot reach {self.endpoint} ({self.endpoint_origin}) within {self.timeout_s:g} s"
            raise GcsUnreachableError(f"{doing}: {problem} using {self.credentials}: {_brief(exc)}") from None
        except api_exceptions.GoogleAPICallError as exc:
            raise DataError(f"{doing}: request failed at {self.where()}: {_brief(exc)}") from None
        except DataCorruption as exc:
            raise DataError(f"{doing}: transfer failed its checksum at {self.where()}: {_brief(exc)}") from None

    def list_objects(self, location: GcsLocation) -> list[ObjectInfo]:
        """Every object named by or below the location's prefix (folder placeholders skipped)."""
        with self._calls(f"listing {location.uri}", f"bucket {location.bucket!r} does not exist"):
            blobs = self.client.list_blobs(location.bucket, prefix=location.prefix or None,
                                           retry=self._retry, timeout=self._timeout)
            return [ObjectInfo.of(blob) for blob in blobs
                    if location.contains(blob.name) and not blob.name.endswith("/")]

    def download_file(self, bucket: str, info: ObjectInfo, target: Path) -> None:
        """Download one object to ``target`` atomically, verified against its size and hash.

        Interrupted transfers are resumed by the client's retries; one that completes but fails
        verification is fetched again, up to TRANSFER_ATTEMPTS times. Nothing but a verified
        copy is ever renamed into place.
        """
        uri = f"{SCHEME}{bucket}/{info.name}"
        for attempt in range(1, TRANSFER_ATTEMPTS + 1):
            try:
                self._download_file_once(uri, bucket, info, target)
                return
            except TransferMismatchError as exc:
                if attempt == TRANSFER_ATTEMPTS:
                    raise TransferMismatchError(f"{exc}; gave up after {TRANSFER_ATTEMPTS} attempts") from None
                logger.warning("%s; downloading it again (attempt %d of %d)", exc, attempt + 1, TRANSFER_ATTEMPTS)

    def _download_file_once(self, uri: str, bucket: str, info: ObjectInfo, target: Path) -> None:
        """One attempt: into a locked temp file, verified, then renamed over ``target``."""
        blob = self.client.bucket(bucket).blob(info.name, generation=info.generation)
        with cache_file(target) as tmp, self._calls(f"downloading {uri}", "the object no longer exists"):
            with tmp.open("wb") as handle, tqdm(total=info.size, unit="B", unit_scale=True,
                                                 desc=f"downloading {info.name}", disable=PROGRESS_AUTO) as bar:
                # raw: bytes exactly as stored, so they can be checked against the stored hash.
                blob.download_to_file(_ProgressWriter(handle, bar), raw_download=True, checksum=None,
                                      retry=self._retry, timeout=self._timeout)
            mismatch = file_mismatch(tmp, info)
            if mismatch:
                raise TransferMismatchError(f"downloaded {uri} does not match its metadata ({mismatch}) "
                                            f"at {self.where()}")

    def download_bytes(self, bucket: str, infos: Sequence[ObjectInfo]) -> dict[str, bytes]:
        """Download many small objects concurrently into memory, each verified.

        Objects that fail verification are fetched again, up to TRANSFER_ATTEMPTS times; a
        failure names the object, not just the bucket.
        """
        contents: dict[str, bytes] = {}
        pending = list(infos)
        problem = ""
        with tqdm(total=len(infos), unit="file", desc=f"downloading {SCHEME}{bucket}", disable=PROGRESS_AUTO) as bar:
            for attempt in range(1, TRANSFER_ATTEMPTS + 1):
                failed: list[tuple[ObjectInfo, str]] = []
                for batch in _batches(pending, TRANSFER_BATCH):
                    for info, data in self._fetch_batch(bucket, batch):
                        mismatch = content_mismatch(data, info)
                        if mismatch:
                            failed.append((info, mismatch))
                        else:
                            contents[info.name] = data
                            bar.update(1)
                if not failed:
                    return contents
                problem = self._mismatch_report(bucket, failed)
                if attempt < TRANSFER_ATTEMPTS:
                    logger.warning("%s; downloading again (attempt %d of %d)", problem, attempt + 1, TRANSFER_ATTEMPTS)
                pending = [info for info, _ in failed]
        raise TransferMismatchError(f"{problem}; gave up after {TRANSFER_ATTEMPTS} attempts")

    def _mismatch_report(self, bucket: str, failed: Sequence[tuple[ObjectInfo, str]]) -> str:
        """Name the first object that failed verification, how, and how many others did."""
        info, mismatch = failed[0]
        others = f" (and {len(failed) - 1} other object(s))" if len(failed) > 1 else ""
        return (f"downloaded {SCHEME}{bucket}/{info.name} does not match its metadata ({mismatch}){others} "
                f"at {self.where()}")

    def _fetch_batch(self, bucket: str, batch: Sequence[ObjectInfo]) -> list[tuple[ObjectInfo, bytes]]:
        """One concurrent round of downloads; the first failure is raised naming its object."""
        handle = self.client.bucket(bucket)
        kwargs = {"raw_download": True, "checksum": None, "retry": self._retry, "timeout": self._timeout}
        buffers = [io.BytesIO() for _ in batch]
        pairs = [(handle.blob(info.name, generation=info.generation), buffer)
                 for info, buffer in zip(batch, buffers, strict=True)]
        with self._calls(f"downloading {len(batch)} objects from {SCHEME}{bucket}", "an object no longer exists"):
            # raise_exception=False: the results then say which object failed (all run to the end either way).
            results = transfer_manager.download_many(pairs, download_kwargs=dict(kwargs), raise_exception=False,
                                                     worker_type=transfer_manager.THREAD,
                                                     max_workers=TRANSFER_WORKERS)
        for info, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                with self._calls(f"downloading {SCHEME}{bucket}/{info.name}", "the object no longer exists"):
                    raise result
        return [(info, buffer.getvalue()) for info, buffer in zip(batch, buffers, strict=True)]

    def ensure_bucket(self, bucket: str) -> None:
        """Create the bucket when it does not exist yet (staging into a fresh emulator or project)."""
        with self._calls(f"preparing bucket {bucket!r}", f"bucket {bucket!r} does not exist"):
            if self.client.lookup_bucket(bucket, retry=self._retry, timeout=self._timeout) is not None:
                return
            logger.info("bucket %s does not exist at %s; creating it", bucket, self.where())
            try:
                self.client.create_bucket(bucket, retry=self._retry, timeout=self._timeout)
            except api_exceptions.Conflict:
                logger.info("bucket %s was created concurrently", bucket)

    def upload_file(self, bucket: str, name: str, path: Path) -> None:
        """Upload one file unless an identical object (same size and hash) is already there."""
        uri = f"{SCHEME}{bucket}/{name}"
        handle = self.client.bucket(bucket)
        with self._calls(f"uploading {path} to {uri}", f"bucket {bucket!r} does not exist"):
            existing = handle.get_blob(name, retry=self._retry, timeout=self._timeout)
            if existing is not None and file_mismatch(path, ObjectInfo.of(existing)) is None:
                logger.info("%s already holds %s; not uploading it again", uri, path)
                return
            handle.blob(name).upload_from_filename(str(path), checksum="md5", retry=self._retry, timeout=self._timeout)

    def upload_files(self, bucket: str, pairs: Sequence[tuple[Path, str]]) -> None:
        """Upload many small files concurrently; the library verifies each one's md5."""
        handle = self.client.bucket(bucket)
        kwargs = {"checksum": "md5", "retry": self._retry, "timeout": self._timeout}
        doing = f"uploading {len(pairs)} files to {SCHEME}{bucket}"
        with self._calls(doing, f"bucket {bucket!r} does not exist"), \
                tqdm(total=len(pairs), unit="file", desc=doing, disable=PROGRESS_AUTO) as bar:
            for batch in _batches(pairs, TRANSFER_BATCH):
                jobs = [(str(path), handle.blob(name)) for path, name in batch]
                transfer_manager.upload_many(jobs, upload_kwargs=dict(kwargs), raise_exception=True,
                                             worker_type=transfer_manager.THREAD, max_workers=TRANSFER_WORKERS)
                bar.update(len(batch))
