"""The IMDB data layer: load the aclImdb reviews from a directory, a tarball or a bucket.

Public API: ``load_corpus`` returns a ``Corpus`` of ``Review``s with training / validation
(/ test) splits; ``upload`` stages a dataset into a bucket; ``describe`` counts a corpus; every
user-facing failure is a ``DataError``.
"""

from imdb.data.corpus import Corpus, describe, load_corpus
from imdb.data.errors import DataError
from imdb.data.review import Review
from imdb.data.upload import upload

__all__ = ["Corpus", "DataError", "Review", "describe", "load_corpus", "upload"]
