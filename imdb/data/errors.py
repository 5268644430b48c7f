"""The one exception type the data layer lets escape.

Why: callers (the CLI, the Tensorleap integration) must be able to turn every data problem into
one clear line without knowing about tarfile, zlib or google-api-core; the message always names
the file, URI, id, bucket or setting at fault.
"""

from __future__ import annotations


class DataError(Exception):
    """A user-facing data problem; ``str(error)`` is a complete, human-readable explanation."""


class UnknownSampleError(DataError, KeyError):
    """A sample id the corpus does not hold.

    It is a ``KeyError`` too, so mapping-style callers that catch ``KeyError`` keep working.
    """

    def __str__(self) -> str:
        # KeyError would print the repr of the message (quoted); keep the plain sentence.
        return str(self.args[0]) if self.args else ""
