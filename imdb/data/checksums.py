"""What a downloaded archive must hash to: published checksums, or the URL's own ``#sha256=`` pin.

Why a table and a fragment: the official archive's checksum is published by the projects that
redistribute it, so the default source is verified without the user doing anything; any other
URL can carry its expected hash the way pip's requirement URLs do (``…/NAME.tar.gz#sha256=HEX``).
A URL without either is still checked for completeness (its Content-Length) and for the
aclImdb tarball layout, which is what the data layer can know without a published hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

from imdb.data.errors import DataError

OFFICIAL_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
SHA256 = "sha256"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Digest:
    """An expected SHA-256 (and size, when it was published too), with where it came from."""

    sha256: str
    size: int | None
    origin: str


# The Large Movie Review Dataset v1.0 (Maas et al., 2011), as TensorFlow Datasets pins it in
# tensorflow_datasets/datasets/imdb_reviews/checksums.tsv (github.com/tensorflow/datasets):
# "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz  84125825  c40f74a1…58fe".
# torchtext's IMDB dataset (torchtext/datasets/imdb.py) pins the same file by its MD5,
# 7c2ac02c03563afcf9b574c7e56c153a. Keyed by host and path: http:// and https:// serve it alike.
PUBLISHED = {
    "ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz": Digest(
        "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe", 84125825,
        "the checksum published for aclImdb_v1.tar.gz (TensorFlow Datasets' imdb_reviews)"),
}


def without_fragment(url: str) -> str:
    """The URL actually requested: the ``#…`` part never goes to the server."""
    return urldefrag(url).url


def expected_digest(url: str) -> Digest | None:
    """The URL's ``#sha256=HEX`` pin, else the published checksum of that file, else None."""
    fragment = urlsplit(url).fragment
    if fragment:
        return _pinned(url, fragment)
    parts = urlsplit(url)
    return PUBLISHED.get(f"{parts.hostname}{parts.path}")


def _pinned(url: str, fragment: str) -> Digest:
    name, _, value = fragment.partition("=")
    value = value.strip().lower()
    if name.strip().lower() != SHA256 or not SHA256_HEX.fullmatch(value):
        raise DataError(f"data URL {url}: the #{fragment} fragment must be #sha256= followed by the "
                        f"archive's 64-digit SHA-256 (as pip's URLs carry it), or be left out")
    return Digest(value, None, "the #sha256= of the URL")
