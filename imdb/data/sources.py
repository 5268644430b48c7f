"""Resolve a data URI to a source: what it is, what its cache key is, and how to read it.

Why keys come from here: only the source knows what "changed" means for it (a local file's
size and mtime, a bucket object's hash, a web file's checksum or its size, ETag and
Last-Modified), and the key is all a warm start needs, so warm starts never read the tarball,
walk a tree's contents or download anything.
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from imdb.data.cache import CorruptCacheError, cache_key, download_path, read_json, source_record_path, write_json
from imdb.data.checksums import Digest, expected_digest, without_fragment
from imdb.data.errors import DataError
from imdb.data.layout import ROOT_DIR, LayoutCollector, canonical_name
from imdb.data.readers import LocalFile, list_layout_files, read_directory, read_tarball
from imdb.data.review import LABEL_DIRS, OFFICIAL_TRAIN
from imdb.data.settings import GCS_SCHEME, HTTP_SCHEMES, other_source_hint
from imdb.data.tables import TableContents, TableSpec, read_table
from imdb.contract.names import table_format

if TYPE_CHECKING:
    # Only for annotations: google-cloud-storage is imported when a gs:// source is used,
    # requests when an http(s):// one is.
    from imdb.data.gcs import GcsLocation, GcsSession, ObjectInfo
    from imdb.data.web import RemoteFile

logger = logging.getLogger(__name__)

TARBALL_SUFFIXES = (".tar.gz", ".tgz")
TARBALL = "tarball"
# Without settings a table is read with these columns (the config's defaults).
DEFAULT_TABLE_SPEC = TableSpec(text_column="text", label_column="label")
FILE_SCHEME = "file"
MAX_NAMES_SHOWN = 5


@dataclass(frozen=True)
class LocalTarball:
    """A ``.tar.gz`` on disk, keyed by its resolved path, size and mtime."""

    uri: str
    path: Path
    index_key: str

    def read(self) -> LayoutCollector:
        return read_tarball(self.path, self.uri)


@dataclass(frozen=True)
class LocalTable:
    """A CSV/TSV/JSON Lines/Parquet file on disk, keyed by its path, size, mtime and column settings."""

    uri: str
    path: Path
    kind: str
    spec: TableSpec
    index_key: str

    def read(self) -> TableContents:
        return read_table(self.path, self.uri, self.kind, self.spec)


def read_local(path: Path, origin: str, kind: str, spec: TableSpec) -> LayoutCollector | TableContents:
    """A downloaded copy, read as what its name says it is: an aclImdb tarball or a table."""
    return read_tarball(path, origin) if kind == TARBALL else read_table(path, origin, kind, spec)


@dataclass(frozen=True)
class LocalDirectory:
    """An ``aclImdb/`` tree on disk, keyed by its path and every layout file's size and mtime."""

    uri: str
    root: Path
    files: tuple[LocalFile, ...]
    index_key: str

    def read(self) -> LayoutCollector:
        return read_directory(list(self.files), self.uri)


@dataclass(frozen=True)
class GcsTarball:
    """One ``*.tar.gz`` object, keyed by its content hash; its download is cached and verified."""

    uri: str
    session: GcsSession
    bucket: str
    info: ObjectInfo
    index_key: str
    root: Path
    kind: str = TARBALL
    spec: TableSpec = DEFAULT_TABLE_SPEC

    @property
    def object_uri(self) -> str:
        return f"{GCS_SCHEME}{self.bucket}/{self.info.name}"

    def read(self) -> LayoutCollector | TableContents:
        return read_local(self.local_copy(), self.object_uri, self.kind, self.spec)

    def local_copy(self) -> Path:
        """The verified local copy, downloaded again when absent or damaged."""
        target = download_path(self.root, cache_key("object", self.info.checksum, self.info.size),
                               _download_suffix(self.info.name, self.kind))
        if target.exists():
            from imdb.data.gcs import file_mismatch

            mismatch = file_mismatch(target, self.info)
            if mismatch is None:
                return target
            logger.warning("cached download %s of %s is damaged (%s); downloading it again",
                           target, self.object_uri, mismatch)
        self.session.download_file(self.bucket, self.info, target)
        return target


