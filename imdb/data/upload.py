"""Stage a dataset into ``gs://BUCKET/PREFIX`` so that ``load_corpus`` can read it from there.

Why validate first: the source is indexed (and so checked to be a usable aclImdb layout) before
anything is written, so a bucket never receives a dataset that would fail to load; the index is
cached, so a later local load of the same source is warm.
"""

from __future__ import annotations

import logging
import os

from imdb.data.cache import prepare_data_root
from imdb.data.errors import DataError
from imdb.data.gcs import GcsSession, parse_gs_uri
from imdb.data.index import obtain_index
from imdb.data.sources import GcsTarball, LocalDirectory, LocalTarball, resolve_source

logger = logging.getLogger(__name__)


def upload(source_uri: str | os.PathLike, bucket_uri: str, data_root: str | os.PathLike) -> list[str]:
    """Copy a tarball as one object, or an aclImdb/ tree file by file; return the object names.

    A tarball keeps its file name (``PREFIX/aclImdb-train.tar.gz``); a tree keeps its layout
    (``PREFIX/aclImdb/train/pos/...``) with only the files the loader reads.
    """
    destination = parse_gs_uri(bucket_uri)
    root = prepare_data_root(data_root)
    source = resolve_source(source_uri, root)
    if not isinstance(source, (LocalTarball, LocalDirectory, GcsTarball)):
        raise DataError(f"cannot stage {source.uri}: upload copies a local aclImdb/ directory, "
                        "a local .tar.gz or a tarball object")
    obtain_index(source, root)
    session = GcsSession()
    session.ensure_bucket(destination.bucket)
    if isinstance(source, LocalDirectory):
        pairs = [(file.path, destination.object_name(file.name)) for file in source.files]
        session.upload_files(destination.bucket, pairs)
        names = [name for _, name in pairs]
    else:
        path = source.local_copy() if isinstance(source, GcsTarball) else source.path
        file_name = source.info.name.rsplit("/", 1)[-1] if isinstance(source, GcsTarball) else path.name
        names = [destination.object_name(file_name)]
        session.upload_file(destination.bucket, names[0], path)
    logger.info("staged %d object(s) from %s to %s", len(names), source.uri, destination.uri)
    return names
