"""The IMDB data layer: load the aclImdb reviews from a directory, a tarball, a bucket or a URL.

Public API: ``load_corpus`` returns a ``Corpus`` of ``Review``s with training / validation
(/ test) splits; ``describe`` counts a corpus; every user-facing failure is a ``DataError``.
``imdb.data.upload.upload`` stages a dataset into a bucket. google-cloud-storage is imported
only when a ``gs://`` source or destination is used (``imdb.data.gcs``), requests only for an
``https://`` one (``imdb.data.web``).
"""

from imdb.data.corpus import Corpus, describe, load_corpus
from imdb.data.errors import DataError
from imdb.data.review import Review

__all__ = ["Corpus", "DataError", "Review", "describe", "load_corpus"]