@dataclass(frozen=True)
class GcsTree:
    """An ``aclImdb/`` layout stored object by object, keyed by every object's hash.

    Its objects are fetched into memory and indexed at once: the index is its cache, which
    spares tens of thousands of small files (and their fsyncs) under the data root.
    """

    uri: str
    session: GcsSession
    bucket: str
    objects: tuple[tuple[str, ObjectInfo], ...]
    index_key: str

    def read(self) -> LayoutCollector:
        contents = self.session.download_bytes(self.bucket, [info for _, info in self.objects])
        collector = LayoutCollector(self.uri)
        for name, info in self.objects:
            collector.add(name, contents[info.name])
        return collector


@dataclass(frozen=True)
class WebTarball:
    """A ``.tar.gz`` at an http(s) URL, downloaded once into the cache and verified.

    Keyed by its checksum when one is known (published, or pinned with ``#sha256=``): then a
    cached copy is used without asking the server anything. Otherwise keyed by the size, ETag
    and Last-Modified the server reported, so a file that changes there is downloaded anew.
    """

    uri: str
    url: str
    digest: Digest | None
    remote: RemoteFile | None
    index_key: str
    root: Path
    kind: str = TARBALL
    spec: TableSpec = DEFAULT_TABLE_SPEC

    def read(self) -> LayoutCollector | TableContents:
        path = self.local_copy()
        try:
            return read_local(path, self.url, self.kind, self.spec)
        except DataError as exc:
            if self.digest is not None:
                raise
            # Nothing vouched for these bytes but their length: never serve them again.
            path.unlink(missing_ok=True)
            raise DataError(f"{exc}; the downloaded copy was removed from the cache") from None

    def local_copy(self) -> Path:
        """The verified local copy, downloaded (or resumed) when absent or damaged."""
        from imdb.data.web import Expected, WebSession, mismatch

        expected = Expected(self.remote, self.digest)
        target = download_path(self.root, cache_key("web", self.index_key), _download_suffix(self.url, self.kind))
        if target.exists():
            problem = mismatch(target, expected)
            if problem is None:
                return target
            logger.warning("cached download %s of %s does not match %s; downloading it again", target, self.url,
                           problem)
            target.unlink(missing_ok=True)
        if self.digest is None:
            logger.warning("no checksum is known for %s: the download is checked for its length and the aclImdb "
                           "layout only (append #sha256=HEX to the URL to pin it)", self.url)
        WebSession().download(self.url, target, expected, lambda path: mismatch(path, expected) is None)
        return target


@dataclass(frozen=True)
class CachedOnly:
    """A bucket or web server that did not answer; usable only if the index built at its last
    visit is cached."""

    uri: str
    index_key: str
    failure: DataError

    def read(self) -> LayoutCollector:
        raise self.failure


Source = LocalTarball | LocalTable | LocalDirectory | GcsTarball | GcsTree | WebTarball | CachedOnly


def _download_suffix(name: str, kind: str) -> str:
    """The cached copy keeps the kind of file it is (``.tar.gz``, ``.csv.gz``, ...) in its name."""
    if kind == TARBALL:
        return TARBALL_SUFFIXES[0]
    base = name.split("#", 1)[0].split("?", 1)[0].rsplit("/", 1)[-1]
    return "." + ".".join(base.split(".")[1:]) if "." in base else f".{kind}"


def _table_key(kind: str, spec: TableSpec, *facts: object) -> str:
    return cache_key("table", kind, *spec.fingerprint(), *facts)


def resolve_source(uri: str | os.PathLike, root: Path, spec: TableSpec | None = None) -> Source:
    """Identify what ``uri`` points at; raises DataError naming the URI when it is unusable.

    ``spec`` says how a table file's columns are read (the config's columns when omitted).
    """
    text = os.fspath(uri).strip()
    spec = spec or DEFAULT_TABLE_SPEC
    if not text:
        raise DataError(f"the data source is empty: {other_source_hint()}")
    if text.startswith(GCS_SCHEME):
        return _resolve_bucket(text, root, spec)
    if text.lower().startswith(HTTP_SCHEMES):
        return _resolve_web(text, root, spec)
    path = _local_path(text)
    if not path.exists():
        raise DataError(f"data source {text} does not exist: {other_source_hint()}")
    if path.is_dir():
        return _resolve_directory(text, path)
    stat = path.stat()
    kind = table_format(path.name)
    if kind is not None:
        return LocalTable(text, path, kind, spec,
                          _table_key(kind, spec, path.resolve(), stat.st_size, stat.st_mtime_ns))
    return LocalTarball(text, path, cache_key("local-tarball", path.resolve(), stat.st_size, stat.st_mtime_ns))


def _local_path(text: str) -> Path:
    if "://" not in text:
        return Path(text).expanduser()
    parsed = urlparse(text)
    if parsed.scheme != FILE_SCHEME:
        raise DataError(f"unsupported data URI {text}: use a local path, file://PATH, gs://BUCKET/PREFIX or "
                        f"https://.../NAME.tar.gz (see \"Data sources\" in docs/data.md)")
    return Path(unquote(parsed.path))


def _resolve_directory(uri: str, path: Path) -> LocalDirectory:
    root = _find_layout_root(path)
    files = tuple(list_layout_files(root))
    stats = sorted(f"{file.name}:{file.size}:{file.mtime_ns}" for file in files)
    return LocalDirectory(uri, root, files, cache_key("local-directory", root.resolve(), *stats))


def _find_layout_root(path: Path) -> Path:
    """Accept the ``aclImdb`` folder itself or a folder holding it."""
    for candidate in (path, path / ROOT_DIR):
        if all((candidate / OFFICIAL_TRAIN / label).is_dir() for label in LABEL_DIRS):
            return candidate
    try:
        tarballs = sorted(p.name for p in path.iterdir() if p.name.endswith(TARBALL_SUFFIXES))
    except OSError as exc:
        raise DataError(f"cannot list data source {path}: {exc.strerror or exc}") from None
    hint = f" (it holds {', '.join(tarballs[:MAX_NAMES_SHOWN])}: pass the tarball's path instead)" if tarballs else ""
    raise DataError(f"{path} has no {ROOT_DIR}/{OFFICIAL_TRAIN}/pos and "
                    f"{ROOT_DIR}/{OFFICIAL_TRAIN}/neg directories{hint}")


def _resolve_bucket(uri: str, root: Path, spec: TableSpec) -> Source:
    """List the prefix once (cheap) to learn the content keys; fall back to the last visit if unreachable."""
    from imdb.data.gcs import GcsSession, GcsUnreachableError, parse_gs_uri

    location = parse_gs_uri(uri)
    session = GcsSession()
    try:
        objects = session.list_objects(location)
    except GcsUnreachableError as failure:
        previous = _last_visit(root, uri)
        if previous is None:
            raise
        logger.warning("%s; using the index cached for %s (first seen %s)",
                       failure, uri, previous.get("visited", "in an earlier run"))
        return CachedOnly(uri, previous["index_key"], failure)
    source = _classify(uri, location, objects, session, root, spec)
    _record_visit(root, uri, source.index_key)
    return source


def _resolve_web(uri: str, root: Path, spec: TableSpec) -> Source:
    """A checksum-keyed source needs no request; any other URL is probed (cheap) for its facts."""
    url = without_fragment(uri)
    kind = table_format(urlparse(url).path) or TARBALL
    if kind == TARBALL and not urlparse(url).path.endswith(TARBALL_SUFFIXES):
        raise DataError(f"data URL {uri} does not name a .tar.gz or a table (.csv, .tsv, .jsonl, .parquet, "
                        f"optionally .gz): only those can be downloaded (see \"Data sources\" in docs/data.md)")
    table_facts = [] if kind == TARBALL else [kind, *spec.fingerprint()]
    digest = expected_digest(uri)
    if digest is not None:
        return WebTarball(uri, url, digest, None, cache_key("web-sha256", digest.sha256, *table_facts), root,
                          kind, spec)
    from imdb.data.web import HttpUnreachableError, WebSession

    try:
        remote = WebSession().probe(url)
    except HttpUnreachableError as failure:
        previous = _last_visit(root, uri)
        if previous is None:
            raise
        logger.warning("%s; using the index cached for %s (first seen %s)",
                       failure.reason, uri, previous.get("visited", "in an earlier run"))
        return CachedOnly(uri, previous["index_key"], failure)
    source = WebTarball(uri, url, None, remote,
                        cache_key("web-file", url, remote.size, remote.etag, remote.last_modified, *table_facts),
                        root, kind, spec)
    _record_visit(root, uri, source.index_key)
    return source


def _classify(uri: str, location: GcsLocation, objects: list[ObjectInfo], session: GcsSession,
              root: Path, spec: TableSpec) -> GcsTarball | GcsTree:
    tables = [info for info in objects if table_format(info.name)]
    if table_format(uri):
        named = uri.rstrip("/").rsplit("/", 1)[-1]
        tables = [info for info in tables if info.name.rsplit("/", 1)[-1] == named]
        if not tables:
            raise DataError(f"no object {uri} at {session.where()}: {other_source_hint()}")
    if len(tables) == 1 and (table_format(uri) or not any(info.name.endswith(TARBALL_SUFFIXES) for info in objects)):
        info = tables[0]
        kind = table_format(info.name)
        return GcsTarball(uri, session, location.bucket, info,
                          _table_key(kind, spec, info.checksum, info.size), root, kind, spec)
    if len(tables) > 1 and table_format(uri) is None:
        names = ", ".join(info.name for info in tables[:MAX_NAMES_SHOWN])
        raise DataError(f"{uri} holds {len(tables)} table files ({names}); point the URI at one of them")
    tarballs = [info for info in objects if info.name.endswith(TARBALL_SUFFIXES)]
    if len(tarballs) > 1:
        names = ", ".join(info.name for info in tarballs[:MAX_NAMES_SHOWN])
        raise DataError(f"{uri} holds {len(tarballs)} tarballs ({names}); point the URI at one of them")
    if tarballs:
        info = tarballs[0]
        return GcsTarball(uri, session, location.bucket, info, cache_key("tarball", info.checksum, info.size), root)
    tree = tuple((name, info) for info in objects if (name := canonical_name(location.relative(info.name))))
    if not tree:
        raise DataError(f"no aclImdb data under {uri}: expected one *.tar.gz object or "
                        f"{ROOT_DIR}/{OFFICIAL_TRAIN}/{{pos,neg}}/*.txt objects, found {len(objects)} other "
                        f"object(s) at {session.where()}")
    facts = sorted(f"{name}:{info.size}:{info.checksum}" for name, info in tree)
    return GcsTree(uri, session, location.bucket, tree, cache_key("tree", *facts))


def _last_visit(root: Path, uri: str) -> dict[str, str] | None:
    try:
        record = read_json(source_record_path(root, uri))
    except (FileNotFoundError, CorruptCacheError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("index_key"), str):
        return None
    return record


def _record_visit(root: Path, uri: str, index_key: str) -> None:
    """Remember which index this URI resolved to, for use while the bucket is unreachable."""
    previous = _last_visit(root, uri)
    if previous is not None and previous["index_key"] == index_key:
        return
    visited = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    write_json(source_record_path(root, uri), {"uri": uri, "index_key": index_key, "visited": visited})
